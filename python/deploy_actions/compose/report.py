"""An ssh-compose-deploy run (a deploy, or a promote or abort of a held release) and its
outcome as a Result: outputs, the JSON document, the job summary with a canary's steps, and
the one failure line."""

from __future__ import annotations

import time
from collections.abc import Callable

from deploy_actions import gha
from deploy_actions.compose import held
from deploy_actions.compose.rollout import Outcome
from deploy_actions.compose.settings import Inputs, secrets
from deploy_actions.console import Reporter
from deploy_actions.options import Command
from deploy_actions.results import Result
from deploy_actions.values import plural

OUTPUTS = {
    "deployed-tag": "The tag now running on every host (empty when the deploy failed or the release is held).",
    "previous-tag": "The tag the first host ran before this deploy.",
    "held-tag": "The tag staged and gated on every host, waiting for promote or abort (hold: true).",
    "hosts": "JSON list, per host: host, ok, state (deployed, held, rejected, rolled-back, rollback-failed, "
    "not-switched, aborted, …), previous, failed_step, message, seconds, digests (service → image ID).",
    "rolled-back": "`true` when any host was rolled back.",
}


def runner(name: str, decision: str = "") -> Callable[[Inputs, Reporter], Result]:
    """The run of command `name`: the deploy's session (locks, gate, checks), or with
    `decision` (promote, abort) the same session acting on the held release."""

    def run(inputs: Inputs, reporter: Reporter) -> Result:
        from deploy_actions.compose.execute import deploy

        started = time.monotonic()
        return render(name, inputs, deploy(inputs, reporter, decision), reporter, started)

    return run


def decision_command(decision: str, summary: str, description: str) -> Command:
    """promote or abort: a CLI helper the root action runs too, on the deploy's own inputs."""
    return Command(
        name=decision,
        summary=summary,
        description=description,
        options=held.OPTIONS,
        outputs=OUTPUTS,
        parse=held.parse_inputs,
        run=runner(decision, decision),
        secrets=secrets,
        action=False,
        root=True,
    )


def render(name: str, inputs: Inputs, outcome: Outcome, reporter: Reporter, started: float) -> Result:
    tag = outcome.tag or inputs.tag  # promote and abort learn it from the hosts
    for state in outcome.hosts:
        if state.logs:
            with reporter.group(f"{state.host}: {state.state} ({state.seconds:.1f}s)"):
                reporter.foreign("\n".join(state.logs))
    hosts_doc = [s.as_dict() for s in outcome.hosts]
    deployed = not outcome.failure and not outcome.held and name != "abort"
    result = Result(
        not outcome.failure,
        outputs={
            "deployed-tag": tag if deployed else "",
            "previous-tag": outcome.hosts[0].previous if outcome.hosts else "",
            "held-tag": tag if outcome.held else "",
            "hosts": hosts_doc,
            "rolled-back": "true" if outcome.rolled_back else "false",
        },
        document={
            "tag": tag,
            "failure": outcome.failure,
            "held": outcome.held,
            "hosts": hosts_doc,
            "canary_steps": outcome.steps,
        },
    )
    icon = "❌" if outcome.failure else "⏸️" if outcome.held else "✅"
    rows = [[str(s.host), s.state, s.previous or "—", f"{s.seconds:.1f}s", s.message or ""] for s in outcome.hosts]
    summary = f"### {icon} {name} `{tag}` → `{inputs.deploy_path}`\n\n"
    if outcome.failure:
        summary += f"> {gha.md_cell(outcome.failure)}\n\n"
    elif outcome.held:
        summary += "> Held: promote it with `deploy-actions promote`, or remove it with `deploy-actions abort`.\n\n"
    result.summary = summary + gha.md_table(["Host", "State", "Previous tag", "Time", "Note"], rows)
    if outcome.steps:
        result.summary += "\n\n#### Canary steps (measured at the shared proxy)\n\n" + _steps_table(outcome.steps)
    count, took = plural(len(inputs.hosts), "host"), f"{time.monotonic() - started:.1f}s"
    done = {
        "abort": f"{tag} was removed from {count} in {took}; the live copies were untouched",
        "held": f"{tag} is held on {count} ({took}): promote or abort it",
    }.get("held" if outcome.held else name, f"{tag} is live on {count} in {took}")
    # A compose file unusable for blue-green, a taken port, nothing held: the input's fault (usage).
    result.conclude(outcome.failure, name, usage=outcome.usage, message=done)
    return result


def _steps_table(steps: list[dict]) -> str:
    def copy(sample: dict) -> str:
        low = f" (≥ {sample['p95_low_ms']:g} ms, 99% confidence)" if sample["requests"] else ""
        return f"{sample['requests']} req, {sample['errors']} failed, p95 {sample['p95_ms']:g} ms{low}"

    rows = [
        [f"{step['weight']}%", host, "✅ passed" if seen["ok"] else "❌ failed", copy(seen["new"]), copy(seen["live"])]
        for step in steps
        for host, seen in step["hosts"].items()
    ]
    return gha.md_table(["Step", "Host", "Verdict", "New copy", "Live copy"], rows)
