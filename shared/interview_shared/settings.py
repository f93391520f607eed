"""Settings common to every service: environment > `.env.local` > `.env` > defaults."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# pydantic-settings gives later files priority, and the process environment beats both.
ENV_FILES = (".env", ".env.local")


class ServiceSettings(BaseSettings):
    """Base of each service's settings class; a service adds only what it needs."""

    def consumer_group(self, role: str) -> str:
        """The consumer group id for one of this service's subscribers."""
        return f"{self.consumer_group_prefix}-{role}"

    model_config = SettingsConfigDict(
        env_file=ENV_FILES, env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    kafka_bootstrap_servers: str = Field(
        default="localhost:9092", description="Kafka bootstrap servers, comma-separated"
    )
    consumer_group_prefix: str = Field(
        default="interview",
        min_length=1,
        max_length=100,
        description="Prefix of every consumer group id; separates deployments on one cluster",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] = "json"
    host: str = Field(default="0.0.0.0", description="Interface the HTTP server binds")
    shutdown_grace_s: float = Field(
        default=15.0, gt=0, description="How long shutdown waits for in-flight work"
    )
    consumer_max_attempts: int = Field(
        default=5, ge=1, description="Attempts per message before it goes to the dead-letter topic"
    )
    consumer_retry_backoff_s: float = Field(
        default=0.5, gt=0, description="First retry delay; doubles per attempt"
    )
    consumer_lag_ready_max: int = Field(
        default=10_000,
        ge=0,
        description="Readiness fails while a consumer group lags more records than this (0: off)",
    )
    consumer_lag_interval_s: float = Field(
        default=10.0, gt=0, description="Seconds between two measurements of consumer lag"
    )
    consumer_stall_restart_s: float = Field(
        default=30.0,
        ge=0,
        description="Restart a consumer whose group coordinator stays unknown (or, in the "
        "PostgreSQL store, that applies nothing while records wait) this long (0: never)",
    )
    service_api_key: SecretStr | None = Field(
        default=None,
        description="The API key this service presents to other services' internal APIs",
    )
    pii_master_key: SecretStr | None = Field(
        default=None,
        description="Secret (32+ random characters) that wraps the candidates' data keys on the"
        " keys topic; the same on every service. Unset: keys are kept unwrapped (development)",
    )
    service_api_keys: str = Field(
        default="",
        description="SHA-256 hashes (hex, comma-separated) of the service API keys this"
        " service's internal API accepts, besides its own SERVICE_API_KEY",
    )
