"""The inputs of promote and abort: a deploy's own (hosts, SSH, deploy path, proxy and names,
checks), without what only starting a release needs (its tag, migrations, strategy, canary
steps, hold). The tag is read from the hosts."""

from __future__ import annotations

from collections.abc import Mapping

from deploy_actions.compose import canary
from deploy_actions.compose import settings as deploy
from deploy_actions.migrations import timeouts as migration_timeouts

STARTING_ONLY = {
    "strategy",
    "hold",
    "image-tag",
    "require-release-tag",
    "migrate-command",
    *(o.name for o in canary.OPTIONS),
    *(o.name for o in migration_timeouts.OPTIONS),
}
OPTIONS = tuple(o for o in deploy.OPTIONS if o.name not in STARTING_ONLY)


def parse_inputs(raw: Mapping[str, str], env: Mapping[str, str] | None = None) -> deploy.Inputs:
    return deploy.parse_reach(raw, env, "held")
