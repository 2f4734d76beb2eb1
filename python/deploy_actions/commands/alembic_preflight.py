"""alembic-preflight: migrations that cannot break or destroy the database. One head, a
clean upgrade on a throwaway database (optionally from what production runs today), risky
operations flagged with a fix, and after a deploy: is the database at head?"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from deploy_actions import gha
from deploy_actions.console import Reporter
from deploy_actions.errors import UsageError
from deploy_actions.migrations import preflight, risks
from deploy_actions.migrations import timeouts as migration_timeouts
from deploy_actions.migrations.preflight import Inputs
from deploy_actions.options import Command, Option
from deploy_actions.results import Result
from deploy_actions.values import lines, parse_bool, parse_duration, parse_int, parse_list

MODES = ("check", "post-deploy")
OPTIONS = (
    Option(
        "mode",
        "`check` (graph, risks and, with database-url, a rehearsal on a throwaway database) or "
        "`post-deploy` (read-only: is the database at database-url at head?).",
        default="check",
    ),
    Option(
        "working-directory", "Folder to run alembic in (where alembic.ini is), e.g. backend.", default=".", path="one"
    ),
    Option(
        "config",
        "alembic.ini, relative to working-directory. As alembic 1.16+ does, options it does not set "
        "are read from pyproject.toml's [tool.alembic] in working-directory.",
        default="alembic.ini",
        path="one",
    ),
    Option(
        "ini-section",
        "The section of the config alembic reads (`alembic -n`), for a file that holds several databases' "
        "settings, e.g. `core`.",
        default="alembic",
    ),
    Option("alembic-command", "How to run the project's alembic, e.g. `uv run alembic`.", default="alembic"),
    Option(
        "database-url",
        "check: a PostgreSQL server URL whose user may create databases (a throwaway database "
        "is made and dropped there); post-deploy: the target database. Masked.",
        secret=True,
    ),
    Option("url-env", "Environment variable the project's env.py reads the database URL from.", default="DATABASE_URL"),
    Option("from-revision", "Upgrade to this revision first (what production runs today), then to head."),
    Option(
        "live-ref",
        "The release that runs while the migration does (a tag or commit, e.g. the deploy's previous tag); its code "
        "is read from git, and a pending revision that drops, renames or retypes what it still uses is an error. "
        "`auto`: the newest `v*` tag before this commit; `none`: no cross-check. Needs the history "
        "(actions/checkout with fetch-depth: 0).",
        default="auto",
    ),
    Option(
        "round-trip",
        "For each revision: upgrade, downgrade one step, upgrade again; report the first whose "
        "downgrade fails or leaves the schema different.",
        default="false",
        switch=True,
    ),
    Option(
        "check-models",
        "Run `alembic check` after the upgrade: models that no migration covers.",
        default="false",
        switch=True,
    ),
    Option(
        "changed-since",
        "Analyse only revision files changed since this git ref (e.g. origin/main); the graph is always checked whole.",
    ),
    Option(
        "expected-heads",
        "How many heads the history keeps on purpose (expand/contract layouts with branch_labels), or their branch "
        "labels, comma separated, e.g. `2` or `expand, contract`. Several heads are then upgraded with `upgrade "
        "heads`.",
        default="1",
    ),
    Option("severity", "Override rule severities, one `rule=error|warning|off` per line."),
    Option(
        "allow",
        "Accepted findings, one `<revision or file>:<rule> <reason>` per line (or a "
        "`# preflight: allow <rule> – <reason>` comment on the line).",
    ),
    Option("sql-path", "Write the offline SQL of the upgrade (`alembic upgrade --sql`) to this file.", path="one"),
    Option(
        "squawk",
        "Lint the offline SQL with squawk (PyPI squawk-cli, on PATH) and add its findings; needs sql-path.",
        default="false",
        switch=True,
    ),
    Option(
        "entrypoint",
        "The deploy entrypoint or script that runs migrations; checked for `upgrade heads` vs `upgrade head`.",
        path="one",
    ),
    Option("command-timeout", "Longest any single alembic command may take.", default="10m"),
    # The deploy's, so the rehearsal runs the way the deploy will; with none, strong locks are flagged.
    *migration_timeouts.OPTIONS[:2],
)
OUTPUTS = {
    "heads": "Head revisions, one per line.",
    "head": "The head revision when there is exactly one.",
    "findings": "JSON list: rule, severity, file, line, revision, message, hint, accepted, reason.",
    "sql-path": "Where the offline SQL was written (empty if not asked).",
    "passed": "`true` when nothing blocking was found.",
}


def _severities(raw: str) -> dict[str, str]:
    result = {}
    for number, line in enumerate(lines(raw), 1):
        if not line.strip():
            continue
        rule, _, level = (part.strip() for part in line.partition("="))
        if rule not in risks.RULES or level not in (risks.ERROR, risks.WARNING, risks.NOTICE, risks.OFF):
            raise UsageError(
                f"line {number}: expected `rule=error|warning|notice|off` with a rule among "
                f"{', '.join(risks.RULES)}, got {line.strip()!r}",
                input="severity",
            )
        result[rule] = level
    return result


def _allowed(raw: str) -> dict[tuple[str, str], str]:
    result = {}
    for number, line in enumerate(lines(raw), 1):
        if not line.strip():
            continue
        match = re.match(r"^\s*(\S+):([\w-]+)\s+(\S.*)$", line)
        if not match or match.group(2) not in risks.RULES:
            raise UsageError(
                f"line {number}: expected `<revision or file>:<rule> <reason>`, got {line.strip()!r}", input="allow"
            )
        result[(match.group(1), match.group(2))] = match.group(3).strip()
    return result


def _expected_heads(raw: str) -> int | tuple[str, ...]:
    text = raw.strip() or "1"
    if text.isdigit():
        return parse_int(text, "expected-heads", minimum=1, maximum=100)
    labels = tuple(parse_list(text))
    bad = [label for label in labels if not re.match(r"^[A-Za-z0-9_.-]+$", label)]
    if bad or len(set(labels)) != len(labels):
        raise UsageError(f"expected a number of heads or distinct branch labels, got {text!r}", input="expected-heads")
    return labels


def parse_inputs(raw: Mapping[str, str], env: Mapping[str, str] | None = None) -> Inputs:
    mode = raw["mode"].strip()
    if mode not in MODES:
        raise UsageError(f"expected check or post-deploy, got {mode!r}", input="mode")
    cwd = Path(raw["working-directory"].strip() or ".")
    if not cwd.is_dir():
        raise UsageError(f"{str(cwd)!r} is not a folder", input="working-directory")
    timeouts = migration_timeouts.parse(raw)
    url = raw["database-url"].strip()
    if url:
        from deploy_actions.migrations.database_url import check_url

        check_url(url, "database-url")
    if mode == "post-deploy" and not url:
        raise UsageError("is required in post-deploy mode: the database to check", input="database-url")
    if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", raw["url-env"].strip()):
        raise UsageError("expected an environment variable name", input="url-env")
    round_trip, check_models = (
        parse_bool(raw["round-trip"], "round-trip"),
        parse_bool(raw["check-models"], "check-models"),
    )
    if (round_trip or check_models or raw["from-revision"].strip()) and not url:
        raise UsageError(
            "round-trip, check-models and from-revision need database-url (a server to make a throwaway database on)",
            input="database-url",
        )
    if raw["changed-since"].strip().startswith("-"):
        raise UsageError(
            f"expected a git ref such as origin/main, got {raw['changed-since'].strip()!r}", input="changed-since"
        )
    squawk = parse_bool(raw["squawk"], "squawk")
    if raw["sql-path"].strip() and Path(raw["sql-path"].strip()).is_dir():
        raise UsageError(
            f"{raw['sql-path'].strip()!r} is a folder: give a file to write the SQL to (e.g. upgrade.sql)",
            input="sql-path",
        )
    if squawk and not raw["sql-path"].strip():
        raise UsageError("squawk lints the offline SQL: set sql-path too", input="squawk")
    if squawk and not shutil.which("squawk"):
        raise UsageError("squawk is not on PATH: pip install squawk-cli", input="squawk")
    return Inputs(
        mode=mode,
        cwd=cwd,
        config=raw["config"].strip() or "alembic.ini",
        command=raw["alembic-command"].strip() or "alembic",
        database_url=url,
        url_env=raw["url-env"].strip(),
        from_revision=raw["from-revision"].strip(),
        round_trip=round_trip,
        check_models=check_models,
        changed_since=raw["changed-since"].strip(),
        severities=_severities(raw["severity"]),
        expected_heads=_expected_heads(raw["expected-heads"]),
        allowed=_allowed(raw["allow"]),
        sql_path=raw["sql-path"].strip(),
        squawk=squawk,
        entrypoint=raw["entrypoint"].strip(),
        timeout=parse_duration(raw["command-timeout"], "command-timeout", minimum=1),
        ini_section=_ini_section(raw["ini-section"]),
        live_ref=_live_ref(raw["live-ref"]),
        pgoptions=timeouts.pgoptions(),
        lock_timeout=timeouts.lock,
    )


def _live_ref(raw: str) -> str:
    ref = raw.strip() or "auto"
    if ref.startswith("-") or not re.fullmatch(r"[\w./@{}^~-]{1,200}", ref) or ".." in ref:
        raise UsageError(f"expected a tag or commit (or auto, none), got {ref[:40]!r}", input="live-ref")
    return ref


def _ini_section(raw: str) -> str:
    section = raw.strip() or "alembic"
    if not re.fullmatch(r"[\w.:-]{1,100}", section):
        raise UsageError(
            f"expected an ini section name such as alembic or core, got {section[:40]!r}", input="ini-section"
        )
    return section


def _post_deploy(inputs: Inputs) -> Result:
    graph, current = preflight.deployed(inputs)
    at_head = bool(graph.heads) and current == graph.heads
    verdict = f"database at {', '.join(current) or 'no revision'}; migrations head {', '.join(graph.heads)}"
    result = Result(
        at_head,
        outputs={
            "heads": "\n".join(graph.heads),
            "head": graph.head or "",
            "findings": [],
            "sql-path": "",
            "passed": "true" if at_head else "false",
        },
        document={"current": current, "heads": graph.heads, "at_head": at_head},
        summary=f"### {'✅' if at_head else '❌'} alembic-preflight post-deploy\n\n{verdict}\n",
        message=verdict if at_head else "",
    )
    if not at_head:
        result.error(
            f"{verdict}: the deploy did not apply every migration (run `alembic upgrade head` once)",
            title="alembic-preflight: not at head",
        )
    return result


def run(inputs: Inputs, reporter: Reporter) -> Result:
    if inputs.mode == "post-deploy":
        return _post_deploy(inputs)
    check = preflight.Preflight(inputs, reporter)
    check.run()
    findings = check.findings
    blocking = [f for f in findings if f.severity == risks.ERROR and not f.accepted]
    graph = check.graph
    offline = any(s[0] == "offline SQL" and s[1] for s in check.steps)
    result = Result(
        not blocking,
        outputs={
            "heads": "\n".join(graph.heads),
            "head": graph.head or "",
            "findings": [f.as_dict() for f in findings],
            "sql-path": inputs.sql_path if offline else "",
            "passed": "false" if blocking else "true",
        },
        document={
            "passed": not blocking,
            "heads": graph.heads,
            "steps": check.steps,
            "findings": [f.as_dict() for f in findings],
        },
        message=f"alembic-preflight: {len(blocking)} blocking finding(s)"
        if blocking
        else f"alembic-preflight passed ({len(findings)} finding(s), none blocking)",
    )
    for finding in findings:
        if not finding.accepted:
            channel = {risks.ERROR: result.error, risks.NOTICE: result.notice}.get(finding.severity, result.warning)
            channel(
                f"{finding.message}. Fix: {finding.hint}",
                title=f"alembic-preflight: {finding.rule}",
                file=finding.file or None,
                line=finding.line or None,
            )
    steps = gha.md_table(["Check", "Result", "Detail"], [[s, "✅" if ok else "❌", d] for s, ok, d in check.steps])
    rows = [
        [
            f.rule,
            f.severity + (" (accepted)" if f.accepted else ""),
            f"{Path(f.file).name}:{f.line}" if f.file else "",
            f.message + (f" — accepted: {f.reason}" if f.accepted else ""),
        ]
        for f in findings
    ]
    table = gha.md_table(["Rule", "Severity", "Where", "Finding"], rows) if rows else "No risky operations found.\n"
    result.summary = f"### {'❌' if blocking else '✅'} alembic-preflight\n\n{steps}\n{table}"
    return result


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
