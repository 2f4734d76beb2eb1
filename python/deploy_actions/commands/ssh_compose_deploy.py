"""ssh-compose-deploy: put an existing tag live over SSH with Docker Compose — pull, run the
migrations once, then blue-green behind a proxy (or recreate), check readiness, and roll every
switched host back when one of them fails. Host keys are always verified. The settings live
in compose/settings.py, the deploy in compose/execute.py; this module renders the outcome."""

from __future__ import annotations

import time

from deploy_actions import gha
from deploy_actions.compose.settings import OPTIONS, Inputs, parse_inputs, secrets
from deploy_actions.console import Reporter
from deploy_actions.options import Command
from deploy_actions.results import Result
from deploy_actions.values import plural

OUTPUTS = {
    "deployed-tag": "The tag now running on every host (empty when the deploy failed).",
    "previous-tag": "The tag the first host ran before this deploy.",
    "hosts": "JSON list, per host: host, ok, state (deployed, rejected, rolled-back, rollback-failed, not-switched, "
    "…), previous, failed_step, message, seconds, digests (service → image ID).",
    "rolled-back": "`true` when any host was rolled back.",
}


def run(inputs: Inputs, reporter: Reporter) -> Result:
    from deploy_actions.compose.execute import deploy

    started = time.monotonic()
    outcome = deploy(inputs, reporter)
    hosts = inputs.hosts
    for state in outcome.hosts:
        if state.logs:
            with reporter.group(f"{state.host}: {state.state} ({state.seconds:.1f}s)"):
                reporter.foreign("\n".join(state.logs))
    hosts_doc = [s.as_dict() for s in outcome.hosts]
    result = Result(
        not outcome.failure,
        outputs={
            "deployed-tag": "" if outcome.failure else inputs.tag,
            "previous-tag": outcome.hosts[0].previous if outcome.hosts else "",
            "hosts": hosts_doc,
            "rolled-back": "true" if outcome.rolled_back else "false",
        },
        document={"tag": inputs.tag, "failure": outcome.failure, "hosts": hosts_doc, "canary_steps": outcome.steps},
    )
    icon = "❌" if outcome.failure else "✅"
    rows = [[str(s.host), s.state, s.previous or "—", f"{s.seconds:.1f}s", s.message or ""] for s in outcome.hosts]
    summary = f"### {icon} ssh-compose-deploy `{inputs.tag}` → `{inputs.deploy_path}`\n\n"
    if outcome.failure:
        summary += f"> {gha.md_cell(outcome.failure)}\n\n"
    result.summary = summary + gha.md_table(["Host", "State", "Previous tag", "Time", "Note"], rows)
    if outcome.steps:
        result.summary += "\n\n#### Canary steps (measured at the shared proxy)\n\n" + _steps_table(outcome.steps)
    # A compose file unusable for blue-green, a taken port: the input's fault (usage).
    live = f"{inputs.tag} is live on {plural(len(hosts), 'host')} in {time.monotonic() - started:.1f}s"
    result.conclude(outcome.failure, "ssh-compose-deploy", usage=outcome.usage, message=live)
    return result


def _steps_table(steps: list[dict]) -> str:
    def copy(sample: dict) -> str:
        return f"{sample['requests']} req, {sample['errors']} failed, p95 {sample['p95_ms']:g} ms"

    rows = [
        [f"{step['weight']}%", host, "✅ passed" if seen["ok"] else "❌ failed", copy(seen["new"]), copy(seen["live"])]
        for step in steps
        for host, seen in step["hosts"].items()
    ]
    return gha.md_table(["Step", "Host", "Verdict", "New copy", "Live copy"], rows)


COMMAND = Command(
    name="ssh-compose-deploy",
    summary="Deploy an existing tag over SSH with Docker Compose: pull, migrate once, switch, smoke, roll back.",
    description=__doc__ or "",
    options=OPTIONS,
    outputs=OUTPUTS,
    parse=parse_inputs,
    run=run,
    secrets=secrets,
    branding=("upload-cloud", "purple"),
)
