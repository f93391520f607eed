"""Backend selection from settings: which backend, the log line, and no password in logs."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import pytest
from interview_store.backend import (
    MEMORY_LOG,
    POSTGRES_LOG,
    StoreBackendSettings,
    open_store,
    select_backend,
)

ENV = ("DATABASE_URL", "POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER", "POSTGRES_PASSWORD",
       "POSTGRES_DB", "STORE_BACKEND")  # fmt: skip
SECRET = "s3cr3t-p@ss"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No inherited settings: empty environment, and a cwd without .env files."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "memory"),
        ({"DATABASE_URL": ""}, "memory"),
        ({"DATABASE_URL": "postgresql://u:p@db/x"}, "postgres"),
        ({"POSTGRES_HOST": "db", "POSTGRES_DB": "x"}, "postgres"),
        ({"DATABASE_URL": "postgresql://u:p@db/x", "STORE_BACKEND": "memory"}, "memory"),
        ({"POSTGRES_HOST": "db", "STORE_BACKEND": "postgres"}, "postgres"),
    ],
)
def test_select_backend(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert select_backend(StoreBackendSettings()) == expected


def test_forcing_postgres_without_database_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORE_BACKEND", "postgres")
    with pytest.raises(ValueError, match="DATABASE_URL"):
        select_backend(StoreBackendSettings())


def test_dsn_from_parts_quotes_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    parts = {"POSTGRES_HOST": "db", "POSTGRES_PORT": "6543", "POSTGRES_USER": "app",
             "POSTGRES_PASSWORD": SECRET, "POSTGRES_DB": "interviews"}  # fmt: skip
    for name, value in parts.items():
        monkeypatch.setenv(name, value)
    settings = StoreBackendSettings()
    assert settings.dsn == "postgresql://app:s3cr3t-p%40ss@db:6543/interviews"
    assert SECRET not in repr(settings)
    assert SECRET not in str(settings.model_dump())


def test_env_beats_env_local_beats_env_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("POSTGRES_HOST=from-env\nPOSTGRES_DB=a\n")
    (tmp_path / ".env.local").write_text("POSTGRES_HOST=from-local\n")
    assert StoreBackendSettings().postgres_host == "from-local"
    monkeypatch.setenv("POSTGRES_HOST", "from-environment")
    assert StoreBackendSettings().postgres_host == "from-environment"


async def test_memory_log_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="interview_store")
    store = await open_store(StoreBackendSettings())
    assert store.backend == "memory"
    assert [r.getMessage() for r in caplog.records] == [MEMORY_LOG]


@pytest.mark.postgres
async def test_postgres_log_line_migrates_and_hides_password(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, fresh_database: str
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("DATABASE_URL", fresh_database.replace("postgresql://", "postgres://"))
    store = await open_store(StoreBackendSettings())
    try:
        assert store.backend == "postgres"
        assert await store.healthy()
        assert await store.get_interview(uuid.uuid4()) is None  # the schema exists
    finally:
        await store.close()
    assert POSTGRES_LOG in [r.getMessage() for r in caplog.records]


async def test_unreachable_database_never_logs_password(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("DATABASE_URL", f"postgresql+asyncpg://app:{SECRET}@127.0.0.1:1/x")
    with pytest.raises(Exception) as failure:  # noqa: PT011 - any connection failure will do
        await open_store(StoreBackendSettings())
    assert SECRET not in caplog.text
    assert SECRET not in str(failure.value)
