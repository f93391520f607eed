"""Run the store's Alembic migrations programmatically (at start-up and from `make migrate`).

Usage: python -m interview_store.migrate [upgrade [REV] | downgrade REV | current]
The DSN comes from DATABASE_URL or POSTGRES_* (see interview_store.backend).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Literal

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from interview_store.postgres import sqlalchemy_dsn

MIGRATIONS = Path(__file__).parent / "migrations"
# Several store replicas may start at once; one migrates, the others wait and find it done.
_LOCK_KEY = 0x1E7_5701E
Action = Literal["upgrade", "downgrade", "current"]


def alembic_config() -> Config:
    """An Alembic config pointing at the packaged migrations (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _run(connection: Connection, action: Action, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    if action == "upgrade":
        command.upgrade(config, revision)
    elif action == "downgrade":
        command.downgrade(config, revision)
    else:
        command.current(config)


async def run(dsn: str, action: Action, revision: str = "head") -> None:
    """Run one Alembic command against `dsn` in one transaction (DDL is transactional)."""
    engine = create_async_engine(sqlalchemy_dsn(dsn), poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run, action, revision)
    finally:
        await engine.dispose()


async def migrate(dsn: str, revision: str = "head") -> None:
    """Upgrade the database to `revision` (default: the newest)."""
    await run(dsn, "upgrade", revision)


def _parse(argv: list[str]) -> tuple[Action, str]:
    if not argv or argv == ["upgrade"]:
        return "upgrade", "head"
    if argv[0] == "upgrade" and len(argv) == 2:
        return "upgrade", argv[1]
    if argv[0] == "downgrade" and len(argv) == 2:
        return "downgrade", argv[1]
    if argv == ["current"]:
        return "current", "head"
    raise SystemExit(__doc__)


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    from interview_store.backend import StoreBackendSettings

    action, revision = _parse(sys.argv[1:] if argv is None else argv)
    dsn = StoreBackendSettings().dsn
    if dsn is None:
        raise SystemExit("set DATABASE_URL or POSTGRES_HOST/POSTGRES_DB to migrate")
    asyncio.run(run(dsn, action, revision))


if __name__ == "__main__":
    main()
