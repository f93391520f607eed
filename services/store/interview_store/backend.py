"""Choose and open the store backend from settings: PostgreSQL when configured, else memory."""

from __future__ import annotations

import logging
from typing import Literal
from urllib.parse import quote

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from interview_store.port import Store

log = logging.getLogger(__name__)

Backend = Literal["memory", "postgres"]
MEMORY_LOG = "Using in-memory store backend (set DATABASE_URL for database mode)"
POSTGRES_LOG = "Using PostgreSQL database backend"


class StoreBackendSettings(BaseSettings):
    """Database settings; precedence: environment > .env.local > .env.

    Secrets are SecretStr so that neither repr() nor logging can reveal the password.
    """

    model_config = SettingsConfigDict(env_file=(".env", ".env.local"), extra="ignore")

    database_url: SecretStr | None = None
    postgres_host: str | None = None
    postgres_port: int = 5432
    postgres_user: str | None = None
    postgres_password: SecretStr | None = None
    postgres_db: str | None = None
    store_backend: Backend | None = None
    """Force a backend; unset means: postgres if a database is configured, else memory."""
    db_pool_min_size: int = 1
    db_pool_max_size: int = 10

    @property
    def dsn(self) -> str | None:
        """The PostgreSQL URL from DATABASE_URL, else built from POSTGRES_*, else None."""
        if self.database_url is not None and self.database_url.get_secret_value().strip():
            return self.database_url.get_secret_value().strip()
        if not self.postgres_host:
            return None
        user = quote(self.postgres_user or "postgres", safe="")
        password = self.postgres_password.get_secret_value() if self.postgres_password else ""
        auth = f"{user}:{quote(password, safe='')}" if password else user
        database = quote(self.postgres_db or self.postgres_user or "postgres", safe="")
        return f"postgresql://{auth}@{self.postgres_host}:{self.postgres_port}/{database}"


def select_backend(settings: StoreBackendSettings) -> Backend:
    """Which backend the settings ask for; STORE_BACKEND wins over auto-detection."""
    if settings.store_backend == "postgres" and settings.dsn is None:
        raise ValueError("STORE_BACKEND=postgres needs DATABASE_URL or POSTGRES_HOST")
    if settings.store_backend is not None:
        return settings.store_backend
    return "postgres" if settings.dsn is not None else "memory"


async def open_store(settings: StoreBackendSettings) -> Store:
    """Open the selected backend; for PostgreSQL, migrate the schema to head first."""
    if select_backend(settings) == "memory":
        from interview_store.memory import MemoryStore

        log.info(MEMORY_LOG)
        return MemoryStore()
    from interview_store.migrate import migrate
    from interview_store.postgres import PostgresStore

    dsn = settings.dsn
    assert dsn is not None  # select_backend checked it
    log.info(POSTGRES_LOG)
    await migrate(dsn)
    return await PostgresStore.connect(
        dsn, min_size=settings.db_pool_min_size, max_size=settings.db_pool_max_size
    )
