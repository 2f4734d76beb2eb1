"""deploy-status: what each host runs now — the tag in its env file, the image ID of each
running service container, and the last lines of its deploy history. Read-only."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from deploy_actions import gha
from deploy_actions.commands import ssh_compose_deploy as deploy
from deploy_actions.console import Reporter
from deploy_actions.errors import EXIT_CHECK_FAILED, EXIT_OK
from deploy_actions.options import Command

SHARED = ("hosts", "ssh-key", "ssh-key-passphrase", "known-hosts", "host-key-fingerprint",
          "insecure-skip-host-key-check", "jump-host", "deploy-path", "tag-variable", "env-file", "compose-files",
          "project-name", "services", "connect-timeout", "command-timeout", "strategy", "upstream-ports",
          "port-variable")
OPTIONS = tuple(o for o in deploy.OPTIONS if o.name in SHARED)
HISTORY = ("time", "action", "tag", "previous", "result", "commit", "actor", "deploy")


@dataclass(frozen=True)
class Inputs:
    deploy: deploy.Inputs


def parse_inputs(raw: Mapping[str, str], env: Mapping[str, str] | None = None) -> Inputs:
    filled = {o.name: o.default for o in deploy.OPTIONS} | dict(raw)
    filled["image-tag"], filled["require-release-tag"] = "status", "false"
    return Inputs(deploy.parse_inputs(filled, env if env is not None else os.environ, status=True))


def parse_status(out: str) -> dict:
    running, history, section, copies = [], [], None, {}
    for line in out.splitlines():
        if line.startswith("@@bluegreen "):  # live=green:v1.2.0 standby=blue:v1.1.0 proxy=true
            fields = dict(part.split("=", 1) for part in line.split()[1:] if "=" in part)
            for role in ("live", "standby"):
                colour, _, tag = fields.get(role, "").partition(":")
                copies[role] = {"colour": colour, "tag": tag} if colour else None
            copies["proxy_running"] = fields.get("proxy") == "true"
        elif line in ("@@running", "@@history"):
            section = line[2:]
        elif line.startswith("@@result"):
            section = None
        elif section == "running" and line.strip():
            service, ref, image = (line.split() + ["", "", ""])[:3]
            running.append({"service": service, "image": ref, "image_id": image})
        elif section == "history" and line.strip():
            history.append(dict(zip(HISTORY, line.split("\t"), strict=False)))
    return {"running": running, "history": history, **({"blue_green": copies} if copies else {})}


def _copy(copy: dict | None) -> str:
    return f"{copy['colour']} ({copy['tag']})" if copy else "none"


def run(inputs: Inputs, reporter: Reporter) -> int:
    from deploy_actions.deploy.ssh import SshKit

    spec = inputs.deploy
    params = {**deploy.remote_params(spec), "ACTION": "status"}
    hosts = []
    with SshKit(key=spec.key, passphrase=spec.passphrase, known_hosts=spec.known_hosts,
                fingerprint=spec.fingerprint, insecure=spec.insecure, connect_timeout=spec.connect_timeout,
                jump=spec.jump) as kit:
        kit.pin(list(spec.hosts))
        for host in spec.hosts:
            answer = kit.run(host, params, timeout=spec.command_timeout)
            entry = {"host": str(host), "ok": answer.ok, "tag": answer.fields.get("current", ""),
                     **parse_status(answer.out)}
            if not answer.ok:
                entry["error"] = answer.problem()
                reporter.error(f"{host}: {entry['error']}", title="deploy-status")
            hosts.append(entry)
    for entry in hosts:
        with reporter.group(f"{entry['host']}: {entry['tag'] or '(no tag)'}"):
            copies = entry.get("blue_green")
            if copies:
                live, standby = copies.get("live"), copies.get("standby")
                reporter.info(f"  live copy: {_copy(live)}; standby: {_copy(standby)}; proxy "
                              f"{'running' if copies['proxy_running'] else 'NOT running'}")
            for item in entry["running"]:
                reporter.info(f"  {item['service']}: {item['image']} {item['image_id']}")
            for row in entry["history"][-5:]:
                reporter.info(f"  {row.get('time')} {row.get('action')} {row.get('tag')} → {row.get('result')}")
    rows = [[h["host"], h["tag"] or "—", ", ".join(f"{r['service']}={r['image_id'][:19]}" for r in h["running"]),
             (h["history"][-1].get("result", "") if h["history"] else "")] for h in hosts]
    reporter.summary("### deploy-status\n\n" + gha.md_table(["Host", "Tag", "Running", "Last deploy"], rows))
    reporter.result({"hosts": hosts})
    return EXIT_OK if all(h["ok"] for h in hosts) else EXIT_CHECK_FAILED


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
