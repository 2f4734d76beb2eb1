import itertools
import random

from deploy_actions.smoke.backoff import intervals, pause, phase
from deploy_actions.smoke.http import Response
from deploy_actions.smoke.wait import wait_ready


def test_intervals_start_fast_and_stop_at_the_cap():
    assert [round(i, 4) for i in itertools.islice(intervals(0.1, 0.25), 5)] == [0.1, 0.15, 0.225, 0.25, 0.25]
    assert list(itertools.islice(intervals(5, 2), 2)) == [2, 2]


def test_pause_keeps_starts_apart_and_respects_the_deadline():
    assert pause(0.25, 0.05, 10) == 0.2
    assert pause(0.25, 0.4, 10) == 0.0
    assert pause(2.0, 0.0, 0.3) == 0.3


class FakeTime:
    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def probe_from(fake: FakeTime, ready_at: float, cost: float = 0.01):
    calls = []

    def probe(timeout: float) -> Response:
        calls.append((fake.now, timeout))
        fake.now += cost
        if fake.now >= ready_at:
            return Response(url="u", status=200)
        return Response(url="u", status=503)

    return probe, calls


def waited(fake: FakeTime, probe, **settings):
    """wait_ready on the fake clock; settings override a steady 100 ms poll for status 200."""
    defaults = {"accept": (200,), "request_timeout": 1, "initial": 0.1, "cap": 0.1}
    return wait_ready(probe, clock=fake.clock, sleep=fake.sleep, **{**defaults, **settings})


def test_becomes_ready_and_counts_attempts():
    fake = FakeTime()
    probe, calls = probe_from(fake, ready_at=1.0)
    outcome = waited(fake, probe, timeout=10, request_timeout=5, cap=0.25)
    assert outcome.ready and outcome.attempts == len(calls)
    assert 1.0 <= outcome.seconds < 1.0 + 0.25 + 0.01  # noticed within one capped interval
    starts = [t for t, _ in calls]
    assert all(b - a >= 0.1 - 1e-9 for a, b in zip(starts, starts[1:], strict=False))  # never > 10 req/s


def test_gives_up_at_the_deadline_and_shortens_the_last_request():
    fake = FakeTime()
    probe, calls = probe_from(fake, ready_at=99)
    attempts_seen = []
    outcome = waited(
        fake, probe, timeout=1.0, request_timeout=5, cap=0.25, on_attempt=lambda n, r, e: attempts_seen.append(n)
    )
    assert not outcome.ready
    assert outcome.last.status == 503
    assert attempts_seen == list(range(1, outcome.attempts + 1))
    assert fake.now <= 1.0 + 0.011
    assert all(timeout <= 1.0 for _, timeout in calls)


def test_transport_failures_are_retried_until_an_accepted_status():
    fake = FakeTime()
    answers = iter([Response(url="u", failure="connection-refused"), Response(url="u", status=204)])
    outcome = waited(fake, lambda t: next(answers), accept=(200, 204), timeout=5)
    assert outcome.ready and outcome.attempts == 2 and outcome.last.status == 204


def test_the_first_pause_alone_is_lengthened_and_the_cadence_is_then_exact():
    fake = FakeTime()
    probe, calls = probe_from(fake, ready_at=99, cost=0.01)
    waited(fake, probe, timeout=2.0, rng=random.Random(7))
    gaps = [round(b - a, 9) for (a, _), (b, _) in zip(calls, calls[1:], strict=False)]
    assert 0.1 <= gaps[0] < 0.2 and gaps[0] == round(0.1 + phase(0.1, random.Random(7)), 9)
    assert set(gaps[1:-1]) == {0.1}  # never faster than 10 a second, never slower either


def test_runners_that_start_together_spread_over_the_interval():
    offsets = [phase(0.1, random.Random(seed)) for seed in range(1000)]
    assert all(0 <= o < 0.1 for o in offsets)
    assert sum(o < 0.05 for o in offsets) in range(400, 600)  # not bunched at either end
    assert max(offsets) - min(offsets) > 0.09
