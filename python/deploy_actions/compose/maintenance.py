"""Maintenance mode on the host's shared proxy, pure: its inputs and the routes that answer
an app's names with 503 and `Retry-After` (and the repository's page, if given) instead of
sending anything to the app. Switched like any route change: a new router, no reload."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from deploy_actions import inputfiles
from deploy_actions.compose import held
from deploy_actions.compose import settings as deploy
from deploy_actions.errors import UsageError
from deploy_actions.options import Option
from deploy_actions.values import parse_int

PAGE_LIMIT = 256 * 1024
OWN = (
    Option(
        "state",
        "`on`: every request to the app's names gets 503 with Retry-After, none reaches the app; `off`: "
        "requests reach the live copy again.",
        required=True,
    ),
    Option(
        "retry-after", "Seconds the 503 answers tell clients to wait before trying again (Retry-After).", default="300"
    ),
    Option(
        "maintenance-page", "An HTML page in the repository served with the 503 answers (default: one line of text)."
    ),
)
OPTIONS = (*OWN, *held.OPTIONS)
TEXT = "This service is down for maintenance; please try again shortly.\n"


@dataclass(frozen=True)
class Maintenance:
    reach: deploy.Inputs
    on: bool
    retry_after: int
    page: str = field(default="", repr=False)


def parse_inputs(raw: Mapping[str, str], env: Mapping[str, str] | None = None) -> Maintenance:
    state = raw["state"].strip()
    if state not in ("on", "off"):
        raise UsageError(f"expected on or off, got {state!r}", input="state")
    retry = parse_int(raw["retry-after"], "retry-after", minimum=1, maximum=86400)
    page_path = raw["maintenance-page"].strip()
    page = inputfiles.read_text(page_path, "maintenance-page", what="page", limit=PAGE_LIMIT) if page_path else ""
    return Maintenance(held.parse_routed(raw, OWN, env, "maintenance mode"), state == "on", retry, page)


def route_lines(usual: str, retry_after: int, page: bool, app_token: str) -> str:
    """The app's routes in maintenance: its own matches, answered by the proxy itself."""
    headers = {"Retry-After": [str(retry_after)], "Cache-Control": ["no-store"]}
    if page:
        handle = [
            {"handler": "headers", "response": {"set": headers}},
            {"handler": "rewrite", "uri": "/maintenance.html"},
            {"handler": "file_server", "root": f"/config/apps/{app_token}", "status_code": 503},
        ]
    else:
        handle = [{"handler": "static_response", "status_code": 503, "headers": headers, "body": TEXT}]
    lines = []
    for line in usual.splitlines():
        order, _, text = line.partition("\t")
        route = json.loads(text)
        route["handle"] = handle
        lines.append(f"{order}\t{json.dumps(route, separators=(',', ':'))}")
    return "\n".join(lines)
