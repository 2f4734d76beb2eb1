"""The inputs of promote and abort: a deploy's own (hosts, SSH, deploy path, proxy and names,
checks), without what only starting a release needs (its tag, migrations, strategy, canary
steps, hold). The tag is read from the hosts."""

from __future__ import annotations

from collections.abc import Mapping

from deploy_actions.compose import canary
from deploy_actions.compose import settings as deploy
from deploy_actions.errors import UsageError
from deploy_actions.migrations import timeouts as migration_timeouts

STARTING_ONLY = {
    "strategy",
    "hold",
    "image-tag",
    "require-release-tag",
    "migrate-command",
    "during-migration",
    "pause-timeout",
    *(o.name for o in canary.OPTIONS),
    *(o.name for o in migration_timeouts.OPTIONS),
}
OPTIONS = tuple(o for o in deploy.OPTIONS if o.name not in STARTING_ONLY)


def parse_inputs(raw: Mapping[str, str], env: Mapping[str, str] | None = None) -> deploy.Inputs:
    return deploy.parse_reach(raw, env, "held")


def parse_routed(raw: Mapping[str, str], own: tuple, env: Mapping[str, str] | None, what: str) -> deploy.Inputs:
    """The app's inputs for a command that acts on its route on the host's shared proxy
    (maintenance, pause): those above without the command's `own` options, and a hostname."""
    reach = parse_inputs({k: v for k, v in raw.items() if k not in {o.name for o in own}}, env)
    if not reach.host_proxy:
        raise UsageError(f"{what} is set on the host's shared proxy: give the app's hostname", input="hostname")
    return reach
