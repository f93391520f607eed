"""Store fixtures: `store` runs each test against memory and against PostgreSQL.

PostgreSQL tests get a fresh database per test, cloned from a template migrated once per
session (CREATE DATABASE ... TEMPLATE copies files, far faster than migrating every time).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from interview_localinfra.postgres import (
    create_database,
    drop_database,
    plain_dsn,
    quote_ident,
    with_database,
)
from interview_store.memory import MemoryStore
from interview_store.migrate import migrate
from interview_store.port import Store
from interview_store.postgres import PostgresStore


@pytest.fixture(scope="session")
async def store_template(postgres_dsn: str) -> AsyncIterator[str]:
    """Name of a database migrated to head, used as the template of every store database."""
    name = f"store_template_{uuid.uuid4().hex[:12]}"
    await migrate(await create_database(postgres_dsn, name))
    yield name
    await drop_database(postgres_dsn, name)


@pytest.fixture
async def migrated_database(postgres_dsn: str, store_template: str) -> AsyncIterator[str]:
    """DSN of a new database at schema head, for this test alone."""
    name = f"store_{uuid.uuid4().hex}"
    conn = await asyncpg.connect(plain_dsn(postgres_dsn))
    try:
        await conn.execute(
            f"CREATE DATABASE {quote_ident(name)} TEMPLATE {quote_ident(store_template)}"
        )
    finally:
        await conn.close()
    try:
        yield with_database(postgres_dsn, name)
    finally:
        await drop_database(postgres_dsn, name)


@pytest.fixture
async def memory_store() -> AsyncIterator[MemoryStore]:
    """A new in-memory store."""
    store = MemoryStore()
    yield store
    await store.close()


@pytest.fixture
async def postgres_store(migrated_database: str) -> AsyncIterator[PostgresStore]:
    """A PostgreSQL store on a fresh, migrated database."""
    store = await PostgresStore.connect(migrated_database, min_size=1, max_size=8)
    yield store
    await store.close()


@pytest.fixture(params=["memory", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest) -> Store:
    """The store under test: the same test runs once per backend."""
    backend: Store = request.getfixturevalue(f"{request.param}_store")
    return backend
