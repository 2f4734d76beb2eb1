"""Alembic migrations checked before they reach a database: graph, risks, a rehearsal."""
