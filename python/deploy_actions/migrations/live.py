"""Migrations checked against the release that is live. Blue-green and canary run the old
release beside the new one on one database, so a pending revision that drops, renames or
retypes what the old release still uses breaks it the moment the migration runs. The live
release's code is read from git at its ref (never checked out, never imported); the
pending revisions are those its history does not have yet."""

from __future__ import annotations

import ast
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from deploy_actions.errors import UsageError
from deploy_actions.migrations import live_code, risks, scripts
from deploy_actions.migrations import sql as sql_parser

MAX_FILE = 1 << 20  # a larger file at the live ref is not read (generated code, data)
MAX_FILES = 20000
_CODE = r"__tablename__|Column\(|mapped_column|Mapped\[|Table\(|table\(|SELECT|select|INSERT|insert|UPDATE|update"
_REVISION = re.compile(r"^revision\s*(?::\s*str\s*)?=\s*['\"]([^'\"]+)['\"]", re.M)
# What the live release's evidence replaces: each of these is judged by it instead.
SUPERSEDED = {"drop-column", "drop-table", "rename-column", "rename-table", "alter-type", "not-null-without-default"}
RULES = ("live-release-uses", "live-release-inserts", "contract-step")  # in risks.RULES


def _git(cwd: Path, *args: str, input_: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=cwd, input=input_, capture_output=True, timeout=120)


@dataclass(frozen=True)
class Live:
    ref: str  # as the user (or the tag search) named it
    commit: str
    top: Path  # the repository's root


