"""The canary strategy's rules, pure: its inputs, the weighted route the host's shared proxy
runs at each step, and the verdict on a step from what the proxy measured.

At a step the router sends `weight` % of the app's new visitors to the new copy and the rest
to the live one, by weighted round robin; Caddy's cookie policy then keeps each visitor on
the copy it first reached (a visitor moves only from the live copy to the new one, as the
steps grow). The router's access log records which copy answered each request, with its
status and duration: the analysis reads that log, never the app.

Latency is judged on the new copy's p95 as far as its sample proves it: the lower bound of
its 99% confidence interval, against the live copy's p95. A step's new copy often answers a
few hundred requests, and a p95 over so few swings with every burst of load on the host (a
handful of slow requests more moves it); a copy that is really slower moves the bound too.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass

from deploy_actions.errors import UsageError
from deploy_actions.options import Option
from deploy_actions.values import parse_duration, parse_int, parse_list

SHORTEST_WINDOW = 10.0  # seconds: the least traffic a step is judged on
LATENCY_FLOOR_MS = 10.0  # a canary's p95 within this of the live copy's is never called slow

OPTIONS = (
    Option(
        "canary-steps",
        "canary: the share of new visitors sent to the new copy at each step, increasing, e.g. `5%,25%,50%`; "
        "after the last step passes, every user is switched to it.",
        default="10%,50%",
    ),
    Option(
        "canary-interval",
        "canary: how long each step lasts; its traffic is then judged (10s at least).",
        default="60s",
    ),
    Option(
        "canary-max-error-rate",
        "canary: how many percentage points the new copy's share of failed requests (5xx, including "
        "the proxy's 502 when it cannot reach the copy) may exceed the live copy's over the same window.",
        default="1%",
    ),
    Option(
        "canary-max-latency-ratio",
        "canary: how many times the live copy's p95 latency the new copy's may reach, judged with 99% "
        "confidence on the requests it answered (differences under 10 ms never fail a step).",
        default="2",
    ),
    Option(
        "canary-min-requests",
        "canary: the fewest requests the new copy must answer in a step for it to be judged; fewer fails the step.",
        default="50",
    ),
)


@dataclass(frozen=True)
class Canary:
    steps: tuple[int, ...]  # percent, increasing, each 1–99
    interval: float
    max_error_points: float
    max_latency_ratio: float
    min_requests: int


def _percent(text: str, input_name: str, low: float, high: float) -> float:
    raw = text.strip()
    number = raw[:-1].strip() if raw.endswith("%") else raw
    try:
        value = float(number)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not low <= value <= high:
        raise UsageError(f"expected a percentage from {low:g}% to {high:g}%, got {raw!r}", input=input_name)
    return value


def parse(raw: Mapping[str, str]) -> Canary:
    items = parse_list(raw["canary-steps"])
    if not items:
        raise UsageError("expected one or more steps such as 5%,25%,50%", input="canary-steps")
    steps: list[int] = []
    for item in items:
        value = _percent(item, "canary-steps", 1, 99)
        if value != int(value):
            raise UsageError(f"expected whole percentages, got {item!r}", input="canary-steps")
        if steps and value <= steps[-1]:
            raise UsageError(
                f"expected increasing steps, got {item!r} after {steps[-1]}% (100% is the switch after the last step)",
                input="canary-steps",
            )
        steps.append(int(value))
    interval = parse_duration(raw["canary-interval"], "canary-interval", minimum=1)
    if interval < SHORTEST_WINDOW:
        raise UsageError(
            f"expected {SHORTEST_WINDOW:g}s or more: a step is judged on the traffic of its whole interval, "
            f"got {raw['canary-interval'].strip()!r}",
            input="canary-interval",
        )
    ratio_text = raw["canary-max-latency-ratio"].strip()
    try:
        ratio = float(ratio_text)
    except ValueError:
        ratio = math.nan
    if not math.isfinite(ratio) or not 1 <= ratio <= 100:
        raise UsageError(f"expected a number from 1 to 100, got {ratio_text!r}", input="canary-max-latency-ratio")
    return Canary(
        steps=tuple(steps),
        interval=interval,
        max_error_points=_percent(raw["canary-max-error-rate"], "canary-max-error-rate", 0, 100),
        max_latency_ratio=ratio,
        min_requests=parse_int(raw["canary-min-requests"], "canary-min-requests", minimum=1, maximum=10_000_000),
    )


def route_lines(route_lines_of_live: str, app_token: str) -> str:
    """The app's routes at a canary step, from its usual ones: the same matches, the upstreams
    the live and the new copy with weights, sticky by cookie, and the answering copy's port in
    the access log. Tokens %STABLE% %CANARY% %WSTABLE% %WCANARY% %SECRET% are filled on the host."""
    lines = []
    for line in route_lines_of_live.splitlines():
        order, _, text = line.partition("\t")
        route = json.loads(text)
        route["handle"] = [
            {"handler": "log_append", "key": "copy", "value": "{http.reverse_proxy.upstream.port}"},
            {
                "handler": "reverse_proxy",
                "upstreams": [{"dial": "%STABLE%"}, {"dial": "%CANARY%"}],
                "load_balancing": {
                    "selection_policy": {
                        "policy": "cookie",
                        "name": f"deploy_actions_{app_token}",
                        "secret": "%SECRET%",
                        "fallback": {"policy": "weighted_round_robin", "weights": ["%WSTABLE%", "%WCANARY%"]},
                    }
                },
            },
        ]
        text = json.dumps(route, separators=(",", ":"))
        text = text.replace('"%WSTABLE%"', "%WSTABLE%").replace('"%WCANARY%"', "%WCANARY%")  # numbers in the JSON
        lines.append(f"{order}\t{text}")
    return "\n".join(lines)


@dataclass(frozen=True)
class Sample:
    """What the proxy measured for one copy over one step's window."""

    requests: int
    errors: int
    p95_ms: float
    p95_low_ms: float  # the lower bound of p95's 99% confidence interval

    @property
    def error_rate(self) -> float:
        return 100.0 * self.errors / self.requests if self.requests else 0.0

    def as_dict(self) -> dict:
        return {
            "requests": self.requests,
            "errors": self.errors,
            "p95_ms": round(self.p95_ms, 1),
            "p95_low_ms": round(self.p95_low_ms, 1),
        }


