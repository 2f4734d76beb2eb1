"""The preflight itself: the revision graph and risk rules over the files, the rehearsal on a
throwaway database with the project's own alembic (optionally a round trip and a model
check), offline SQL and squawk — and, after a deploy, where the database stands. The
command (commands/alembic_preflight.py) parses its inputs into `Inputs` and renders this."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from deploy_actions.console import Reporter
from deploy_actions.errors import UsageError
from deploy_actions.migrations import graph as graph_rules
from deploy_actions.migrations import risks, scripts


@dataclass(frozen=True)
class Inputs:
    mode: str
    cwd: Path
    config: str
    command: str
    database_url: str
    url_env: str
    from_revision: str
    round_trip: bool
    check_models: bool
    changed_since: str
    severities: dict = field(default_factory=dict)
    expected_heads: int | tuple[str, ...] = 1
    allowed: dict = field(default_factory=dict)
    sql_path: str = ""
    squawk: bool = False
    entrypoint: str = ""
    timeout: float = 600
    ini_section: str = "alembic"  # alembic -n: one of several databases' sections in alembic.ini
    live_ref: str = "none"  # the release running beside the migration: a ref, auto or none
    pgoptions: str = ""  # the deploy's migration timeouts, for the rehearsal (migrations/timeouts.py)
    lock_timeout: float = 0.0  # seconds; 0: the deploy sets none


def _changed_files(cwd: Path, ref: str) -> set[Path]:
    proc = subprocess.run(
        ["git", "diff", "--name-only", "--end-of-options", f"{ref}...HEAD"], cwd=cwd, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise UsageError(
            f"git cannot compare with {ref!r}: {proc.stderr.strip().splitlines()[-1:]}", input="changed-since"
        )
    top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=cwd, capture_output=True, text=True).stdout
    return {(Path(top.strip()) / name).resolve() for name in proc.stdout.split()}


def _graph_findings(graph: graph_rules.Graph) -> list[risks.Finding]:
    return [
        risks.Finding(
            p.rule,
            risks.ERROR,
            str(p.revision.path) if p.revision else "",
            p.revision.line if p.revision else 0,
            p.revision.revision if p.revision else "",
            p.message,
            "fix the revision graph before deploying",
        )
        for p in graph.problems
    ]


def _entrypoint_findings(path: str) -> list[risks.Finding]:
    from deploy_actions import inputfiles

    lines = inputfiles.read_text(path, "entrypoint", what="entrypoint").splitlines()
    found = []
    for number, line in enumerate(lines, 1):
        if re.search(r"\bupgrade\s+heads\b", line):
            found.append(
                risks.Finding(
                    "upgrade-heads",
                    risks.WARNING,
                    path,
                    number,
                    "",
                    "runs `upgrade heads` (every branch) while the preflight checks `upgrade head`",
                    "merge the heads and run `alembic upgrade head`",
                )
            )
    return found


class Preflight:
    def __init__(self, inputs: Inputs, reporter: Reporter):
        from deploy_actions.migrations.alembic_cli import Alembic

        self.inputs, self.reporter = inputs, reporter
        self.alembic = Alembic.of(
            inputs.command,
            inputs.cwd,
            inputs.config,
            inputs.url_env,
            inputs.timeout,
            inputs.ini_section,
            inputs.pgoptions,
        )
        self.findings: list[risks.Finding] = []
        self.steps: list[tuple[str, bool, str]] = []  # (step, ok, detail) for the summary

    def problem(self, rule: str, message: str, *, revision: str = "", hint: str = "") -> None:
        rev = self.graph.revisions.get(revision) if revision else None
        self.findings.append(
            risks.Finding(
                rule, risks.ERROR, str(rev.path) if rev else "", rev.line if rev else 0, revision, message, hint
            )
        )

    def cross_check(self, folders: list[Path], analysed: set[str]) -> None:
        """The pending revisions against the live release's code (migrations/live.py)."""
        from deploy_actions.migrations import live

        release = live.resolve(self.inputs.cwd, self.inputs.live_ref)
        if release is None:
            self.steps.append(("live release", True, "none before this commit (no v* tag): not cross-checked"))
            return
        have = live.revisions_at(release, folders)
        pending = [r for rid, r in self.graph.revisions.items() if rid not in have and rid in analysed]
        used = live.evidence(release, folders)
        self.findings = live.judge(self.findings, pending, used, release, self.inputs.severities, self.inputs.allowed)
        self.steps.append(
            (
                "live release",
                True,
                f"{release.ref} ({release.commit[:12]}): {len(pending)} pending revision(s) checked against "
                f"{len(used.tables)} table(s) and {len(used.columns)} column(s) its code uses",
            )
        )

    def rehearse(self) -> None:
        from deploy_actions.migrations import database

        with database.throwaway(self.inputs.database_url) as url:
            self.reporter.info(f"throwaway database {database.redact(url)}")
            if self.inputs.from_revision and not self._upgrade(
                url, self.inputs.from_revision, "upgrade to from-revision"
            ):
                return
            target = "heads" if len(self.graph.heads) > 1 else "head"  # several only when expected
            if not self._upgrade(url, target, f"upgrade to {target}"):
                return
            if self.inputs.check_models:
                with self.reporter.group("alembic check"):
                    result = self.alembic.run("check", url=url)
                    self.reporter.foreign(result.output.strip())
                self.steps.append(("models match migrations", result.ok, "" if result.ok else result.tail(3)))
                if not result.ok:
                    self.problem(
                        "model-drift",
                        f"models differ from the migrations: {result.tail(3)}",
                        hint="generate a migration for the model change (alembic revision --autogenerate)",
                    )
        if self.inputs.round_trip:
            self.round_trip()

    def _upgrade(self, url: str, target: str, step: str) -> bool:
        with self.reporter.group(f"alembic upgrade {target}"):
            result = self.alembic.run("upgrade", target, url=url)
            self.reporter.foreign(result.output.strip())
        failing = (result.failing_revision() or self._next_after(url)) if not result.ok else None
        self.steps.append((step, result.ok, "" if result.ok else f"failed at {failing or '?'}"))
        if not result.ok:
            self.problem(
                "upgrade-failed",
                f"`alembic upgrade {target}` failed at revision {failing or '?'}: {result.error()}",
                revision=failing or "",
                hint="fix the migration; PostgreSQL rolled the failed revision back",
            )
        return result.ok

    def _next_after(self, url: str) -> str | None:
        """Without alembic's log lines: the revision after the last one the database recorded."""
        from deploy_actions.migrations import database

        done = database.current(url)
        order = self.graph.order
        if not done:
            return order[0] if order else None
        index = max(order.index(r) for r in done if r in order)
        return order[index + 1] if index + 1 < len(order) else None

    def round_trip(self) -> None:
        from deploy_actions.migrations import database

        if any(len(r.down) > 1 for r in self.graph.revisions.values()) or len(self.graph.bases) != 1:
            self.steps.append(("round trip", True, "skipped: needs a linear history"))
            return
        with database.throwaway(self.inputs.database_url) as url:
            for revision in self.graph.order:
                before = database.schema(url)
                up = self.alembic.run("upgrade", revision, url=url)
                down = self.alembic.run("downgrade", "-1", url=url) if up.ok else up
                after = database.schema(url) if down.ok else before
                again = self.alembic.run("upgrade", revision, url=url) if down.ok else down
                what = _round_trip_problem(up.ok, down.ok, again.ok, before, after)
                if what:
                    self.steps.append(("round trip", False, f"{revision}: {what}"))
                    self.problem(
                        "round-trip",
                        f"revision {revision}: {what}",
                        revision=revision,
                        hint="make downgrade() undo exactly what upgrade() does, or accept forward-fix only",
                    )
                    return
        self.steps.append(("round trip", True, f"{len(self.graph.order)} revisions"))

    def offline_sql(self) -> None:
        start = f"{self.inputs.from_revision}:head" if self.inputs.from_revision else "head"
        result = self.alembic.run("upgrade", start, "--sql", url=self.inputs.database_url or "postgresql://")
        self.steps.append(("offline SQL", result.ok, self.inputs.sql_path if result.ok else result.tail(3)))
        if not result.ok:
            self.problem("offline-sql", f"`alembic upgrade {start} --sql` failed: {result.tail(3)}")
            return
        sql = "\n".join(line for line in result.output.splitlines() if not line.startswith("INFO  [alembic"))
        try:
            Path(self.inputs.sql_path).parent.mkdir(parents=True, exist_ok=True)
            Path(self.inputs.sql_path).write_text(sql + "\n", encoding="utf-8")
        except OSError as exc:
            raise UsageError(
                f"cannot write the offline SQL to {self.inputs.sql_path}: {exc.strerror}", input="sql-path"
            ) from None
        if self.inputs.squawk:
            self.squawk()

    def squawk(self) -> None:
        """squawk's findings on the offline SQL, at their line, with its own level."""
        proc = subprocess.run(
            ["squawk", "--reporter", "json", self.inputs.sql_path],
            capture_output=True,
            text=True,
            timeout=self.inputs.timeout,
        )
        try:
            reported = json.loads(proc.stdout or "[]")
        except ValueError:
            self.steps.append(("squawk", False, (proc.stderr or proc.stdout).strip()[:200]))
            return
        for item in reported:
            level = risks.ERROR if str(item.get("level", "")).lower() == "error" else risks.WARNING
            self.findings.append(
                risks.Finding(
                    f"squawk:{item.get('rule_name')}",
                    level,
                    self.inputs.sql_path,
                    int(item.get("line", 0)) + 1,
                    "",
                    item.get("message", ""),
                    item.get("help") or "see squawk's documentation for the rule",
                )
            )
        self.steps.append(("squawk", True, f"{len(reported)} finding(s)"))

    def run(self) -> None:
        config = self.inputs.cwd / self.inputs.config
        pyproject = self.inputs.cwd / "pyproject.toml"
        folders, recursive = scripts.locate(config, pyproject, section=self.inputs.ini_section)
        revisions = scripts.load(folders, recursive)
        searched = f"{', '.join(map(str, folders))} (script_location / version_locations of {config.name})"
        self.graph = graph_rules.build(revisions, self.inputs.expected_heads, searched=searched)
        self.findings += _graph_findings(self.graph)
        graph_ok = not self.graph.problems
        self.steps.append(
            (
                "one head, complete graph",
                graph_ok,
                f"head {self.graph.head}" if graph_ok else "; ".join(p.rule for p in self.graph.problems),
            )
        )
        subset = revisions
        if self.inputs.changed_since:
            changed = _changed_files(self.inputs.cwd, self.inputs.changed_since)
            subset = [r for r in revisions if r.path.resolve() in changed]
            self.reporter.info(
                f"risk analysis of {len(subset)} revision files changed since {self.inputs.changed_since}"
            )
        for revision in subset:
            self.findings += risks.analyse(revision, severities=self.inputs.severities, allowed=self.inputs.allowed)
        if self.inputs.live_ref != "none":
            self.cross_check(folders, {r.revision for r in subset})
        if not self.inputs.lock_timeout:
            self.findings += _lock_timeout_findings(subset, folders, self.inputs)
        # With several heads on purpose, an entrypoint's `upgrade heads` is right.
        if self.inputs.entrypoint and self.inputs.expected_heads == 1:
            self.findings += _entrypoint_findings(self.inputs.entrypoint)
        if self.inputs.sql_path and graph_ok:
            self.offline_sql()
        if self.inputs.database_url and graph_ok:
            self.rehearse()


