"""Lock and statement timeouts for a migration run, given to PostgreSQL without touching the
project's code: through `PGOPTIONS`, which libpq reads at connect time (psycopg 2 and 3,
and everything built on them: SQLAlchemy, alembic, psql). A migration waiting for a lock
blocks every query queued behind it; with `lock_timeout` it gives up instead, and the
deploy tries again after a pause. asyncpg and other drivers that do not use libpq ignore
`PGOPTIONS`: they need `server_settings={"lock_timeout": …}` in the project's engine.
One place for the three inputs and what they become; the deploys and the rehearsal use it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from deploy_actions.options import Option
from deploy_actions.values import parse_duration, parse_int

OPTIONS = (
    Option(
        "migration-lock-timeout",
        "How long the migration may wait for a lock before PostgreSQL stops it (lock_timeout, through PGOPTIONS: "
        "libpq drivers such as psycopg); it is then tried again (migration-retries). `0` waits forever.",
        default="5s",
    ),
    Option(
        "migration-statement-timeout",
        "Longest any one statement of the migration may run (statement_timeout, through PGOPTIONS); `0`: no limit.",
        default="0",
    ),
    Option(
        "migration-retries",
        "How many times a migration stopped by the lock timeout is tried again, after 2 s, 4 s, 8 s…",
        default="3",
    ),
)
# What PostgreSQL and SQLAlchemy print when lock_timeout stops a statement (SQLSTATE 55P03).
LOCK_TIMEOUT_MARKS = ("canceling statement due to lock timeout", "LockNotAvailable", "55P03")


@dataclass(frozen=True)
class Timeouts:
    lock: float  # seconds; 0: none
    statement: float
    retries: int

    def pgoptions(self, existing: str = "") -> str:
        """PGOPTIONS for the migration: the project's own first, ours after (later wins)."""
        ours = []
        if self.lock:
            ours.append(f"-c lock_timeout={round(self.lock * 1000)}")
        if self.statement:
            ours.append(f"-c statement_timeout={round(self.statement * 1000)}")
        return " ".join(part for part in (existing.strip(), *ours) if part)


def parse(raw: Mapping[str, str]) -> Timeouts:
    return Timeouts(
        lock=parse_duration(raw["migration-lock-timeout"] or "0", "migration-lock-timeout", minimum=0),
        statement=parse_duration(raw["migration-statement-timeout"] or "0", "migration-statement-timeout", minimum=0),
        retries=parse_int(raw.get("migration-retries", "0"), "migration-retries", minimum=0, maximum=20),
    )


# The statement a driver printed with the error: SQLAlchemy's `[SQL: …]`, or the deploy
# script's "… on: <statement> after N tries" (cut to its first 160 characters).
_STATEMENT = re.compile(r"\[SQL: ([^\]]+)|waiting for a lock on: (.+?) after \d+ tries", re.S)
# Where a cut statement names its table, when the parser cannot read what is left of it.
_TABLE_WORD = re.compile(
    r"\b(?:TABLE|INTO|FROM|UPDATE|ON)\s+(?:ONLY\s+|IF\s+(?:NOT\s+)?EXISTS\s+)*((?:\"[^\"]+\"|[\w$]+)(?:\.(?:\"[^\"]+\"|[\w$]+))?)",
    re.I,
)
FIND_BLOCKER = (
    "while it waits, `SELECT pid, usename, application_name, state, query FROM pg_stat_activity "
    "WHERE pid = ANY (pg_blocking_pids(<waiting pid>))` names the session holding the lock, and "
    "`log_lock_waits = on` has the server log it"
)


def locked_tables(text: str) -> list[str]:
    """The tables of the statement a lock timeout stopped, read from the driver's output:
    through PostgreSQL's parser where the statement is whole, by its keywords where it was
    cut. Empty when the output names no statement (psql prints only the error)."""
    from deploy_actions.migrations import sql

    match = _STATEMENT.search(text)
    if not match:
        return []
    statement = " ".join((match.group(1) or match.group(2)).split())
    parsed = sql.parse(statement)
    tables = [s.table for s in parsed or () if s.table] or [m.group(1) for m in _TABLE_WORD.finditer(statement)]
    return list(dict.fromkeys(t.replace('"', "") for t in tables))


def explain(problem: str, output: str = "") -> str:
    """A migration's failure, with what `lock_failure` adds when a lock timeout stopped it."""
    if not any(mark in problem or mark in output for mark in (*LOCK_TIMEOUT_MARKS, "waiting for a lock")):
        return problem
    return f"{problem}; {lock_failure(output or problem)}"


def lock_failure(text: str) -> str:
    """What to add to a lock-timeout failure: the table it waited for, where the output says,
    and how to find the session holding it (PostgreSQL tells the waiting client nothing of it)."""
    tables = locked_tables(text)
    waited = f"it waited for a lock on {', '.join(tables)}; " if tables else ""
    return waited + FIND_BLOCKER
