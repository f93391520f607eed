"""Real infrastructure for the whole suite: an Apache Kafka broker and a PostgreSQL server.

Each is taken from, in order: an environment variable naming an existing server
(KAFKA_BOOTSTRAP_SERVERS, TEST_DATABASE_URL), a testcontainers container when a Docker daemon
answers and already has the image (or TESTCONTAINERS=1; see ``use_container``), or a local
process started by ``interview_localinfra`` (Kafka jars from Maven Central, Debian's PostgreSQL
binaries). Without any of them tests are skipped on a developer machine but
fail in CI (CI set), so a broken install can never turn into a green run of skipped tests.
"""

from __future__ import annotations

import asyncio
import functools
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import NoReturn

import pytest
from interview_localinfra import (
    LocalKafka,
    LocalPostgres,
    create_database,
    drop_database,
    ensure_topics,
)
from interview_localinfra.containers import (
    KAFKA_IMAGE,
    POSTGRES_IMAGE,
    start_kafka_container,
    start_postgres_container,
    use_container,
)

# Makes any call to the real OpenAI API fail inside the suite (see the plugin).
pytest_plugins = ["plugins.no_paid_api"]


def _unavailable(what: str, error: BaseException) -> NoReturn:
    """Skip locally, fail in CI: infrastructure tests must never silently not run there."""
    message = f"{what} unavailable: {type(error).__name__}: {error}"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@functools.cache
def _container(image: str) -> bool:
    # Asked at most once per image and session, and only when no variable names a server.
    return use_container(image)


_KAFKA_DATA_DIRS: list[Path] = []
"""The log directory of the broker this session started (none for an external one)."""


@pytest.fixture(scope="session")
def kafka_data_dir(kafka_bootstrap: str) -> Path | None:
    """Where the session's broker keeps its log segments, if this session started it."""
    return _KAFKA_DATA_DIRS[-1] if _KAFKA_DATA_DIRS else None


@asynccontextmanager
async def _kafka_server() -> AsyncIterator[str]:
    """Yield a bootstrap address from the first source that works; stop what was started."""
    if external := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield external
    elif _container(KAFKA_IMAGE):
        container, bootstrap = await asyncio.to_thread(start_kafka_container)
        try:
            yield bootstrap
        finally:
            await asyncio.to_thread(container.stop)
    else:
        async with LocalKafka() as kafka:
            _KAFKA_DATA_DIRS.append(kafka.data_dir)
            yield kafka.bootstrap_servers


@asynccontextmanager
async def _postgres_server() -> AsyncIterator[str]:
    """Yield a DSN from the first source that works; stop what was started."""
    if external := os.environ.get("TEST_DATABASE_URL"):
        yield external
    elif _container(POSTGRES_IMAGE):
        container, dsn = await asyncio.to_thread(start_postgres_container)
        try:
            yield dsn
        finally:
            await asyncio.to_thread(container.stop)
    else:
        # fsync off: a throwaway cluster; committed rows still survive a postgres crash.
        async with LocalPostgres(database="interview_test", fsync=False) as pg:
            yield pg.dsn


@pytest.fixture(scope="session")
async def kafka_bootstrap() -> AsyncIterator[str]:
    """Bootstrap address of a real Kafka cluster on which every catalogue topic exists."""
    async with AsyncExitStack() as stack:
        try:
            bootstrap = await stack.enter_async_context(_kafka_server())
            await ensure_topics(bootstrap)
        except Exception as exc:
            _unavailable("Kafka", exc)
        yield bootstrap


@pytest.fixture(scope="session")
async def postgres_dsn() -> AsyncIterator[str]:
    """DSN (postgresql://...) of a database on a real PostgreSQL server, shared by the session."""
    async with AsyncExitStack() as stack:
        try:
            dsn = await stack.enter_async_context(_postgres_server())
        except Exception as exc:
            _unavailable("PostgreSQL", exc)
        yield dsn


@pytest.fixture
async def fresh_database(postgres_dsn: str) -> AsyncIterator[str]:
    """DSN of a new, empty database for this test alone; dropped afterwards."""
    name = f"test_{uuid.uuid4().hex}"
    dsn = await create_database(postgres_dsn, name)
    try:
        yield dsn
    finally:
        await drop_database(postgres_dsn, name)


@pytest.fixture
async def restartable_postgres() -> AsyncIterator[LocalPostgres]:
    """A private PostgreSQL server this test may ``stop(mode)`` and ``start()`` at will.

    Always a local process, whatever serves ``postgres_dsn``: a container restarts on a new
    host port, and stopping the shared server would break other tests' connections. Needs the
    PostgreSQL binaries (apt-get install -y postgresql); CI always has them.
    """
    pg = LocalPostgres(database="interview_test", fsync=False)
    try:
        await pg.start()
    except Exception as exc:
        pg.cleanup()
        _unavailable("local PostgreSQL (for stop/start)", exc)
    try:
        yield pg
    finally:
        await pg.stop("immediate")  # its data is thrown away; no need for a clean shutdown
        pg.cleanup()
