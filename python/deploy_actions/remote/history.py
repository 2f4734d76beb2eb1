"""The deploy history each host (or Swarm manager) keeps beside its lock: tab-separated
lines that remote/lock.sh's `record` appends, in these columns."""

from __future__ import annotations

HISTORY = ("time", "action", "tag", "previous", "result", "commit", "actor", "deploy")


def history_row(line: str) -> dict:
    return dict(zip(HISTORY, line.split("\t"), strict=False))


def history_rows(out: str) -> list[dict]:
    """The lines of a script's `@@history` section."""
    rows, inside = [], False
    for line in out.splitlines():
        if line == "@@history":
            inside = True
        elif line.startswith("@@"):
            inside = False
        elif inside and line.strip():
            rows.append(history_row(line))
    return rows
