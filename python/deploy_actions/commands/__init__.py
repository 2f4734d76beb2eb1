"""The command registry: one module per command, each exposing COMMAND."""

from __future__ import annotations

from deploy_actions.commands import build_push, smoke_ready
from deploy_actions.options import Command

COMMANDS: dict[str, Command] = {c.name: c for c in (build_push.COMMAND, smoke_ready.COMMAND)}
