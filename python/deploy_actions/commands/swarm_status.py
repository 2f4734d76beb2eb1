"""swarm-status: what a stack runs now — each service's tag, digest and running/desired
replicas, read from the cluster through the manager, and the stack's deploy history. Read-only."""

from __future__ import annotations

import os
from collections.abc import Mapping

from deploy_actions import gha
from deploy_actions.console import Reporter
from deploy_actions.options import Command
from deploy_actions.remote import access
from deploy_actions.remote.hosts import parse_host, safe_path
from deploy_actions.results import Result
from deploy_actions.swarm import settings as swarm
from deploy_actions.swarm.status import Target

SHARED = ("manager", *access.SSH_OPTION_NAMES, "stack", "docker-socket", "state-path")
OPTIONS = tuple(o for o in swarm.OPTIONS if o.name in SHARED)


def parse_inputs(raw: Mapping[str, str], env: Mapping[str, str] | None = None) -> Target:
    stack = swarm.parse_stack(raw)
    return Target(
        ssh=access.parse_ssh(raw),
        manager=parse_host(raw["manager"], "manager"),
        stack=stack,
        docker_socket=safe_path(raw["docker-socket"], "docker-socket"),
        state_dir=swarm.parse_state_dir(raw, stack),
        environment=gha.tool_environment(env if env is not None else os.environ),
    )


def run(target: Target, reporter: Reporter) -> Result:
    from deploy_actions.swarm.status import fetch

    found = fetch(target)
    result = Result(found["ok"], document={"stack": target.stack, **found})
    if not found["ok"]:
        result.error(f"{target.manager}: {found['error']}", title="swarm-status")
    if found["ok"] and not found["services"]:
        result.warning(f"no services in stack {target.stack}", title="swarm-status")
    with reporter.untrusted():  # the cluster's names and the manager's history: foreign
        for name, service in found["services"].items():
            reporter.info(
                f"{name}: {service['tag'] or '(no tag)'} {service['digest'] or ''} "
                f"{service['running']}/{service['desired']} running {service['update']}".rstrip()
            )
        for row in found["history"][-5:]:
            reporter.info(f"  {row.get('time')} {row.get('action')} {row.get('tag')} → {row.get('result')}")
    rows = [
        [name, s["tag"] or "—", f"`{(s['digest'] or '—')[:19]}`", f"{s['running']}/{s['desired']}", s["update"]]
        for name, s in found["services"].items()
    ]
    result.summary = f"### swarm-status `{target.stack}`\n\n" + gha.md_table(
        ["Service", "Tag", "Digest", "Replicas", "Update"], rows
    )
    return result


COMMAND = Command(
    name="swarm-status",
    summary="Show a stack's services (tag, digest, replicas) and deploy history, through a manager (read-only).",
    description=__doc__ or "",
    options=OPTIONS,
    outputs={},
    parse=parse_inputs,
    run=run,
    secrets=lambda target: [target.ssh.passphrase] if target.ssh.passphrase else [],
    action=False,
)