def _lock_timeout_findings(revisions: list, folders: list[Path], inputs: Inputs) -> list[risks.Finding]:
    """With no migration-lock-timeout, each revision that locks an existing table hard and
    does not set lock_timeout itself (nor env.py for every revision)."""
    from deploy_actions import inputfiles

    for path in (folder.parent / "env.py" for folder in folders):
        try:
            if path.is_file() and risks.SETS_LOCK_TIMEOUT.search(inputfiles.read_text(path, "config", what="env.py")):
                return []
        except UsageError:
            continue  # not readable here: alembic itself will say so
    found = []
    for rev in revisions:
        strong = risks.strong_lock(rev)
        if strong is None:
            continue
        line, table = strong
        rule = "no-lock-timeout"
        severity = inputs.severities.get(rule) or risks.RULES[rule][0]
        if severity == risks.OFF:
            continue
        reason = risks._accepted(rev, line, rule, inputs.allowed)
        where = f" {table!r}" if table else ""
        found.append(
            risks.Finding(
                rule,
                severity,
                str(rev.path),
                line,
                rev.revision,
                f"locks existing table{where} and no lock_timeout is set (not by the deploy's migration-lock-timeout, "
                "this revision or env.py): while it waits for a lock, every query on the table waits behind it",
                risks.RULES[rule][1],
                accepted=reason is not None,
                reason=reason or "",
            )
        )
    return found


def _round_trip_problem(up: bool, down: bool, again: bool, before: list, after: list) -> str | None:
    if not up:
        return "upgrade failed"
    if not down:
        return "downgrade() failed"
    if after != before:
        differences = sorted(set(after) ^ set(before))
        return f"downgrade() leaves the schema different ({len(differences)} differences, e.g. {differences[0]})"
    if not again:
        return "upgrade after downgrade failed"
    return None


def deployed(inputs: Inputs) -> tuple[graph_rules.Graph, list[str]]:
    """The migrations' graph and the revisions the target database records (read-only)."""
    from deploy_actions.migrations import database

    config = inputs.cwd / inputs.config
    graph = graph_rules.build(scripts.load_project(config, inputs.cwd / "pyproject.toml", inputs.ini_section))
    return graph, database.current(inputs.database_url)
