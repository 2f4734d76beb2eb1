"""The command registry: name → module exposing COMMAND. A run imports only its own
command (each brings its own heavy dependencies: httpx, the Docker SDK, urllib/ssl);
`--help`, the root action and the action.yml generator load them all."""

from __future__ import annotations

import importlib

from deploy_actions.options import Command

MODULES = {
    "abort": "deploy_actions.commands.abort",
    "alembic-preflight": "deploy_actions.commands.alembic_preflight",
    "build-push": "deploy_actions.commands.build_push",
    "deploy-status": "deploy_actions.commands.deploy_status",
    "docs-drift": "deploy_actions.commands.docs_drift",
    "local-run": "deploy_actions.commands.local_run",
    "maintenance": "deploy_actions.commands.maintenance",
    "pause": "deploy_actions.commands.pause",
    "pin": "deploy_actions.commands.pin",
    "promote": "deploy_actions.commands.promote",
    "proxy-remove-app": "deploy_actions.commands.proxy_remove_app",
    "release-check": "deploy_actions.commands.release_check",
    "smoke-ready": "deploy_actions.commands.smoke_ready",
    "ssh-compose-deploy": "deploy_actions.commands.ssh_compose_deploy",
    "swarm-deploy": "deploy_actions.commands.swarm_deploy",
    "swarm-status": "deploy_actions.commands.swarm_status",
}


def load(name: str) -> Command:
    return importlib.import_module(MODULES[name]).COMMAND


def load_all() -> dict[str, Command]:
    return {name: load(name) for name in MODULES}


def actions() -> dict[str, Command]:
    """The commands that are actions (have an action.yml); the rest are CLI helpers."""
    return {name: command for name, command in load_all().items() if command.action}


def root_commands() -> dict[str, Command]:
    """What the root action's `command` may name: every action, and the helpers that ask for
    nothing an action does not (promote and abort take ssh-compose-deploy's inputs)."""
    return {name: command for name, command in load_all().items() if command.action or command.root}
