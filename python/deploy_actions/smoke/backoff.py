"""When to poll next. Starts at `initial` and may back off to a cap so a slow start is not
hammered; the cap also bounds how late a flip to ready is noticed (half the cap on
average). By default both are 100 ms: a steady poll. Each pause is lengthened by a random
share of up to 10 %, so runners that start together do not poll in step; never shortened,
so no runner polls more than 10 times a second."""

from __future__ import annotations

import random
from collections.abc import Iterator

FACTOR = 1.5
JITTER = 0.1  # each pause is up to 10 % longer than its nominal length


def intervals(
    initial: float, cap: float, factor: float = FACTOR, jitter: float = 0.0, rng: random.Random | None = None
) -> Iterator[float]:
    """Seconds between the starts of consecutive polls: initial, ×factor each time, at most
    cap; each one scaled by a random factor in [1, 1 + jitter]."""
    draw = (rng or random.Random()).uniform
    current = min(initial, cap)
    while True:
        yield current * draw(1, 1 + jitter) if jitter else current
        current = min(current * factor, cap)


def pause(interval: float, spent: float, remaining: float) -> float:
    """How long to sleep after a poll that took `spent`: keep polls `interval` apart
    (start to start, so the request rate stays bounded) and never sleep past the deadline."""
    return max(0.0, min(interval - spent, remaining))
