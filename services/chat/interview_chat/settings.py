"""Chat service settings."""

from __future__ import annotations

from interview_shared.settings import ServiceSettings
from pydantic import AliasChoices, Field


class ChatSettings(ServiceSettings):
    """Everything the chat service reads from the environment."""

    port: int = Field(
        default=8083, validation_alias=AliasChoices("CHAT_PORT"), description="Health port"
    )
    store_url: str = Field(
        default="http://localhost:8081", description="Store read API (history, interview)"
    )
