"""What a workflow file really triggers on, and what a docs table says it does."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

EVENTS = {
    "push",
    "pull_request",
    "pull_request_target",
    "workflow_dispatch",
    "workflow_call",
    "schedule",
    "release",
    "workflow_run",
    "merge_group",
    "repository_dispatch",
    "issues",
    "issue_comment",
}


@dataclass
class Triggers:
    events: set[str] = field(default_factory=set)
    tags: list[str] = field(default_factory=list)  # push.tags patterns
    branches: list[str] = field(default_factory=list)  # push.branches patterns
    error: str = ""  # the file could not be read as a workflow
    error_line: int | None = None


def _strings(value: object) -> list[str]:
    """A workflow field that holds one name or a list of them; anything else holds none."""
    if isinstance(value, str):
        return [value]
    return [str(item) for item in value] if isinstance(value, list) else []


def read(text: str, file: str) -> Triggers:
    from deploy_actions import yamlpos
    from deploy_actions.errors import UsageError

    try:
        data, _ = yamlpos.parse(text, file, "root")
    except UsageError as exc:
        return Triggers(error=exc.args[0].removeprefix(f"{file}: ").removeprefix(f"{file}:"), error_line=exc.line)
    if not isinstance(data, dict):
        return Triggers(error="not a workflow (no mapping at the top)")
    on = data.get("on", data.get(True))  # YAML 1.1 reads a bare `on` key as true
    if on is None:
        return Triggers(error="has no `on:` triggers")
    if not isinstance(on, dict):
        events = _strings(on)
        return Triggers(set(events)) if events else Triggers(error="`on:` is neither an event, a list nor a mapping")
    triggers = Triggers({str(e) for e in on})
    push = on.get("push") if isinstance(on.get("push"), dict) else {}
    triggers.tags = _strings(push.get("tags"))
    triggers.branches = _strings(push.get("branches"))
    return triggers


@dataclass
class Expected:
    events: set[str] = field(default_factory=set)
    tags: list[str] = field(default_factory=list)
    branches: list[str] = field(default_factory=list)


def expected(cell: str, wording: dict[str, str] | None = None) -> Expected:
    """The events a trigger cell names: "PRs", "Tag push (`v*`)", "Manual (`workflow_dispatch`)",
    "Push to main", "Schedule", "Reusable (`workflow_call`)", backticked event names, and the
    contract's own wording."""
    text = cell.strip()
    low = text.lower()
    found = Expected()
    for phrase, event in (wording or {}).items():
        if phrase.lower() in low:
            found.events.add(event)
    spans = re.findall(r"`([^`]+)`", text)
    if re.search(r"\bprs?\b|pull[ _-]?requests?", low):
        found.events.add("pull_request")
    if "tag push" in low or "push tag" in low or re.search(r"\btags?\b.*\bpush", low):
        found.events.add("push")
        found.tags += [s for s in spans if s not in EVENTS]
    match = re.search(r"push(?:es)? to `?([\w./*-]+)`?", text, re.I)
    if match:
        found.events.add("push")
        found.branches.append(match.group(1))
    if re.search(r"\bmanual(ly)?\b|on demand", low):
        found.events.add("workflow_dispatch")
    if re.search(r"\bschedule[d]?\b|\bcron\b|\bnightly\b|\bdaily\b|\bweekly\b", low):
        found.events.add("schedule")
    if re.search(r"\breusable\b|\bcalled\b", low):
        found.events.add("workflow_call")
    found.events |= {s for s in spans if s in EVENTS}
    return found
