"""Where a command's words go: one Reporter (reporter.py) for every command, three
audiences — the GitHub runner (github.py), a person at a terminal (terminal.py), and a
machine reading --json (document.py)."""

from deploy_actions.console.github import ANNOTATION_LIMIT
from deploy_actions.console.reporter import Reporter

__all__ = ["ANNOTATION_LIMIT", "Reporter"]
