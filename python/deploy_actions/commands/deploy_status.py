"""deploy-status: what each host runs now — the tag in its env file, the image ID of each
running service container, and the last lines of its deploy history — and the oldest release
any host serves (`live_tag`, for alembic-preflight's live-ref). Read-only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from deploy_actions import gha
from deploy_actions.compose import settings as deploy
from deploy_actions.console import Reporter
from deploy_actions.options import Command
from deploy_actions.remote import access
from deploy_actions.results import Result

SHARED = (
    "hosts",
    *access.SSH_OPTION_NAMES,
    "deploy-path",
    "tag-variable",
    "env-file",
    "compose-files",
    "project-name",
    "services",
    "command-timeout",
    "strategy",
    "upstream-ports",
    "port-variable",
)
OPTIONS = tuple(o for o in deploy.OPTIONS if o.name in SHARED)


@dataclass(frozen=True)
class Inputs:
    deploy: deploy.Inputs


def parse_inputs(raw: Mapping[str, str], env: Mapping[str, str] | None = None) -> Inputs:
    return Inputs(deploy.parse_reach(raw, env, "status"))


def _copy(copy: dict | None) -> str:
    return f"{copy['colour']} ({copy['tag']})" if copy else "none"


def run(inputs: Inputs, reporter: Reporter) -> Result:
    from deploy_actions.compose.status import fetch, oldest_live

    hosts = fetch(inputs.deploy)
    live = oldest_live(hosts)
    result = Result(all(h["ok"] for h in hosts), document={"hosts": hosts, "live_tag": live})
    for entry in hosts:
        if not entry["ok"]:
            result.error(f"{entry['host']}: {entry['error']}", title="deploy-status")
        # Every line below comes from the host (its env file, containers, history): foreign.
        with reporter.group(f"{entry['host']}: {entry['tag'] or '(no tag)'}"), reporter.untrusted():
            copies = entry.get("blue_green")
            if copies:
                live, standby = copies.get("live"), copies.get("standby")
                reporter.info(
                    f"  live copy: {_copy(live)}; standby: {_copy(standby)}; proxy "
                    f"{'running' if copies['proxy_running'] else 'NOT running'}"
                )
                if copies.get("held"):
                    reporter.info(
                        f"  held: {_copy(copies['held'])}, gated and waiting for deploy-actions promote or abort"
                    )
                for route in copies.get("proxy_routes", []):
                    reporter.info(
                        f"  shared proxy: {', '.join(route['names'])} → {route['app']} at {route['upstream']}"
                        + (f" (canary: {route['canary']} of new visitors on the new copy)" if "canary" in route else "")
                        + (" (maintenance: answered 503 by the proxy)" if "maintenance" in route else "")
                        + (
                            f" (paused: requests wait at the proxy, {route['paused']} left at most)"
                            if "paused" in route
                            else ""
                        )
                    )
            for item in entry["running"]:
                reporter.info(f"  {item['service']}: {item['image']} {item['image_id']}")
            for row in entry["history"][-5:]:
                reporter.info(f"  {row.get('time')} {row.get('action')} {row.get('tag')} → {row.get('result')}")
    rows = [
        [
            h["host"],
            h["tag"] or "—",
            ", ".join(f"{r['service']}={r['image_id'][:19]}" for r in h["running"]),
            (h["history"][-1].get("result", "") if h["history"] else ""),
        ]
        for h in hosts
    ]
    if live:
        reporter.info(f"live release (the oldest a host serves; alembic-preflight's live-ref): {live}")
    result.summary = "### deploy-status\n\n" + gha.md_table(["Host", "Tag", "Running", "Last deploy"], rows)
    return result


COMMAND = Command(
    name="deploy-status",
    summary="Show each host's deployed tag, running image IDs and deploy history (read-only).",
    description=__doc__ or "",
    options=OPTIONS,
    outputs={},
    parse=parse_inputs,
    run=run,
    secrets=lambda inputs: deploy.secrets(inputs.deploy),
    action=False,
)
