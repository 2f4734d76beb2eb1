"""ssh-compose-deploy: put an existing tag live over SSH with Docker Compose — pull, run the
migrations once, then blue-green behind a proxy (or recreate), check readiness, and roll every
switched host back when one of them fails. Host keys are always verified. The settings live
in compose/settings.py, the deploy in compose/execute.py; this module renders the outcome."""

from __future__ import annotations

from deploy_actions.compose.report import OUTPUTS, runner
from deploy_actions.compose.settings import OPTIONS, parse_inputs, secrets
from deploy_actions.options import Command

COMMAND = Command(
    name="ssh-compose-deploy",
    summary="Deploy an existing tag over SSH with Docker Compose: pull, migrate once, switch, smoke, roll back.",
    description=__doc__ or "",
    options=OPTIONS,
    outputs=OUTPUTS,
    parse=parse_inputs,
    run=runner("ssh-compose-deploy"),
    secrets=secrets,
    branding=("upload-cloud", "purple"),
)