def parse_sample(text: str) -> Sample:
    """`requests,errors,p95_ms,p95_low_ms` as the host reports it (an empty window: 0,0,0,0)."""
    try:
        requests, errors, p95, low = text.split(",")
        return Sample(int(requests), int(errors), float(p95), float(low))
    except ValueError:
        return Sample(0, 0, 0.0, 0.0)


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str  # why the step failed, or what it measured


def latency_limit(live_p95_ms: float, max_latency_ratio: float) -> float:
    """The p95 (ms) a new copy is called slow above: the allowed ratio of the live copy's, and
    never within LATENCY_FLOOR_MS of it."""
    return max(max_latency_ratio * live_p95_ms, live_p95_ms + LATENCY_FLOOR_MS)


def judge(live: Sample, new: Sample, rules: Canary) -> Verdict:
    """A step passes when the new copy answered enough requests, failed no more often than the
    live copy by more than the allowed points, and was not shown slower at p95 than the allowed
    ratio: even the lower bound of its p95 must exceed the limit to fail it."""
    measured = (
        f"new copy {new.requests} requests, {new.error_rate:.1f}% failed, p95 {new.p95_ms:.0f} ms; "
        f"live copy {live.requests} requests, {live.error_rate:.1f}% failed, p95 {live.p95_ms:.0f} ms"
    )
    if new.requests < rules.min_requests:
        return Verdict(
            False,
            f"the new copy answered {new.requests} requests, fewer than canary-min-requests "
            f"({rules.min_requests}): too few to judge ({measured})",
        )
    if new.error_rate - live.error_rate > rules.max_error_points:
        return Verdict(
            False,
            f"the new copy failed {new.error_rate:.1f}% of its requests against {live.error_rate:.1f}% on the live "
            f"copy, more than canary-max-error-rate ({rules.max_error_points:g} points) above it ({measured})",
        )
    if live.requests and new.p95_low_ms > latency_limit(live.p95_ms, rules.max_latency_ratio):
        return Verdict(
            False,
            f"the new copy's p95 was {new.p95_ms:.0f} ms (at least {new.p95_low_ms:.0f} ms with 99% confidence) "
            f"against {live.p95_ms:.0f} ms on the live copy, more than canary-max-latency-ratio "
            f"({rules.max_latency_ratio:g}×) ({measured})",
        )
    return Verdict(True, measured)
