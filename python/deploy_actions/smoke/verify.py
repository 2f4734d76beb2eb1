"""Readiness, the check every action shares: wait until `/ready` answers (not `/health`),
check health once, then run the smoke calls — smoke-ready, build-push's boot check and the
deploys' gates all call `verify`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from deploy_actions import timing
from deploy_actions.console import Reporter
from deploy_actions.results import Problem
from deploy_actions.smoke import spec as spec_file
from deploy_actions.smoke.expect import judge
from deploy_actions.smoke.http import Client, Response
from deploy_actions.smoke.report import Check, diagnose, results_document
from deploy_actions.smoke.wait import wait_ready
from deploy_actions.values import format_duration, plural

# A steady poll every 100 ms (each pause up to 10 % longer, see backoff): a flip to ready is
# seen about 50 ms later on average, at no more than 10 requests a second.
INTERVAL = 0.1
MAX_INTERVAL = 0.1
REQUEST_TIMEOUT = 10.0


@dataclass(frozen=True)
class Readiness:
    """What to wait for and check. The defaults are the ones every caller shares (build-push's
    boot check, the deploys); smoke-ready's inputs set each field explicitly."""

    url: str
    ready_path: str = "/ready"
    health_path: str | None = None
    expected_status: tuple[int, ...] = (200,)
    timeout: float = 60.0
    request_timeout: float = REQUEST_TIMEOUT
    interval: float = INTERVAL
    max_interval: float = MAX_INTERVAL
    headers: dict[str, str] = field(default_factory=dict)
    insecure: bool = False
    ca_bundle: str | None = None
    follow_redirects: bool = True
    connect_to: dict[str, str] = field(default_factory=dict)  # host name → address (never resolved)
    smoke_spec: str | None = None
    calls: tuple[spec_file.Call, ...] = ()


def _said(reporter: Reporter, check: Check) -> Check:
    """One line per finished check, as it finishes; the failures become the Verdict's problems."""
    if check.ok:
        reporter.success(f"{check.name}: {check.method} {check.path} → {check.message}")
    else:
        body = f"; body: {check.body}" if check.body else ""  # often the reason: `/ready` says what it waits for
        reporter.info(f"✘ {check.name}: {check.method} {check.path} → {check.failure}: {check.message}{body}")
    return check


def run_calls(client: Client, inputs: Readiness, deadline: float, remaining, reporter: Reporter) -> list[Check]:
    """Every smoke call in order; all run even after a failure, so one report shows every broken endpoint."""
    checks = []
    for call in inputs.calls:
        if time.monotonic() >= deadline:
            checks.append(
                _said(
                    reporter,
                    Check(
                        call.name,
                        call.method,
                        call.path,
                        False,
                        None,
                        None,
                        "timeout",
                        "not run: the overall timeout passed",
                        line=call.line,
                    ),
                )
            )
            continue
        response = client.request(
            call.method,
            inputs.url + call.path,
            timeout=remaining(),
            headers=call.headers,
            json_body=call.json if call.has_json else None,
        )
        failure, message = judge(
            response,
            statuses=call.statuses,
            json_values=call.json_values,
            schema=call.schema,
            max_latency=call.max_latency,
        )
        checks.append(
            _said(reporter, Check.of(call.name, call.method, call.path, response, failure, message, call.line))
        )
    return checks


@dataclass
class Verdict:
    ok: bool
    document: dict
    diagnosis: str | None
    problems: tuple[Problem, ...] = ()  # one per failed check, at its smoke spec line: the caller's Result annotates


def verify(inputs: Readiness, reporter: Reporter) -> Verdict:
    """Wait for ready, check health, run the calls; print each result as it comes, and return
    the failures as problems for the caller's Result. The check smoke-ready runs, and the
    gate of build-push's boot check and of the deploys."""
    client = Client(
        headers=inputs.headers,
        verify=not inputs.insecure,
        ca_bundle=inputs.ca_bundle,
        follow_redirects=inputs.follow_redirects,
        connect_to=inputs.connect_to,
    )
    deadline = time.monotonic() + inputs.timeout
    accepted = " or ".join(map(str, inputs.expected_status))
    if inputs.insecure:
        reporter.warning(
            "TLS certificate verification is off (insecure: true); never use this in production", title="smoke-ready"
        )
    reporter.info(
        f"smoke-ready {inputs.url}: waiting for {inputs.ready_path} to answer {accepted} "
        f"(timeout {format_duration(inputs.timeout)})"
    )

    def probe(timeout: float) -> Response:
        return client.request("GET", inputs.url + inputs.ready_path, timeout=timeout)

    def on_attempt(attempt: int, response: Response, elapsed: float) -> None:
        reporter.progress(
            f"  waiting for {inputs.ready_path}: {format_duration(elapsed)}, attempt {attempt}, "
            f"last {response.describe()}"
        )

    outcome = wait_ready(
        probe,
        accept=inputs.expected_status,
        timeout=inputs.timeout,
        request_timeout=inputs.request_timeout,
        initial=inputs.interval,
        cap=inputs.max_interval,
        on_attempt=on_attempt,
    )
    checks: list[Check] = []
    last = outcome.last or Response(url=inputs.url + inputs.ready_path, failure="timeout")
    if outcome.ready:
        timing.add("polling", outcome.slack)
        checks.append(Check.of("ready", "GET", inputs.ready_path, last, None, f"HTTP {last.status}"))
        reporter.success(
            f"{inputs.ready_path} answered {last.status} after {format_duration(outcome.seconds)} "
            f"({plural(outcome.attempts, 'attempt')})"
        )
    else:
        message = (
            f"did not answer {accepted} within {format_duration(inputs.timeout)} "
            f"({plural(outcome.attempts, 'attempt')}); last: {last.describe()}"
        )
        checks.append(
            _said(reporter, Check.of("ready", "GET", inputs.ready_path, last, last.failure or "wrong-status", message))
        )

    def remaining() -> float:
        return max(0.05, min(inputs.request_timeout, deadline - time.monotonic()))

    health = None
    if inputs.health_path:
        health = client.request("GET", inputs.url + inputs.health_path, timeout=remaining())
        failure, message = judge(health)
        check = Check.of("health", "GET", inputs.health_path, health, failure, message)
        checks.append(_said(reporter, check))

    if outcome.ready and inputs.calls:
        with reporter.group(f"smoke calls from {inputs.smoke_spec}"):
            checks += run_calls(client, inputs, deadline, remaining, reporter)

    ready_after_ms = round(outcome.seconds * 1000) if outcome.ready else None
    doc = results_document(inputs.url, outcome.ready, ready_after_ms, outcome.attempts, checks)
    diagnosis = None if outcome.ready else diagnose(outcome.last, health, inputs.ready_path, inputs.health_path)
    problems: list[Problem] = []
    for check in checks:
        if check.ok:
            continue
        text = f"{check.method} {inputs.url}{check.path} {check.message}"
        if check.name == "ready" and diagnosis:
            text += f" — {diagnosis}"
        if check.body:
            text += f"; body: {check.body}"
        on_spec = inputs.smoke_spec if check.line else None
        problems.append(
            Problem("error", text, title=f"smoke-ready: {check.name} ({check.failure})", file=on_spec, line=check.line)
        )
    failed = sum(not c.ok for c in checks)
    if failed:
        reporter.info(f"smoke-ready: {failed} of {len(checks)} checks failed")
    else:
        reporter.success(f"smoke-ready: all {len(checks)} checks passed")
    return Verdict(not failed, doc, diagnosis, tuple(problems))
