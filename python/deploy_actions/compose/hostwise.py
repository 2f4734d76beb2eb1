"""One remote action run on every host outside a rollout (maintenance, pause,
proxy-remove-app), and its Result: a row per host, the job summary's table, one error per
failed host. A host that refused the input (its exit 2: nothing changed there) makes the
run's exit 2 as well."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from deploy_actions import gha
from deploy_actions.compose.settings import Inputs, secrets
from deploy_actions.console import Reporter
from deploy_actions.errors import EXIT_USAGE
from deploy_actions.options import Command, Option
from deploy_actions.results import Result


def run(
    inputs: Inputs,
    params: dict[str, str],
    reporter: Reporter,
    label: str,
    column: tuple[str, str],
    more: tuple[str, ...] = (),
    **document,
) -> Result:
    """`label` names the groups, the errors and the summary; `column` is (its heading, the
    @@result field each host's row shows); --json has `more` of those fields per host, and
    `document` beside the hosts."""
    from deploy_actions.compose.execute import on_every_host

    heading, key = column
    answers = on_every_host(inputs, params, reporter, label)
    rows = [[str(a.host), a.fields.get(key) or "—", "ok" if a.ok else a.problem()] for a in answers]
    hosts = [
        {"host": host, key: value, **{k: a.fields.get(k, "") for k in more}, "result": problem}
        for a, (host, value, problem) in zip(answers, rows, strict=True)
    ]
    result = Result(all(a.ok for a in answers), document={**document, "hosts": hosts})
    for answer, (host, _, problem) in zip(answers, rows, strict=True):
        if not answer.ok:
            result.fail(f"{host}: {problem}", label, usage=answer.code == EXIT_USAGE)
    if any(a.code == EXIT_USAGE for a in answers):  # refused on one host, failed on another: the refusal
        result.exit_code = EXIT_USAGE
    result.summary = f"### {label}\n\n" + gha.md_table(["Host", heading, "Result"], rows)
    return result


def routed_command(
    name: str, summary: str, description: str, options: tuple[Option, ...], parse: Callable, run: Callable
) -> Command:
    """A CLI helper acting on an app's route on its hosts' shared proxy (maintenance, pause):
    its parsed spec holds the deploy's inputs as `reach`."""

    def spec_secrets(spec: Any) -> list[str]:
        return secrets(spec.reach)

    return Command(
        name=name,
        summary=summary,
        description=description,
        options=options,
        outputs={},
        parse=parse,
        run=run,
        secrets=spec_secrets,
        action=False,
    )
