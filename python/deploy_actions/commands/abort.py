"""abort: remove the release a deploy with `hold: true` left waiting — a canary's users go
back to the live copy first — leaving the live copies as they are. Given the deploy's own
inputs; the tag comes from the hosts, which must all hold the same release."""

from deploy_actions.compose.report import decision_command

COMMAND = decision_command(
    "abort", "Remove the release a deploy with hold: true left waiting; the live copies stay.", __doc__ or ""
)
