"""swarm-deploy: the release contract on Docker Swarm. An existing tag only, migrations once
as a job, `docker stack deploy` through a manager reached over SSH (host keys verified),
convergence by digest on every task, /ready and smoke, and every service rolled back and
verified when any of it fails. The settings live in swarm/settings.py, the deploy in
swarm/execute.py; this module renders the outcome."""

from __future__ import annotations

import time

from deploy_actions import gha
from deploy_actions.console import Reporter
from deploy_actions.options import Command
from deploy_actions.results import Result
from deploy_actions.swarm.settings import OPTIONS, Inputs, parse_inputs, secrets

OUTPUTS = {
    "deployed-tag": "The tag every release service now runs (empty when the deploy failed).",
    "previous-tag": "The tag the stack ran before this deploy (empty for a first deploy).",
    "services": "JSON object, per service: image, digest, tag, running, desired, state.",
    "rolled-back": "`true` when the stack was rolled back to the previous tag.",
}


def run(inputs: Inputs, reporter: Reporter) -> Result:
    from deploy_actions.swarm.execute import deploy

    started = time.monotonic()
    outcome = deploy(inputs, reporter)
    result = Result(
        not outcome.failure,
        outputs={
            "deployed-tag": "" if outcome.failure else inputs.tag,
            "previous-tag": outcome.previous,
            "services": outcome.services,
            "rolled-back": "true" if outcome.rolled_back else "false",
        },
        document={
            "stack": inputs.stack,
            "tag": inputs.tag,
            "previous": outcome.previous,
            "failure": outcome.failure,
            "rollback": outcome.rollback or None,
            "services": outcome.services,
        },
    )
    icon = "❌" if outcome.failure else "✅"
    rows = [
        [
            name,
            f"`{s['tag'] or '—'}`",
            f"`{(s['digest'] or '')[:19]}…`" if s["digest"] else "—",
            f"{s['running']}/{s['desired']}",
            gha.md_cell(s["state"]),
        ]
        for name, s in outcome.services.items()
    ]
    summary = f"### {icon} swarm-deploy `{inputs.tag}` → stack `{inputs.stack}`\n\n"
    if outcome.failure:
        how = {"swarm-rollback": "Swarm's own rollback", "redeploy-previous": "the previous tag deployed again"}
        back = (
            f" Rolled back to `{outcome.previous}` ({how.get(outcome.rollback, outcome.rollback)})."
            if outcome.rolled_back
            else ""
        )
        summary += f"> {gha.md_cell(outcome.failure)}{back}\n\n"
    result.summary = summary + gha.md_table(["Service", "Tag", "Digest", "Replicas", "State"], rows)
    live = f"{inputs.tag} runs on every task of stack {inputs.stack} ({time.monotonic() - started:.1f}s)"
    result.conclude(outcome.failure, "swarm-deploy", usage=outcome.usage, message=live)
    return result


COMMAND = Command(
    name="swarm-deploy",
    summary="Deploy an existing tag to Docker Swarm: migrate once, stack deploy, converge by digest, smoke, roll back.",
    description=__doc__ or "",
    options=OPTIONS,
    outputs=OUTPUTS,
    parse=parse_inputs,
    run=run,
    secrets=secrets,
    branding=("layers", "purple"),
)
