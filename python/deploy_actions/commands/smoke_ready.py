"""smoke-ready: wait until the service says it is ready for traffic (`/ready`, not
`/health`), then run the smoke calls — the same check locally, on stage and in production."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from deploy_actions import timing
from deploy_actions.console import Reporter
from deploy_actions.errors import EXIT_CHECK_FAILED, EXIT_OK, UsageError
from deploy_actions.options import Command, Option
from deploy_actions.smoke import spec as spec_file
from deploy_actions.smoke.expect import judge
from deploy_actions.smoke.http import Client, Response
from deploy_actions.smoke.report import Check, diagnose, results_document, summary_markdown
from deploy_actions.smoke.wait import wait_ready
from deploy_actions.values import (
    format_duration,
    parse_bool,
    parse_duration,
    parse_headers,
    parse_http_url,
    parse_path,
    parse_status_list,
    plural,
)

OPTIONS = (
    Option("url", "Base URL of the service, e.g. http://127.0.0.1:8000 (paths are appended to it).",
           required=True),
    Option("ready-path", "Readiness endpoint: answers the expected status only when the service can serve "
           "traffic (database reachable, migrations applied).", default="/ready"),
    Option("health-path", "Liveness endpoint (process up), checked once the service is ready and used to "
           "explain a failure; `none` turns it off.", default="/health"),
    Option("expected-status", "Status (or comma-separated statuses) that means ready.", default="200"),
    Option("timeout", "Overall deadline for becoming ready and running the smoke calls, e.g. 120s or 2m.",
           default="120s"),
    Option("request-timeout", "Deadline for each single request.", default="10s"),
    Option("interval", "First pause between polls of the ready endpoint; it grows 1.5x per poll up to "
           "max-interval.", default="100ms"),
    Option("max-interval", "Longest pause between polls; also bounds how late a switch to ready is noticed.",
           default="200ms"),
    Option("headers", "Extra request headers, one `Name: value` per line, sent with every request; "
           "the values are masked in logs.", secret=True),
    Option("insecure", "Skip TLS certificate verification (never for production; prefer ca-bundle).",
           default="false", switch=True),
    Option("ca-bundle", "Path to a PEM file of CA certificates to trust for https URLs."),
    Option("follow-redirects", "Follow 3xx redirects; when false a redirect is the answer.",
           default="true", switch=True),
    Option("spec", "Path to a smoke spec (YAML) of calls to run once ready; see smoke-ready/README.md."),
)

OUTPUTS = {
    "ready": "`true` when the ready endpoint answered the expected status before the deadline, else `false`.",
    "ready-after-ms": "Milliseconds from the first poll until the service was ready (empty when it never was).",
    "attempts": "How many times the ready endpoint was polled.",
    "results": "JSON document: url, ready, ready_after_ms, attempts, ok and one entry per check "
               "(name, method, path, ok, status, latency_ms, failure, message, body).",
}


@dataclass(frozen=True)
class Inputs:
    url: str
    ready_path: str
    health_path: str | None
    expected_status: tuple[int, ...]
    timeout: float
    request_timeout: float
    interval: float
    max_interval: float
    headers: dict[str, str] = field(default_factory=dict)
    insecure: bool = False
    ca_bundle: str | None = None
    follow_redirects: bool = True
    spec_path: str | None = None
    calls: tuple[spec_file.Call, ...] = ()


def parse_inputs(raw: Mapping[str, str], env: Mapping[str, str] | None = None) -> Inputs:
    interval = parse_duration(raw["interval"], "interval", minimum=0.01)
    max_interval = parse_duration(raw["max-interval"], "max-interval", minimum=0.01)
    if max_interval < interval:
        raise UsageError(f"expected at least interval ({raw['interval']}), got {raw['max-interval']!r}",
                         input="max-interval")
    ca_bundle = raw["ca-bundle"].strip() or None
    if ca_bundle and not os.path.isfile(ca_bundle):
        raise UsageError(f"expected a readable PEM file, but {ca_bundle!r} does not exist", input="ca-bundle")
    spec_path = raw["spec"].strip() or None
    return Inputs(
        url=parse_http_url(raw["url"], "url"),
        ready_path=parse_path(raw["ready-path"], "ready-path"),  # type: ignore[arg-type]
        health_path=parse_path(raw["health-path"], "health-path", allow_none=True),
        expected_status=parse_status_list(raw["expected-status"], "expected-status"),
        timeout=parse_duration(raw["timeout"], "timeout", minimum=0.001),
        request_timeout=parse_duration(raw["request-timeout"], "request-timeout", minimum=0.001),
        interval=interval, max_interval=max_interval,
        headers=parse_headers(raw["headers"], "headers"),
        insecure=parse_bool(raw["insecure"], "insecure"),
        ca_bundle=ca_bundle,
        follow_redirects=parse_bool(raw["follow-redirects"], "follow-redirects"),
        spec_path=spec_path,
        calls=tuple(spec_file.load(spec_path)) if spec_path else (),
    )


def secrets(inputs: Inputs) -> list[str]:
    """Header values and any password in the URL, masked before anything is printed. Spec
    headers are not: the spec is a committed file, and masking `application/json` would
    blank it out of every log line."""
    values = list(inputs.headers.values())
    password = urlsplit(inputs.url).password
    if password:
        values.append(password)
    return values


def _said(reporter: Reporter, check: Check) -> Check:
    """One line per finished check, as it finishes; failures are annotated later, together."""
    if check.ok:
        reporter.success(f"{check.name}: {check.method} {check.path} → {check.message}")
    else:
        reporter.info(f"✘ {check.name}: {check.method} {check.path} → {check.failure}: {check.message}")
    return check


def run_calls(client: Client, inputs: Inputs, deadline: float, remaining, reporter: Reporter) -> list[Check]:
    """Every smoke call in order; all run even after a failure, so one report shows every broken endpoint."""
    checks = []
    for call in inputs.calls:
        if time.monotonic() >= deadline:
            checks.append(_said(reporter, Check(call.name, call.method, call.path, False, None, None, "timeout",
                                                "not run: the overall timeout passed", line=call.line)))
            continue
        response = client.request(call.method, inputs.url + call.path, timeout=remaining(),
                                  headers=call.headers, json_body=call.json if call.has_json else None)
        failure, message = judge(response, statuses=call.statuses, json_values=call.json_values,
                                 schema=call.schema, max_latency=call.max_latency)
        checks.append(_said(reporter, Check.of(call.name, call.method, call.path, response, failure, message,
                                               call.line)))
    return checks


@dataclass
class Verdict:
    ok: bool
    document: dict
    diagnosis: str | None


def verify(inputs: Inputs, reporter: Reporter) -> Verdict:
    """Wait for ready, check health, run the calls; print and annotate each result. The part
    of smoke-ready that build-push's boot check reuses (it sets no outputs)."""
    client = Client(headers=inputs.headers, verify=not inputs.insecure, ca_bundle=inputs.ca_bundle,
                    follow_redirects=inputs.follow_redirects)
    deadline = time.monotonic() + inputs.timeout
    accepted = " or ".join(map(str, inputs.expected_status))
    if inputs.insecure:
        reporter.warning("TLS certificate verification is off (insecure: true); never use this in production",
                         title="smoke-ready")
    reporter.info(f"smoke-ready {inputs.url}: waiting for {inputs.ready_path} to answer {accepted} "
                  f"(timeout {format_duration(inputs.timeout)})")

    def probe(timeout: float) -> Response:
        return client.request("GET", inputs.url + inputs.ready_path, timeout=timeout)

    def on_attempt(attempt: int, response: Response, elapsed: float) -> None:
        reporter.progress(f"  waiting for {inputs.ready_path}: {format_duration(elapsed)}, attempt {attempt}, "
                          f"last {response.describe()}")

    outcome = wait_ready(probe, accept=inputs.expected_status, timeout=inputs.timeout,
                         request_timeout=inputs.request_timeout, initial=inputs.interval,
                         cap=inputs.max_interval, on_attempt=on_attempt)
    checks: list[Check] = []
    last = outcome.last or Response(url=inputs.url + inputs.ready_path, failure="timeout")
    if outcome.ready:
        timing.add("polling", outcome.slack)
        checks.append(Check.of("ready", "GET", inputs.ready_path, last, None, f"HTTP {last.status}"))
        reporter.success(f"{inputs.ready_path} answered {last.status} after {format_duration(outcome.seconds)} "
                         f"({plural(outcome.attempts, 'attempt')})")
    else:
        message = (f"did not answer {accepted} within {format_duration(inputs.timeout)} "
                   f"({plural(outcome.attempts, 'attempt')}); last: {last.describe()}")
        checks.append(Check.of("ready", "GET", inputs.ready_path, last,
                               last.failure or "wrong-status", message))

    def remaining() -> float:
        return max(0.05, min(inputs.request_timeout, deadline - time.monotonic()))

    health = None
    if inputs.health_path:
        health = client.request("GET", inputs.url + inputs.health_path, timeout=remaining())
        failure, message = judge(health)
        check = Check.of("health", "GET", inputs.health_path, health, failure, message)
        checks.append(_said(reporter, check) if outcome.ready else check)

    if outcome.ready and inputs.calls:
        with reporter.group(f"smoke calls from {inputs.spec_path}"):
            checks += run_calls(client, inputs, deadline, remaining, reporter)

    ready_after_ms = round(outcome.seconds * 1000) if outcome.ready else None
    doc = results_document(inputs.url, outcome.ready, ready_after_ms, outcome.attempts, checks)
    diagnosis = None if outcome.ready else diagnose(outcome.last, health, inputs.ready_path, inputs.health_path)
    for check in checks:
        if check.ok:
            continue
        text = f"{check.method} {inputs.url}{check.path} {check.message}"
        if check.name == "ready" and diagnosis:
            text += f" — {diagnosis}"
        if check.body:
            text += f"; body: {check.body}"
        on_spec = inputs.spec_path if check.line else None
        reporter.error(text, title=f"smoke-ready: {check.name} ({check.failure})", file=on_spec, line=check.line)
    failed = sum(not c.ok for c in checks)
    if failed:
        reporter.info(f"smoke-ready: {failed} of {len(checks)} checks failed")
    else:
        reporter.success(f"smoke-ready: all {len(checks)} checks passed")
    return Verdict(not failed, doc, diagnosis)


def run(inputs: Inputs, reporter: Reporter) -> int:
    verdict = verify(inputs, reporter)
    doc = verdict.document
    reporter.output("ready", "true" if doc["ready"] else "false")
    reporter.output("ready-after-ms", "" if doc["ready_after_ms"] is None else str(doc["ready_after_ms"]))
    reporter.output("attempts", str(doc["attempts"]))
    reporter.output("results", doc)
    reporter.summary(summary_markdown(doc, verdict.diagnosis))
    reporter.result(doc)
    return EXIT_OK if verdict.ok else EXIT_CHECK_FAILED


COMMAND = Command(
    name="smoke-ready",
    summary="Wait for /ready (not /health), then run smoke calls: the same check locally, on stage and in production.",
    description=__doc__ or "",
    options=OPTIONS,
    outputs=OUTPUTS,
    parse=parse_inputs,
    run=run,
    secrets=secrets,
    branding=("activity", "green"),
)
