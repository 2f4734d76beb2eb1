"""promote: switch every host to the release a deploy with `hold: true` left staged and gated
(for a canary, at its last step's share) — the same switch, public check and rollback as a
deploy's — then stop the old copies. Given the deploy's own inputs; the tag comes from the
hosts, which must all hold the same release."""

from deploy_actions.compose.report import decision_command

COMMAND = decision_command(
    "promote", "Switch every host to the release a deploy with hold: true left waiting.", __doc__ or ""
)
