"""PostgreSQL for the preflight: a throwaway database that is always dropped, a schema
snapshot to compare a round trip, and the revision a database is at. Errors name the
host and what is missing — never the password."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

from deploy_actions.errors import CheckFailed, UsageError
from deploy_actions.migrations.database_url import redact, where, with_database


def connect(url: str, input_name: str, *, autocommit: bool = True) -> psycopg.Connection:
    try:
        return psycopg.connect(
            url.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=autocommit, connect_timeout=10
        )
    except psycopg.OperationalError as exc:
        text = str(exc)
        first = text.splitlines()[0] if text else ""
        if "authentication" in text:
            raise CheckFailed(
                f"PostgreSQL at {where(url)} refused the credentials of user {urlsplit(url).username!r}"
            ) from None
        if "does not exist" in text:
            raise CheckFailed(f"PostgreSQL at {where(url)}: {first.split('FATAL:')[-1].strip()}") from None
        reason = first.split(":")[-1].strip() or "no answer"
        raise CheckFailed(f"PostgreSQL at {where(url)} is unreachable ({reason})") from None
    except psycopg.ProgrammingError:
        raise UsageError(f"expected a postgresql:// URL, got {redact(url)!r}", input=input_name) from None


@contextlib.contextmanager
def throwaway(url: str, input_name: str = "database-url") -> Iterator[str]:
    """Create an empty database with a random name on the server of `url`, yield its URL,
    drop it afterwards — whatever happened in between, cancellation included."""
    name = f"preflight_{secrets.token_hex(6)}"
    with connect(url, input_name) as admin:
        try:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.errors.InsufficientPrivilege:
            user = urlsplit(url).username or "this user"
            raise CheckFailed(
                f"user {user!r} may not create databases on {where(url)}: grant it "
                f"(ALTER ROLE {user} CREATEDB) or point database-url at a server where it may"
            ) from None
    try:
        target = with_database(url, name)
        with connect(target, input_name) as conn:  # the URL alembic gets must reach the throwaway itself
            reached = conn.execute("SELECT current_database()").fetchone()[0]
        if reached != name:
            raise CheckFailed(
                f"the throwaway database URL reached database {reached!r}, not {name!r}: refused before alembic ran"
            )
        yield target
    finally:
        with connect(url, input_name) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def exists(url: str, name: str) -> bool:
    with connect(url, "database-url") as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def schema(url: str) -> list[tuple]:
    """Tables, columns (type, nullability, default), constraints and indexes of the public
    schema, sorted: equal snapshots mean equal schemas for a round-trip check."""
    with connect(url, "database-url") as conn:
        columns = conn.execute(
            "SELECT 'column', table_name, column_name, data_type, is_nullable, coalesce(column_default, '') "
            "FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'alembic_version'"
        ).fetchall()
        constraints = conn.execute(
            "SELECT 'constraint', conrelid::regclass::text, conname, contype::text, pg_get_constraintdef(oid), '' "
            "FROM pg_constraint WHERE connamespace = 'public'::regnamespace "
            "AND conrelid::regclass::text <> 'alembic_version'"
        ).fetchall()
        indexes = conn.execute(
            "SELECT 'index', tablename, indexname, indexdef, '', '' FROM pg_indexes "
            "WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
        ).fetchall()
        tables = conn.execute(
            "SELECT 'table', table_name, '', '', '', '' FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_name <> 'alembic_version'"
        ).fetchall()
    return sorted(tuple(str(v) for v in row) for row in [*tables, *columns, *constraints, *indexes])


def current(url: str, input_name: str = "database-url") -> list[str]:
    """The revisions recorded in alembic_version (empty when the table is missing)."""
    with connect(url, input_name) as conn:
        try:
            return sorted(r[0] for r in conn.execute("SELECT version_num FROM alembic_version").fetchall())
        except psycopg.errors.UndefinedTable:
            return []
