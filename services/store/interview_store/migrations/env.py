"""Alembic environment: runs on the connection `interview_store.migrate` hands over.

Migrations are plain SQL (no ORM metadata), so there is nothing to autogenerate against.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    """Use the shared connection if given, else the configured URL (plain `alembic` CLI use)."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("run migrations with `python -m interview_store.migrate`")
    with create_engine(url).connect() as own:
        _run(own)


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported")
run()