def resolve(cwd: Path, wanted: str) -> Live | None:
    """The live release: `wanted` (a tag, a commit), or with "auto" the newest release tag
    (`v*`) before this commit; None when there is none (a first release)."""
    top = _git(cwd, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        if wanted == "auto":
            return None
        raise UsageError(
            "the live release is read from git, and this folder is not in a git repository", input="live-ref"
        )
    root = Path(top.stdout.decode().strip())
    ref = wanted
    if wanted == "auto":
        found = _git(cwd, "describe", "--tags", "--abbrev=0", "--match", "v[0-9]*", "HEAD^")
        if found.returncode != 0:
            return None
        ref = found.stdout.decode().strip()
    commit = _git(cwd, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    if commit.returncode != 0:
        shallow = _git(cwd, "rev-parse", "--is-shallow-repository").stdout.decode().strip() == "true"
        how = (
            "this is a shallow clone: fetch the history and tags (actions/checkout with fetch-depth: 0)"
            if shallow
            else "fetch it (git fetch --tags) or name a tag or commit this repository has"
        )
        raise UsageError(f"{ref!r} is not a tag or commit of this repository; {how}", input="live-ref")
    return Live(ref, commit.stdout.decode().strip(), root)


def _read_at(live: Live, paths: list[str]) -> dict[str, str]:
    """The files' text at the live commit, in one `git cat-file --batch`."""
    if not paths:
        return {}
    sizes = _git(live.top, "cat-file", "--batch-check", input_="".join(f"{live.commit}:{p}\n" for p in paths).encode())
    small = set()
    for path, line in zip(paths, sizes.stdout.decode("utf-8", "replace").splitlines(), strict=False):
        parts = line.split()
        if len(parts) == 3 and parts[1] == "blob" and int(parts[2]) <= MAX_FILE:
            small.add(path)
    paths = [p for p in paths if p in small]  # a larger file (generated code, data) is never read
    if not paths:
        return {}
    request = "".join(f"{live.commit}:{p}\n" for p in paths).encode()
    out = _git(live.top, "cat-file", "--batch", input_=request).stdout
    texts, position = {}, 0
    for path in paths:
        end = out.index(b"\n", position)
        header = out[position:end].split()
        position = end + 1
        if len(header) < 3 or header[1] != b"blob":
            continue
        size = int(header[2])
        data = out[position : position + size]
        position += size + 1
        if size <= MAX_FILE:
            texts[path] = data.decode("utf-8", "replace")
    return texts


def evidence(live: Live, exclude: list[Path]) -> live_code.Evidence:
    """What the live release's code uses: its Python files that may touch the database,
    less the migrations themselves and the tests."""
    found = _git(live.top, "grep", "-l", "-z", "-I", "-E", _CODE, live.commit, "--", "*.py")
    prefix = f"{live.commit}:"
    skipped = [p.resolve().relative_to(live.top.resolve()).as_posix() + "/" for p in exclude]
    paths = [
        name.removeprefix(prefix)
        for name in found.stdout.decode("utf-8", "replace").split("\0")
        if name.startswith(prefix)
    ]
    paths = [
        p
        for p in paths
        if not any(p.startswith(s) for s in skipped) and not re.search(r"(^|/)(tests?|testing)/|(^|/)test_[^/]*$", p)
    ][:MAX_FILES]
    return live_code.read(_read_at(live, paths))


def revisions_at(live: Live, folders: list[Path]) -> set[str]:
    """The revision ids the live release's history has."""
    ids: set[str] = set()
    for folder in folders:
        try:
            rel = folder.resolve().relative_to(live.top.resolve()).as_posix()
        except ValueError:
            continue
        listed = _git(live.top, "ls-tree", "-r", "-z", "--name-only", live.commit, "--", rel)
        names = [n for n in listed.stdout.decode("utf-8", "replace").split("\0") if n.endswith(".py")]
        for text in _read_at(live, names).values():
            match = _REVISION.search(text)
            if match:
                ids.add(match.group(1))
    return ids


@dataclass(frozen=True)
class Change:
    """One thing a pending revision does to what the live release may use."""

    kind: str  # drop_column, rename_column, alter_type, drop_table, rename_table, add_not_null
    table: str
    column: str | None
    line: int


def changes(rev: scripts.Revision) -> list[Change]:
    """The drops, renames, type changes and NOT NULL additions of a revision's upgrade(),
    through alembic's operations and raw SQL alike."""
    upgrade = rev.function("upgrade")
    if upgrade is None:
        return []
    found = []
    before, numbers = risks.type_context(rev)
    for op in risks._operations(upgrade, rev.tree):
        table, line = op.table(), op.call.lineno
        if op.name == "execute" and op.sql:
            for s in sql_parser.parse(op.sql) or ():
                if s.table and s.kind in ("drop_column", "rename_column", "alter_type", "drop_table", "rename_table"):
                    found.append(Change(s.kind, s.table, s.column, line))
            continue
        if not table:
            continue
        if op.name == "drop_column" and op.column():
            found.append(Change("drop_column", table, op.column(), line))
        elif op.name in ("drop_table", "rename_table"):
            found.append(Change(op.name, table, None, line))
        elif op.name == "alter_column" and op.column():
            if risks._kw(op.call, "new_column_name") is not None:
                found.append(Change("rename_column", table, op.column(), line))
            if risks.retypes(op, before, numbers):  # the same judgement as the alter-type rule
                found.append(Change("alter_type", table, op.column(), line))
        elif op.name == "add_column":
            column = op.arg("column")
            if (
                isinstance(column, ast.Call)
                and risks._is_false(risks._kw(column, "nullable"))
                and risks._kw(column, "server_default") is None
            ):
                name = risks._string(column.args[0]) if column.args else None
                found.append(Change("add_not_null", table, name, line))
    return found


_DOES = {
    "drop_column": "dropped",
    "rename_column": "renamed",
    "alter_type": "given another type",
    "drop_table": "dropped",
    "rename_table": "renamed",
}


def judge(
    findings: list[risks.Finding],
    pending: list[scripts.Revision],
    used: live_code.Evidence,
    live: Live,
    severities: dict[str, str] | None = None,
    allowed: dict | None = None,
) -> list[risks.Finding]:
    """The findings with each drop, rename and type change of a pending revision judged by
    the evidence: an error naming both places where the live release uses it, a notice
    (the contract step) where it does not; a NOT NULL column without a default on a table
    the live release inserts into, without writing that column, is an error too."""
    judged: list[risks.Finding] = []
    replaced: set[tuple[str, int]] = set()
    for rev in pending:
        for change in changes(rev):
            finding = _judge(rev, change, used, live)
            if finding is None:
                continue
            replaced.add((str(rev.path), change.line))
            severity = (severities or {}).get(finding.rule) or finding.severity
            if severity == risks.OFF:
                continue
            reason = risks._accepted(rev, finding.line, finding.rule, allowed or {})
            judged.append(
                risks.Finding(
                    finding.rule,
                    severity,
                    finding.file,
                    finding.line,
                    finding.revision,
                    finding.message,
                    finding.hint,
                    accepted=reason is not None,
                    reason=reason or "",
                )
            )
    kept = [f for f in findings if not (f.rule in SUPERSEDED and (f.file, f.line) in replaced)]
    return kept + judged


def _judge(rev: scripts.Revision, change: Change, used: live_code.Evidence, live: Live) -> risks.Finding | None:
    where = f"{rev.path.name}:{change.line}"
    if change.kind == "add_not_null":
        if change.table not in used.mapped or change.column is None or used.reads(change.table, change.column):
            return None
        place = used.reads(change.table)
        message = (
            f"`{change.table}.{change.column}` is added NOT NULL without a default in {where}, but {live.ref} inserts "
            f"into {change.table} without it ({place[0]}:{place[1]}): its inserts would fail"
        )
        return _finding("live-release-inserts", rev, change.line, message)
    thing = f"{change.table}.{change.column}" if change.column else change.table
    place = used.reads(change.table, change.column) if change.column else used.reads(change.table)
    if place is not None:
        message = (
            f"`{thing}` is {_DOES[change.kind]} in {where}, but {live.ref} still uses it ({place[0]}:{place[1]}): "
            f"do it in a release after the one that stops using it"
        )
        return _finding("live-release-uses", rev, change.line, message)
    if change.kind in ("drop_column", "drop_table"):
        message = f"`{thing}` is dropped in {where} and {live.ref} no longer uses it: the contract step"
        return _finding("contract-step", rev, change.line, message)
    return None  # a rename or type change of something unused: the usual rules stand


def _finding(rule: str, rev: scripts.Revision, line: int, message: str) -> risks.Finding:
    severity, hint = risks.RULES[rule]
    return risks.Finding(rule, severity, str(rev.path), line, rev.revision, message, hint)
