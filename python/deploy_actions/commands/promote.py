"""promote: switch every host to the release a deploy with `hold: true` left staged and gated
(for a canary, at its last step's share) — the same switch, public check and rollback as a
deploy's — then stop the old copies. Given the deploy's own inputs; the tag comes from the
hosts, which must all hold the same release."""

from __future__ import annotations

from deploy_actions.compose import held
from deploy_actions.compose.report import OUTPUTS, runner
from deploy_actions.compose.settings import secrets
from deploy_actions.options import Command

COMMAND = Command(
    name="promote",
    summary="Switch every host to the release a deploy with hold: true left waiting.",
    description=__doc__ or "",
    options=held.OPTIONS,
    outputs=OUTPUTS,
    parse=held.parse_inputs,
    run=runner("promote", "promote"),
    secrets=secrets,
    action=False,
    root=True,
)
