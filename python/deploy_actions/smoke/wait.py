"""Polling until /ready answers. Clock and sleep are parameters so the loop is tested
with a fake clock and measured with a real one."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from deploy_actions.smoke.backoff import intervals, pause, phase
from deploy_actions.smoke.expect import status_ok
from deploy_actions.smoke.http import Response


@dataclass
class Outcome:
    ready: bool
    attempts: int
    seconds: float  # from the first poll to the ready answer, or to giving up
    last: Response | None
    slack: float = 0.0  # the last pause before the ready answer: at most this late noticing it


def wait_ready(
    probe: Callable[[float], Response],
    *,
    accept: tuple[int, ...],
    timeout: float,
    request_timeout: float,
    initial: float,
    cap: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    on_attempt: Callable[[int, Response, float], None] | None = None,
    rng: random.Random | None = None,
) -> Outcome:
    """Poll `probe(request_timeout)` until it answers an accepted status or `timeout` passes.
    The last poll's own timeout is cut to what is left, so the deadline holds."""
    start = clock()
    deadline = start + timeout
    attempts = 0
    slept = 0.0
    last: Response | None = None
    extra = phase(min(initial, cap), rng)  # the first pause only (see backoff)
    for interval in intervals(initial, cap):
        began = clock()
        remaining = deadline - began
        if attempts and remaining <= 0:
            break
        last = probe(max(min(request_timeout, remaining), 0.05))
        attempts += 1
        now = clock()
        if last.failure is None and last.status is not None and status_ok(last.status, accept):
            return Outcome(True, attempts, now - start, last, slept)
        if on_attempt:
            on_attempt(attempts, last, now - start)
        if deadline - now <= 0:
            break
        slept = pause(interval + extra, now - began, deadline - now)
        extra = 0.0
        sleep(slept)
    return Outcome(False, attempts, clock() - start, last)
