"""PostgreSQL for the preflight: a throwaway database that is always dropped, a schema
snapshot to compare a round trip, and the revision a database is at. Errors name the
host and what is missing — never the password."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from deploy_actions.errors import CheckFailed, UsageError


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


# Connection parameters that, given in the query, win over the URL's own parts in both
# libpq (psycopg) and SQLAlchemy: `…/postgres?dbname=production` connects to production.
# A throwaway database URL must mean the throwaway database, so these are refused.
_OVERRIDING = {"dbname", "host", "hostaddr", "port", "service", "servicefile", "user"}


def check_url(url: str, input_name: str) -> str:
    """A postgresql:// URL whose database and server are named by its own parts only."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port out of range
        query = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError as exc:
        raise UsageError(f"is not a usable URL ({exc})", input=input_name) from None
    if parts.scheme not in ("postgresql", "postgres", "postgresql+psycopg"):
        raise UsageError("expected a postgresql:// URL", input=input_name)
    overriding = sorted({key for key, _ in query} & _OVERRIDING)
    if overriding:
        raise UsageError(
            f"the query parameter {', '.join(overriding)} would override the URL's own server or "
            "database (the throwaway database could become a real one): put the server in the host "
            "part (a socket folder percent-encoded, e.g. postgresql://user@%2Fvar%2Frun%2Fpostgresql/"
            ") and leave the database to the path",
            input=input_name,
        )
    return url


def with_database(url: str, name: str) -> str:
    """The same server and options, database `name`: rebuilt from the parsed parts."""
    parts = urlsplit(check_url(url, "database-url"))
    return urlunsplit(parts._replace(path="/" + quote(name, safe=""), fragment=""))


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 5432}"


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
                f"PostgreSQL at {_where(url)} refused the credentials of user {urlsplit(url).username!r}"
            ) from None
        if "does not exist" in text:
            raise CheckFailed(f"PostgreSQL at {_where(url)}: {first.split('FATAL:')[-1].strip()}") from None
        reason = first.split(":")[-1].strip() or "no answer"
        raise CheckFailed(f"PostgreSQL at {_where(url)} is unreachable ({reason})") from None
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
                f"user {user!r} may not create databases on {_where(url)}: grant it "
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
