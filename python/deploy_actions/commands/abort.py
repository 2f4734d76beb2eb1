"""abort: remove the release a deploy with `hold: true` left waiting — a canary's users go
back to the live copy first — leaving the live copies as they are. Given the deploy's own
inputs; the tag comes from the hosts, which must all hold the same release."""

from __future__ import annotations

from deploy_actions.compose import held
from deploy_actions.compose.report import OUTPUTS, runner
from deploy_actions.compose.settings import secrets
from deploy_actions.options import Command

COMMAND = Command(
    name="abort",
    summary="Remove the release a deploy with hold: true left waiting; the live copies stay.",
    description=__doc__ or "",
    options=held.OPTIONS,
    outputs=OUTPUTS,
    parse=held.parse_inputs,
    run=runner("abort", "abort"),
    secrets=secrets,
    action=False,
    root=True,
)
