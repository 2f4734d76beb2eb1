"""smoke-ready: wait until the service says it is ready for traffic (`/ready`, not
`/health`), then run the smoke calls — the same check locally, on stage and in production."""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlsplit

from deploy_actions.console import Reporter
from deploy_actions.errors import UsageError
from deploy_actions.options import Command, Option
from deploy_actions.results import Result
from deploy_actions.smoke import gate
from deploy_actions.smoke.report import summary_markdown
from deploy_actions.smoke.verify import Readiness, verify
from deploy_actions.values import (
    parse_bool,
    parse_duration,
    parse_headers,
    parse_http_url,
    parse_path,
    parse_status_list,
)

OPTIONS = (
    Option("url", "Base URL of the service, e.g. http://127.0.0.1:8000 (paths are appended to it).", required=True),
    Option(
        "ready-path",
        "Readiness endpoint: answers the expected status only when the service can serve "
        "traffic (database reachable, migrations applied).",
        default="/ready",
    ),
    Option(
        "health-path",
        "Liveness endpoint (process up), checked once the service is ready and used to "
        "explain a failure; `none` turns it off.",
        default="/health",
    ),
    Option("expected-status", "Status (or comma-separated statuses) that means ready.", default="200"),
    Option(
        "timeout", "Overall deadline for becoming ready and running the smoke calls, e.g. 120s or 2m.", default="120s"
    ),
    Option("request-timeout", "Deadline for each single request.", default="10s"),
    Option(
        "interval",
        "Pause between polls of the ready endpoint, start to start; it grows 1.5x per poll up to max-interval. "
        "The first one is lengthened once by a random share of up to one interval, so runners that start "
        "together do not poll in step.",
        default="100ms",
    ),
    Option(
        "max-interval",
        "Longest pause between polls; also bounds how late a switch to ready is noticed. Raise it to poll a "
        "slow start less often.",
        default="100ms",
    ),
    Option(
        "headers",
        "Extra request headers, one `Name: value` per line, sent with every request; the values are masked in logs.",
        secret=True,
    ),
    Option(
        "insecure",
        "Skip TLS certificate verification (never for production; prefer ca-bundle).",
        default="false",
        switch=True,
    ),
    Option("ca-bundle", "Path to a PEM file of CA certificates to trust for https URLs.", path="one"),
    Option(
        "follow-redirects", "Follow 3xx redirects; when false a redirect is the answer.", default="true", switch=True
    ),
    Option(
        "smoke-spec",
        "Path to a smoke spec (YAML) of calls to run once ready; see smoke-ready/README.md.",
        renamed_from="spec",
        path="one",
    ),
)

OUTPUTS = {
    "ready": "`true` when the ready endpoint answered the expected status before the deadline, else `false`.",
    "ready-after-ms": "Milliseconds from the first poll until the service was ready (empty when it never was).",
    "attempts": "How many times the ready endpoint was polled.",
    "results": "JSON document: url, ready, ready_after_ms, attempts, ok and one entry per check "
    "(name, method, path, ok, status, latency_ms, failure, message, body).",
}


def parse_inputs(raw: Mapping[str, str], env: Mapping[str, str] | None = None) -> Readiness:
    interval = parse_duration(raw["interval"], "interval", minimum=0.01)
    max_interval = parse_duration(raw["max-interval"], "max-interval", minimum=0.01)
    if max_interval < interval:
        raise UsageError(
            f"expected at least interval ({raw['interval']}), got {raw['max-interval']!r}", input="max-interval"
        )
    ca_bundle = raw["ca-bundle"].strip() or None
    if ca_bundle and not os.path.isfile(ca_bundle):
        raise UsageError(f"expected a readable PEM file, but {ca_bundle!r} does not exist", input="ca-bundle")
    if ca_bundle:
        import ssl

        try:
            ssl.create_default_context(cafile=ca_bundle)
        except (ssl.SSLError, ValueError, OSError):
            raise UsageError(
                f"{ca_bundle!r} holds no PEM certificate (-----BEGIN CERTIFICATE-----)", input="ca-bundle"
            ) from None
    smoke_spec, calls = gate.smoke_spec(raw)
    return Readiness(
        url=parse_http_url(raw["url"], "url"),
        ready_path=parse_path(raw["ready-path"], "ready-path"),  # type: ignore[arg-type]
        health_path=parse_path(raw["health-path"], "health-path", allow_none=True),
        expected_status=parse_status_list(raw["expected-status"], "expected-status"),
        timeout=parse_duration(raw["timeout"], "timeout", minimum=0.001),
        request_timeout=parse_duration(raw["request-timeout"], "request-timeout", minimum=0.001),
        interval=interval,
        max_interval=max_interval,
        headers=parse_headers(raw["headers"], "headers"),
        insecure=parse_bool(raw["insecure"], "insecure"),
        ca_bundle=ca_bundle,
        follow_redirects=parse_bool(raw["follow-redirects"], "follow-redirects"),
        smoke_spec=smoke_spec,
        calls=calls,
    )


def secrets(inputs: Readiness) -> list[str]:
    """Header values and any password in the URL, masked before anything is printed. Spec
    headers are not: the spec is a committed file, and masking `application/json` would
    blank it out of every log line."""
    values = list(inputs.headers.values())
    password = urlsplit(inputs.url).password
    if password:
        values.append(password)
    return values


def run(inputs: Readiness, reporter: Reporter) -> Result:
    verdict = verify(inputs, reporter)  # says each check as it finishes
    doc = verdict.document
    outputs = {
        "ready": "true" if doc["ready"] else "false",
        "ready-after-ms": "" if doc["ready_after_ms"] is None else str(doc["ready_after_ms"]),
        "attempts": str(doc["attempts"]),
        "results": doc,
    }
    return Result(
        verdict.ok,
        document=doc,
        outputs=outputs,
        summary=summary_markdown(doc, verdict.diagnosis),
        problems=list(verdict.problems),
    )


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
