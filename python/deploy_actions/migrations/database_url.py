"""PostgreSQL URLs for the preflight, checked and rewritten without a driver: input checks
need no database client, and the driver (psycopg, ~0.25 s to import) loads only when the
preflight first connects (database.py)."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from deploy_actions.errors import UsageError


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


def where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 5432}"
