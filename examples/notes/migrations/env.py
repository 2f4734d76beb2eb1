"""Alembic environment: the URL comes from $DATABASE_URL (the deploy's .env, or the
throwaway database alembic-preflight creates), with pg8000 as the driver."""

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, pool

if context.config.config_file_name:
    fileConfig(context.config.config_file_name)


def url() -> str:
    value = os.environ.get("DATABASE_URL")
    if not value:
        raise SystemExit("DATABASE_URL is not set")
    scheme, rest = value.split("://", 1)
    return "postgresql+pg8000://" + rest if scheme in ("postgres", "postgresql") else value


if context.is_offline_mode():
    context.configure(url=url(), literal_binds=True, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    with create_engine(url(), poolclass=pool.NullPool).connect() as connection:
        context.configure(connection=connection, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
