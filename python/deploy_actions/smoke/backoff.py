"""When to poll next. Starts fast so a service that is nearly ready is seen at once, then
backs off to a cap so a slow start is not hammered; the cap also bounds how late a
flip to ready is noticed (half the cap on average)."""

from __future__ import annotations

from collections.abc import Iterator

FACTOR = 1.5


def intervals(initial: float, cap: float, factor: float = FACTOR) -> Iterator[float]:
    """Seconds between the starts of consecutive polls: initial, ×factor each time, at most cap."""
    current = min(initial, cap)
    while True:
        yield current
        current = min(current * factor, cap)


def pause(interval: float, spent: float, remaining: float) -> float:
    """How long to sleep after a poll that took `spent`: keep polls `interval` apart
    (start to start, so the request rate stays bounded) and never sleep past the deadline."""
    return max(0.0, min(interval - spent, remaining))
