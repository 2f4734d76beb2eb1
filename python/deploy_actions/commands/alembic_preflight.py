"""alembic-preflight: migrations that cannot break or destroy the database. One head, a
clean upgrade on a throwaway database (optionally from what production runs today), risky
operations flagged with a fix, and after a deploy: is the database at head?"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from deploy_actions import gha
from deploy_actions.console import Reporter
from deploy_actions.errors import EXIT_CHECK_FAILED, EXIT_OK, UsageError
from deploy_actions.migrations import graph as graph_rules
from deploy_actions.migrations import risks, scripts
from deploy_actions.options import Command, Option
from deploy_actions.values import parse_bool, parse_duration

MODES = ("check", "post-deploy")
OPTIONS = (
    Option("mode", "`check` (graph, risks and, with database-url, a rehearsal on a throwaway database) or "
           "`post-deploy` (read-only: is the database at database-url at head?).", default="check"),
    Option("working-directory", "Folder to run alembic in (where alembic.ini is), e.g. backend.", default="."),
    Option("config", "alembic.ini, relative to working-directory.", default="alembic.ini"),
    Option("alembic-command", "How to run the project's alembic, e.g. `uv run alembic`.", default="alembic"),
    Option("database-url", "check: a PostgreSQL server URL whose user may create databases (a throwaway database "
           "is made and dropped there); post-deploy: the target database. Masked.", secret=True),
    Option("url-env", "Environment variable the project's env.py reads the database URL from.",
           default="DATABASE_URL"),
    Option("from-revision", "Upgrade to this revision first (what production runs today), then to head."),
    Option("round-trip", "For each revision: upgrade, downgrade one step, upgrade again; report the first whose "
           "downgrade fails or leaves the schema different.", default="false", switch=True),
    Option("check-models", "Run `alembic check` after the upgrade: models that no migration covers.",
           default="false", switch=True),
    Option("changed-since", "Analyse only revision files changed since this git ref (e.g. origin/main); the graph "
           "is always checked whole."),
    Option("severity", "Override rule severities, one `rule=error|warning|off` per line."),
    Option("allow", "Accepted findings, one `<revision or file>:<rule> <reason>` per line (or a "
           "`# preflight: allow <rule> – <reason>` comment on the line)."),
    Option("sql-path", "Write the offline SQL of the upgrade (`alembic upgrade --sql`) to this file."),
    Option("squawk", "Lint the offline SQL with squawk (PyPI squawk-cli, on PATH) and add its findings; needs "
           "sql-path.", default="false", switch=True),
    Option("entrypoint", "The deploy entrypoint or script that runs migrations; checked for `upgrade heads` "
           "vs `upgrade head`."),
    Option("timeout", "Longest any single alembic command may take.", default="10m"),
)
OUTPUTS = {
    "heads": "Head revisions, one per line.",
    "head": "The head revision when there is exactly one.",
    "findings": "JSON list: rule, severity, file, line, revision, message, hint, accepted, reason.",
    "sql-path": "Where the offline SQL was written (empty if not asked).",
    "passed": "`true` when nothing blocking was found.",
}


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
    allowed: dict = field(default_factory=dict)
    sql_path: str = ""
    squawk: bool = False
    entrypoint: str = ""
    timeout: float = 600


def _severities(raw: str) -> dict[str, str]:
    result = {}
    for number, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        rule, _, level = (part.strip() for part in line.partition("="))
        if rule not in risks.RULES or level not in (risks.ERROR, risks.WARNING, risks.OFF):
            raise UsageError(f"line {number}: expected `rule=error|warning|off` with a rule among "
                             f"{', '.join(risks.RULES)}, got {line.strip()!r}", input="severity")
        result[rule] = level
    return result


def _allowed(raw: str) -> dict[tuple[str, str], str]:
    result = {}
    for number, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        match = re.match(r"^\s*(\S+):([\w-]+)\s+(\S.*)$", line)
        if not match or match.group(2) not in risks.RULES:
            raise UsageError(f"line {number}: expected `<revision or file>:<rule> <reason>`, got {line.strip()!r}",
                             input="allow")
        result[(match.group(1), match.group(2))] = match.group(3).strip()
    return result


def parse_inputs(raw: Mapping[str, str], env: Mapping[str, str] | None = None) -> Inputs:
    mode = raw["mode"].strip()
    if mode not in MODES:
        raise UsageError(f"expected check or post-deploy, got {mode!r}", input="mode")
    cwd = Path(raw["working-directory"].strip() or ".")
    if not cwd.is_dir():
        raise UsageError(f"{str(cwd)!r} is not a folder", input="working-directory")
    url = raw["database-url"].strip()
    if url:
        from deploy_actions.migrations.database import check_url

        check_url(url, "database-url")
    if mode == "post-deploy" and not url:
        raise UsageError("is required in post-deploy mode: the database to check", input="database-url")
    if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", raw["url-env"].strip()):
        raise UsageError("expected an environment variable name", input="url-env")
    round_trip, check_models = parse_bool(raw["round-trip"], "round-trip"), parse_bool(raw["check-models"],
                                                                                       "check-models")
    if (round_trip or check_models or raw["from-revision"].strip()) and not url:
        raise UsageError("round-trip, check-models and from-revision need database-url (a server to make a "
                         "throwaway database on)", input="database-url")
    squawk = parse_bool(raw["squawk"], "squawk")
    if raw["sql-path"].strip() and Path(raw["sql-path"].strip()).is_dir():
        raise UsageError(f"{raw['sql-path'].strip()!r} is a folder: give a file to write the SQL to (e.g. "
                         "upgrade.sql)", input="sql-path")
    if squawk and not raw["sql-path"].strip():
        raise UsageError("squawk lints the offline SQL: set sql-path too", input="squawk")
    if squawk and not shutil.which("squawk"):
        raise UsageError("squawk is not on PATH: pip install squawk-cli", input="squawk")
    return Inputs(mode=mode, cwd=cwd, config=raw["config"].strip() or "alembic.ini",
                  command=raw["alembic-command"].strip() or "alembic", database_url=url,
                  url_env=raw["url-env"].strip(), from_revision=raw["from-revision"].strip(), round_trip=round_trip,
                  check_models=check_models, changed_since=raw["changed-since"].strip(),
                  severities=_severities(raw["severity"]), allowed=_allowed(raw["allow"]),
                  sql_path=raw["sql-path"].strip(), squawk=squawk, entrypoint=raw["entrypoint"].strip(),
                  timeout=parse_duration(raw["timeout"], "timeout", minimum=1))


def _changed_files(cwd: Path, ref: str) -> set[Path]:
    proc = subprocess.run(["git", "diff", "--name-only", f"{ref}...HEAD"], cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise UsageError(f"git cannot compare with {ref!r}: {proc.stderr.strip().splitlines()[-1:]}",
                         input="changed-since")
    top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=cwd, capture_output=True, text=True).stdout
    return {(Path(top.strip()) / name).resolve() for name in proc.stdout.split()}


def _graph_findings(graph: graph_rules.Graph) -> list[risks.Finding]:
    return [risks.Finding(p.rule, risks.ERROR, str(p.revision.path) if p.revision else "",
                          p.revision.line if p.revision else 0, p.revision.revision if p.revision else "",
                          p.message, "fix the revision graph before deploying") for p in graph.problems]


def _entrypoint_findings(path: str) -> list[risks.Finding]:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UsageError(f"cannot read {path!r}: {exc.strerror}", input="entrypoint") from None
    found = []
    for number, line in enumerate(lines, 1):
        if re.search(r"\bupgrade\s+heads\b", line):
            found.append(risks.Finding("upgrade-heads", risks.WARNING, path, number, "",
                                       "runs `upgrade heads` (every branch) while the preflight checks `upgrade "
                                       "head`", "merge the heads and run `alembic upgrade head`"))
    return found


class Preflight:
    def __init__(self, inputs: Inputs, reporter: Reporter):
        from deploy_actions.migrations.alembic_cli import Alembic

        self.inputs, self.reporter = inputs, reporter
        self.alembic = Alembic.of(inputs.command, inputs.cwd, inputs.config, inputs.url_env, inputs.timeout)
        self.findings: list[risks.Finding] = []
        self.steps: list[tuple[str, bool, str]] = []  # (step, ok, detail) for the summary

    def problem(self, rule: str, message: str, *, revision: str = "", hint: str = "") -> None:
        rev = self.graph.revisions.get(revision) if revision else None
        self.findings.append(risks.Finding(rule, risks.ERROR, str(rev.path) if rev else "", rev.line if rev else 0,
                                           revision, message, hint))

    def rehearse(self) -> None:
        from deploy_actions.migrations import database

        with database.throwaway(self.inputs.database_url) as url:
            self.reporter.info(f"throwaway database {database.redact(url)}")
            if self.inputs.from_revision and not self._upgrade(url, self.inputs.from_revision,
                                                                "upgrade to from-revision"):
                return
            if not self._upgrade(url, "head", "upgrade to head"):
                return
            if self.inputs.check_models:
                with self.reporter.group("alembic check"):
                    result = self.alembic.run("check", url=url)
                    self.reporter.foreign(result.output.strip())
                self.steps.append(("models match migrations", result.ok, "" if result.ok else result.tail(3)))
                if not result.ok:
                    self.problem("model-drift", f"models differ from the migrations: {result.tail(3)}",
                                 hint="generate a migration for the model change (alembic revision --autogenerate)")
        if self.inputs.round_trip:
            self.round_trip()

    def _upgrade(self, url: str, target: str, step: str) -> bool:
        with self.reporter.group(f"alembic upgrade {target}"):
            result = self.alembic.run("upgrade", target, url=url)
            self.reporter.foreign(result.output.strip())
        failing = (result.failing_revision() or self._next_after(url)) if not result.ok else None
        self.steps.append((step, result.ok, "" if result.ok else f"failed at {failing or '?'}"))
        if not result.ok:
            self.problem("upgrade-failed", f"`alembic upgrade {target}` failed at revision {failing or '?'}: "
                         f"{result.error()}", revision=failing or "",
                         hint="fix the migration; PostgreSQL rolled the failed revision back")
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
                    self.problem("round-trip", f"revision {revision}: {what}", revision=revision,
                                 hint="make downgrade() undo exactly what upgrade() does, or accept forward-fix only")
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
        Path(self.inputs.sql_path).parent.mkdir(parents=True, exist_ok=True)
        Path(self.inputs.sql_path).write_text(sql + "\n", encoding="utf-8")
        if self.inputs.squawk:
            self.squawk()

    def squawk(self) -> None:
        """squawk's findings on the offline SQL, at their line, with its own level."""
        proc = subprocess.run(["squawk", "--reporter", "json", self.inputs.sql_path], capture_output=True,
                              text=True, timeout=self.inputs.timeout)
        try:
            reported = json.loads(proc.stdout or "[]")
        except ValueError:
            self.steps.append(("squawk", False, (proc.stderr or proc.stdout).strip()[:200]))
            return
        for item in reported:
            level = risks.ERROR if str(item.get("level", "")).lower() == "error" else risks.WARNING
            self.findings.append(risks.Finding(f"squawk:{item.get('rule_name')}", level, self.inputs.sql_path,
                                               int(item.get("line", 0)) + 1, "", item.get("message", ""),
                                               item.get("help") or "see squawk's documentation for the rule"))
        self.steps.append(("squawk", True, f"{len(reported)} finding(s)"))

    def run(self) -> None:
        folders = scripts.script_location(self.inputs.cwd / self.inputs.config)
        revisions = scripts.load(folders)
        self.graph = graph_rules.build(revisions)
        self.findings += _graph_findings(self.graph)
        graph_ok = not self.graph.problems
        self.steps.append(("one head, complete graph", graph_ok,
                           f"head {self.graph.head}" if graph_ok else "; ".join(p.rule for p in self.graph.problems)))
        subset = revisions
        if self.inputs.changed_since:
            changed = _changed_files(self.inputs.cwd, self.inputs.changed_since)
            subset = [r for r in revisions if r.path.resolve() in changed]
            self.reporter.info(f"risk analysis of {len(subset)} revision files changed since "
                               f"{self.inputs.changed_since}")
        for revision in subset:
            self.findings += risks.analyse(revision, severities=self.inputs.severities, allowed=self.inputs.allowed)
        if self.inputs.entrypoint:
            self.findings += _entrypoint_findings(self.inputs.entrypoint)
        if self.inputs.sql_path and graph_ok:
            self.offline_sql()
        if self.inputs.database_url and graph_ok:
            self.rehearse()


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


