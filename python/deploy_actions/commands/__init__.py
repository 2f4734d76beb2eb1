"""The command registry: one module per command, each exposing COMMAND."""

from __future__ import annotations

from deploy_actions.commands import smoke_ready
from deploy_actions.options import Command

COMMANDS: dict[str, Command] = {c.name: c for c in (smoke_ready.COMMAND,)}
