"""The revision graph: exactly one head, every down_revision present, no duplicates, no
cycles. Pure: works on what scripts.py read."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from deploy_actions.migrations.scripts import Revision


@dataclass
class Problem:
    rule: str
    message: str
    revision: Revision | None = None


@dataclass
class Graph:
    revisions: dict[str, Revision]
    heads: list[str]
    bases: list[str]
    problems: list[Problem] = field(default_factory=list)
    order: list[str] = field(default_factory=list)  # base → head, when the graph allows one

    @property
    def head(self) -> str | None:
        return self.heads[0] if len(self.heads) == 1 else None


def build(revisions: list[Revision], expected: int | tuple[str, ...] = 1, searched: str = "") -> Graph:
    """`expected`: how many heads the history has on purpose (expand/contract layouts keep
    two), or the branch labels whose branches each end in one head; `searched`: where the
    revisions were looked for, for the message when there are none."""
    problems: list[Problem] = []
    by_id: dict[str, Revision] = {}
    for rev in revisions:
        if rev.revision in by_id:
            problems.append(
                Problem(
                    "duplicate-revision",
                    f"revision {rev.revision} is defined twice: {by_id[rev.revision].path.name} and {rev.path.name}",
                    rev,
                )
            )
            continue
        by_id[rev.revision] = rev
    children: dict[str, list[str]] = defaultdict(list)
    for rev in by_id.values():
        for down in rev.down:
            if down not in by_id:
                problems.append(
                    Problem(
                        "missing-down-revision",
                        f"{rev.revision} ({rev.path.name}) points at down_revision {down}, which no file defines",
                        rev,
                    )
                )
            else:
                children[down].append(rev.revision)
    heads = sorted(r for r in by_id if not children.get(r))
    bases = sorted(r for r, rev in by_id.items() if not rev.down)
    order = _topological(by_id, children, problems)
    if expected != 1:
        problem = _unexpected_heads(by_id, heads, expected)
        if problem:
            problems.append(problem)
    elif len(heads) > 1:
        points = sorted(p for p, kids in children.items() if len(kids) > 1)
        detail = "; ".join(f"{h} ({by_id[h].path.name})" for h in heads)
        where = f", branching at {', '.join(points)}" if points else ""
        problems.append(
            Problem(
                "multiple-heads",
                f'{len(heads)} heads: {detail}{where}. Merge them: alembic merge -m "merge heads" {" ".join(heads)}',
                by_id[heads[-1]],
            )
        )
    if not by_id:
        message = f"no revision files in {searched}" if searched else "no revision files found"
        problems.append(Problem("no-revisions", message))
    return Graph(by_id, heads, bases, problems, order)


def _labels(by_id: dict[str, Revision], head: str) -> set[str]:
    """The branch labels on a head's line of ancestry (alembic puts them on a branch's base)."""
    labels, todo, seen = set(), [head], set()
    while todo:
        rev = by_id.get(todo.pop())
        if rev is None or rev.revision in seen:
            continue
        seen.add(rev.revision)
        labels |= set(rev.branch_labels)
        todo += list(rev.down)
    return labels


def _unexpected_heads(by_id: dict[str, Revision], heads: list[str], expected: int | tuple[str, ...]) -> Problem | None:
    if isinstance(expected, int):
        if len(heads) == expected:
            return None
        return Problem(
            "multiple-heads",
            f"{len(heads)} head(s) ({', '.join(heads)}), expected {expected} (expected-heads)",
            by_id[heads[-1]] if heads else None,
        )
    found = {head: _labels(by_id, head) & set(expected) for head in heads}
    covered = sorted(label for labels in found.values() for label in labels)
    if all(len(labels) == 1 for labels in found.values()) and covered == sorted(expected):
        return None
    described = "; ".join(f"{h}: {', '.join(sorted(found[h])) or 'no expected label'}" for h in heads)
    return Problem(
        "multiple-heads",
        f"heads and branch labels do not match expected-heads ({', '.join(expected)}): {described}",
        by_id[heads[-1]] if heads else None,
    )


def _topological(by_id: dict[str, Revision], children: dict[str, list[str]], problems: list[Problem]) -> list[str]:
    """Kahn's order from the bases; what is left over sits on a cycle."""
    pending = {r: sum(1 for d in rev.down if d in by_id) for r, rev in by_id.items()}
    ready = sorted(r for r, n in pending.items() if n == 0)
    order: list[str] = []
    while ready:
        current = ready.pop(0)
        order.append(current)
        for child in sorted(children.get(current, [])):
            pending[child] -= 1
            if pending[child] == 0:
                ready.append(child)
    stuck = sorted(set(by_id) - set(order))
    if stuck:
        problems.append(
            Problem("cycle", f"revisions {', '.join(stuck)} form a cycle through down_revision", by_id[stuck[0]])
        )
    return order
