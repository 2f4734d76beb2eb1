"""What each host runs now, as its deploy folder says: the tag, the running containers'
image IDs, the deploy history and, with blue-green, the live and standby copies and the
routes of the host's shared proxy."""

from __future__ import annotations

from deploy_actions.compose.settings import SCRIPT, Inputs, remote_params
from deploy_actions.remote.access import ssh_kit
from deploy_actions.remote.history import history_row
from deploy_actions.versions import is_release, precedence


def parse_status(out: str) -> dict:
    running, history, routes, section, copies = [], [], [], None, {}
    for line in out.splitlines():
        if line.startswith("@@bluegreen "):  # live=green:v1.2.0 standby=blue:v1.1.0 held=: proxy=true
            fields = dict(part.split("=", 1) for part in line.split()[1:] if "=" in part)
            for role in ("live", "standby", "held"):
                colour, _, tag = fields.get(role, "").partition(":")
                copies[role] = {"colour": colour, "tag": tag} if colour else None
            copies["proxy_running"] = fields.get("proxy") == "true"
        elif line in ("@@running", "@@history", "@@routes"):
            section = line[2:]
        elif line.startswith("@@result"):
            section = None
        elif section == "running" and line.strip():
            service, ref, image = (line.split() + ["", "", ""])[:3]
            running.append({"service": service, "image": ref, "image_id": image})
        elif section == "history" and line.strip():
            history.append(history_row(line))
        elif section == "routes" and line.strip():  # app live-address name,name [canary=N%]
            app, upstream, names, *marks = line.split() + ["", "", ""]
            route: dict = {"app": app, "upstream": upstream, "names": [n for n in names.split(",") if n]}
            for mark in marks:  # canary=10% (new visitors on the new copy), maintenance=on, paused=8s (left)
                key, _, value = mark.partition("=")
                if key in ("canary", "maintenance", "paused") and value:
                    route[key] = value
            routes.append(route)
    if copies and routes:
        copies["proxy_routes"] = routes
    return {"running": running, "history": history, **({"blue_green": copies} if copies else {})}


def fetch(spec: Inputs) -> list[dict]:
    """Each host's tag, running containers, history and (blue-green) copies, read-only."""
    params = {**remote_params(spec), "ACTION": "status"}
    hosts = []
    with ssh_kit(spec.ssh, SCRIPT) as kit:
        kit.pin(list(spec.hosts))
        for host in spec.hosts:
            answer = kit.run(host, params, timeout=spec.command_timeout)
            entry = {
                "host": str(host),
                "ok": answer.ok,
                "tag": answer.fields.get("current", ""),
                **parse_status(answer.out),
            }
            if not answer.ok:
                entry["error"] = answer.problem()
            hosts.append(entry)
    return hosts


def oldest_live(hosts: list[dict]) -> str:
    """The oldest release any host serves (its live copy with blue-green, else its tag): the
    one a pending migration must not break (alembic-preflight's live-ref). "" when no host
    answered with a release tag."""
    tags = []
    for entry in hosts:
        live = (entry.get("blue_green") or {}).get("live")
        tag = live["tag"] if live else entry.get("tag", "")
        if entry.get("ok") and tag and is_release(tag):
            tags.append(tag)
    return min(tags, key=precedence, default="")
