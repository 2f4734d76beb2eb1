"""Lock and statement timeouts for a migration run, given to PostgreSQL without touching the
project's code: through `PGOPTIONS`, which libpq reads at connect time (psycopg 2 and 3,
and everything built on them: SQLAlchemy, alembic, psql). A migration waiting for a lock
blocks every query queued behind it; with `lock_timeout` it gives up instead, and the
deploy tries again after a pause. asyncpg and other drivers that do not use libpq ignore
`PGOPTIONS`: they need `server_settings={"lock_timeout": …}` in the project's engine.
One place for the three inputs and what they become; the deploys and the rehearsal use it."""

from __future__ import annotations

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
