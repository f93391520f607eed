"""Gateway settings."""

from __future__ import annotations

from interview_shared.settings import ServiceSettings
from pydantic import AliasChoices, Field


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
