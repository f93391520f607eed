"""Gateway settings."""

from __future__ import annotations

from interview_shared.settings import ServiceSettings
from pydantic import AliasChoices, Field, SecretStr


class GatewaySettings(ServiceSettings):
    """Everything the gateway reads from the environment."""

    port: int = Field(default=8080, validation_alias=AliasChoices("PORT"), description="HTTP port")
    store_url: str = Field(
        default="http://localhost:8081", description="Base URL of the store service's read API"
    )
    chat_url: str = Field(
        default="http://localhost:8083",
        description="Base URL of the chat service (the conversation state it owns)",
    )
    transcription_base_url: str | None = Field(
        default=None,
        description="Set: spoken answers are accepted (the evaluator transcribes them there)",
    )
    blob_dir: str = Field(default=".run/blobs", description="Where recordings are kept")
    audio_max_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1, description="Largest recording a spoken answer may be"
    )
    cv_max_bytes: int = Field(
        default=5 * 1024 * 1024, ge=1, description="Largest CV file an upload may be"
    )
    read_your_writes_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=30,
        description="How long a write waits for the store to apply it before answering 202",
    )
    publish_timeout_s: float = Field(
        default=5.0,
        gt=0,
        le=30,
        description="How long a write waits for Kafka to take its event before answering 503",
    )
    chat_reply_timeout_s: float = Field(
        default=60.0, gt=0, description="How long a streamed chat reply may take"
    )
    cors_origins: str = Field(
        default="",
        description="Browser origins allowed to call the API, comma-separated (empty: none)",
    )
    projection_size: int = Field(
        default=10_000,
        ge=1,
        description="Entries per kind (interviews, questions, chat sessions, candidates) the"
        " gateway keeps to validate writes without calling the store",
    )
    sse_heartbeat_s: float = Field(
        default=15.0, gt=0, description="Interval of SSE keep-alive comments"
    )
    jwt_secret: SecretStr | None = Field(
        default=None, description="HS256 secret that signs user tokens (at least 32 bytes)"
    )
    jwt_jwks_url: str | None = Field(
        default=None, description="JWKS URL of an OIDC provider whose RS/ES/PS tokens are accepted"
    )
    jwt_issuer: str | None = Field(default=None, description="Required `iss` claim, if set")
    jwt_audience: str | None = Field(default=None, description="Required `aud` claim, if set")
    max_body_bytes: int = Field(
        default=1_048_576, ge=1, description="Largest request body accepted (413 above it)"
    )
    rate_limit_per_minute: int = Field(
        default=600,
        ge=1,
        description="Requests per minute per user (per client address when unauthenticated)",
    )
    idempotency_ttl_s: float = Field(
        default=86_400.0, gt=0, description="How long an Idempotency-Key is remembered"
    )
