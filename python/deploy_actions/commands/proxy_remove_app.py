"""proxy-remove-app: take an app off its hosts' shared proxy (blue-green with hostname) — its
names, routes and certificate — through a new router, like any change of routes, so the
other apps on the host lose no request. The app's containers are left as they are. The only
way an app's names leave the shared proxy: a deploy never drops another app's route."""

from __future__ import annotations

from collections.abc import Mapping

from deploy_actions.compose import hostwise
from deploy_actions.compose import settings as deploy
from deploy_actions.console import Reporter
from deploy_actions.options import Command
from deploy_actions.remote import access
from deploy_actions.results import Result

SHARED = (
    "hosts",
    *access.SSH_OPTION_NAMES,
    "deploy-path",
    "project-name",
    "upstream-host",
    "upstream-ports",
    "proxy-image",
    "drain-timeout",
    "command-timeout",
)
OPTIONS = tuple(o for o in deploy.OPTIONS if o.name in SHARED)


def parse_inputs(raw: Mapping[str, str], env: Mapping[str, str] | None = None) -> deploy.Inputs:
    return deploy.parse_reach(raw, env, "remove-app")


def run(spec: deploy.Inputs, reporter: Reporter) -> Result:
    params = {**deploy.remote_params(spec), "ACTION": "remove-app"}
    return hostwise.run(spec, params, reporter, "proxy-remove-app", ("Removed app", "removed"))


COMMAND = Command(
    name="proxy-remove-app",
    summary="Take an app (its names, routes, certificate) off its hosts' shared proxy; other apps lose nothing.",
    description=__doc__ or "",
    options=OPTIONS,
    outputs={},
    parse=parse_inputs,
    run=run,
    secrets=deploy.secrets,
    action=False,
)
