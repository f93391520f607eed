"""Store service settings."""

from __future__ import annotations

from interview_shared.settings import ServiceSettings
from pydantic import AliasChoices, Field

from interview_store.backend import StoreBackendSettings


class StoreSettings(ServiceSettings, StoreBackendSettings):
    """Everything the store service reads from the environment."""

    port: int = Field(
        default=8081, validation_alias=AliasChoices("STORE_PORT"), description="Read API port"
    )
    batch_max_records: int = Field(
        default=500, ge=1, le=10_000, description="Most events applied in one transaction"
    )
    batch_timeout_ms: int = Field(
        default=20, ge=1, description="How long a poll waits to fill a batch"
    )
    outage_deadline_s: float = Field(
        default=120.0, gt=0, description="Retry a batch this long while Postgres is down"
    )
