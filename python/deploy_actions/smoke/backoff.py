"""When to poll next. Starts at `initial` and may back off to a cap so a slow start is not
hammered; the cap also bounds how late a flip to ready is noticed (half the cap at the
median). By default both are 100 ms: a steady poll, never more than 10 a second.

Runners that start together must not poll in step: the first pause is lengthened once, by a
random share of up to a whole interval, which spreads them over the interval for good.
After that the cadence is exact: jitter on every pause would only lengthen the mean gap,
and with it the wait for the poll after a flip (half the mean gap at the median)."""

from __future__ import annotations

import random
from collections.abc import Iterator

FACTOR = 1.5


def intervals(initial: float, cap: float, factor: float = FACTOR) -> Iterator[float]:
    """Seconds between the starts of consecutive polls: initial, ×factor each time, at most cap."""
    current = min(initial, cap)
    while True:
        yield current
        current = min(current * factor, cap)


def phase(interval: float, rng: random.Random | None = None) -> float:
    """The random lengthening of the first pause: [0, interval)."""
    return (rng or random).random() * interval


def pause(interval: float, spent: float, remaining: float) -> float:
    """How long to sleep after a poll that took `spent`: keep polls `interval` apart
    (start to start, so the request rate stays bounded) and never sleep past the deadline."""
    return max(0.0, min(interval - spent, remaining))
