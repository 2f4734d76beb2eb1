"""What smoke-ready tells people and machines: the results document (the `results`
output and `--json`), the step-summary table and the diagnosis of a service that
never became ready. Pure functions of the results."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from deploy_actions import gha
from deploy_actions.smoke.http import DNS, REFUSED, TIMEOUT, TLS, Response
from deploy_actions.values import format_duration, plural


@dataclass
class Check:
    name: str
    method: str
    path: str
    ok: bool
    status: int | None
    latency_ms: int | None
    failure: str | None
    message: str
    body: str = ""
    line: int | None = None  # where a spec call is defined

    @classmethod
    def of(
        cls,
        name: str,
        method: str,
        path: str,
        response: Response,
        failure: str | None,
        message: str,
        line: int | None = None,
    ) -> Check:
        return cls(
            name=name,
            method=method,
            path=path,
            ok=failure is None,
            status=response.status,
            latency_ms=round(response.seconds * 1000) if response.failure is None else None,
            failure=failure,
            message=message,
            body="" if failure is None else response.excerpt(),
            line=line,
        )


def diagnose(ready: Response | None, health: Response | None, ready_path: str, health_path: str | None) -> str:
    """One sentence on the likely cause of never becoming ready, from the last answers."""
    if ready is None:
        return "no request could be made before the deadline"
    if ready.failure == REFUSED and (health is None or health.failure == REFUSED):
        return "nothing is listening there: did the service start, and is the port right?"
    if ready.failure == DNS:
        return "the host name does not resolve: check the URL"
    if ready.failure == TLS:
        return "the TLS handshake failed: set ca-bundle for a private CA (or insecure: true, not for production)"
    if ready.failure == TIMEOUT:
        return f"{ready_path} does not answer in time: the service may be stuck or overloaded"
    if ready.status == 404:
        return f"the service has no {ready_path} endpoint (404): set ready-path to its readiness endpoint"
    if health is not None and health.failure is None and health.status is not None and 200 <= health.status < 300:
        return (
            f"the process is up ({health_path} answers {health.status}) but not ready: "
            "check what readiness waits for (database reachable? migrations applied?)"
        )
    if health is not None and health.failure is None:
        return f"{health_path} answers {health.status} too: the process itself is unhealthy"
    return f"{ready_path} last answered {ready.describe()}"


def results_document(
    url: str, ready: bool, ready_after_ms: int | None, attempts: int, checks: list[Check]
) -> dict[str, Any]:
    return {
        "url": url,
        "ready": ready,
        "ready_after_ms": ready_after_ms,
        "attempts": attempts,
        "ok": ready and all(c.ok for c in checks),
        "checks": [asdict(c) for c in checks],
    }


def summary_markdown(doc: dict[str, Any], diagnosis: str | None = None) -> str:
    checks = doc["checks"]
    failed = [c for c in checks if not c["ok"]]
    attempts = plural(doc["attempts"], "attempt")
    if doc["ready"]:
        head = f"ready after {format_duration((doc['ready_after_ms'] or 0) / 1000)} ({attempts})"
    else:
        head = f"not ready ({attempts})"
    icon = "✅" if doc["ok"] else "❌"
    lines = [f"### {icon} smoke-ready: `{doc['url']}` {head}", ""]
    if diagnosis:
        lines += [f"> {gha.md_cell(diagnosis)}", ""]
    rows = []
    for c in checks:
        latency = "—" if c["latency_ms"] is None else f"{c['latency_ms']} ms"
        result = "✅" if c["ok"] else f"❌ {c['failure']}: {c['message']}"
        rows.append([c["name"], f"`{c['method']} {c['path']}`", c["status"] or "—", latency, result])
    lines.append(gha.md_table(["Check", "Request", "Status", "Latency", "Result"], rows))
    for c in failed:
        if c["body"]:
            lines += [
                f"<details><summary>{gha.md_cell(c['name'])}: last body</summary>",
                "",
                "```",
                c["body"].replace("```", "'''"),
                "```",
                "",
                "</details>",
                "",
            ]
    return "\n".join(lines) + "\n"
