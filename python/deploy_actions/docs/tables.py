"""An action README's inputs/outputs tables, generated from its action.yml and kept between
`<!-- docs-drift:inputs -->` … `<!-- /docs-drift:inputs -->` (and outputs). Only the text
between the markers is ever rewritten; every other byte of the file stays."""

from __future__ import annotations

import re
from typing import Any

from deploy_actions import gha

MARKER = "<!-- docs-drift:{} -->"
END = "<!-- /docs-drift:{} -->"


def shape_problem(action: object) -> str | None:
    """Why a parsed action.yml cannot give tables, if it cannot: inputs and outputs are
    mappings of names to mappings (GitHub refuses the action otherwise)."""
    if not isinstance(action, dict):
        return "not an action file: expected a mapping at the top"
    for section in ("inputs", "outputs"):
        entries = action.get(section) or {}
        if not isinstance(entries, dict) or any(not isinstance(s, dict | None) for s in entries.values()):
            return f"`{section}:` must map each name to its description, required and default"
    return None


def reference_tables(action: dict[str, Any]) -> dict[str, str]:
    """The tables of an action that passed shape_problem."""
    rows = [
        [
            f"`{name}`",
            str((spec or {}).get("description", "")),
            "yes" if (spec or {}).get("required") else "no",
            f"`{spec['default']}`" if (spec or {}).get("default") not in (None, "") else "",
        ]
        for name, spec in (action.get("inputs") or {}).items()
    ]
    outputs = [
        [f"`{name}`", str((spec or {}).get("description", ""))] for name, spec in (action.get("outputs") or {}).items()
    ]
    return {
        "inputs": gha.md_table(["Input", "Description", "Required", "Default"], rows),
        "outputs": gha.md_table(["Output", "Description"], outputs),
    }


def _marker_line(text: str, marker: str, start: int = 0) -> re.Match[str] | None:
    """A marker counts only alone on its line (one quoted in prose or a code span does not)."""
    return re.compile(rf"^[ \t]*{re.escape(marker)}[ \t]*$", re.M).search(text, start)


def has_markers(text: str) -> bool:
    return any(_marker_line(text, MARKER.format(name)) for name in ("inputs", "outputs"))


def replace_section(text: str, name: str, body: str) -> str:
    start = _marker_line(text, MARKER.format(name))
    end = _marker_line(text, END.format(name), start.end()) if start else None
    if not start or not end:
        return text
    return text[: start.end()] + "\n" + body + text[end.start() :]


def refresh(text: str, action: dict[str, Any]) -> str:
    for name, body in reference_tables(action).items():
        text = replace_section(text, name, body)
    return text