def _post_deploy(inputs: Inputs, reporter: Reporter) -> int:
    from deploy_actions.migrations import database

    graph = graph_rules.build(scripts.load(scripts.script_location(inputs.cwd / inputs.config)))
    current = database.current(inputs.database_url)
    at_head = bool(graph.heads) and current == graph.heads
    reporter.output("heads", "\n".join(graph.heads))
    reporter.output("head", graph.head or "")
    reporter.output("findings", [])
    reporter.output("sql-path", "")
    reporter.output("passed", "true" if at_head else "false")
    verdict = f"database at {', '.join(current) or 'no revision'}; migrations head {', '.join(graph.heads)}"
    reporter.summary(f"### {'✅' if at_head else '❌'} alembic-preflight post-deploy\n\n{verdict}\n")
    reporter.result({"current": current, "heads": graph.heads, "at_head": at_head})
    if not at_head:
        reporter.error(f"{verdict}: the deploy did not apply every migration (run `alembic upgrade head` once)",
                       title="alembic-preflight: not at head")
        return EXIT_CHECK_FAILED
    reporter.success(verdict)
    return EXIT_OK


def run(inputs: Inputs, reporter: Reporter) -> int:
    if inputs.mode == "post-deploy":
        return _post_deploy(inputs, reporter)
    preflight = Preflight(inputs, reporter)
    preflight.run()
    findings = preflight.findings
    blocking = [f for f in findings if f.severity == risks.ERROR and not f.accepted]
    for finding in findings:
        if finding.accepted:
            continue
        level = "error" if finding.severity == risks.ERROR else "warning"
        reporter.problem(level, f"{finding.message}. Fix: {finding.hint}", title=f"alembic-preflight: {finding.rule}",
                         file=finding.file or None, line=finding.line or None)
    graph = preflight.graph
    reporter.output("heads", "\n".join(graph.heads))
    reporter.output("head", graph.head or "")
    reporter.output("findings", [f.as_dict() for f in findings])
    reporter.output("sql-path", inputs.sql_path if any(s[0] == "offline SQL" and s[1] for s in preflight.steps)
                    else "")
    reporter.output("passed", "false" if blocking else "true")
    steps = gha.md_table(["Check", "Result", "Detail"], [[s, "✅" if ok else "❌", d] for s, ok, d in preflight.steps])
    rows = [[f.rule, f.severity + (" (accepted)" if f.accepted else ""), f"{Path(f.file).name}:{f.line}" if f.file
             else "", f.message + (f" — accepted: {f.reason}" if f.accepted else "")] for f in findings]
    table = gha.md_table(["Rule", "Severity", "Where", "Finding"], rows) if rows else "No risky operations found.\n"
    icon = "❌" if blocking else "✅"
    reporter.summary(f"### {icon} alembic-preflight\n\n{steps}\n{table}")
    reporter.result({"passed": not blocking, "heads": graph.heads, "steps": preflight.steps,
                     "findings": [f.as_dict() for f in findings]})
    if blocking:
        reporter.info(f"alembic-preflight: {len(blocking)} blocking finding(s)")
        return EXIT_CHECK_FAILED
    reporter.success(f"alembic-preflight passed ({len(findings)} finding(s), none blocking)")
    return EXIT_OK


COMMAND = Command(
    name="alembic-preflight",
    summary="Check alembic migrations: one head, a clean upgrade on a throwaway database, risky operations caught.",
    description=__doc__ or "",
    options=OPTIONS,
    outputs=OUTPUTS,
    parse=parse_inputs,
    run=run,
    secrets=lambda inputs: [p for p in [urlsplit(inputs.database_url).password] if p],
    branding=("database", "orange"),
)
