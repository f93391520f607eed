"""Chat service settings."""

from __future__ import annotations

from interview_shared.settings import ServiceSettings
from pydantic import AliasChoices, Field, SecretStr


class ChatSettings(ServiceSettings):
    """Everything the chat service reads from the environment."""

    port: int = Field(
        default=8083, validation_alias=AliasChoices("CHAT_PORT"), description="HTTP port"
    )
    store_url: str = Field(
        default="http://localhost:8081", description="Store read API (an interview's questions)"
    )
    interviewer_base_url: str | None = Field(
        default=None, description="OpenAI-compatible endpoint of the interviewer model"
    )
    interviewer_api_key: SecretStr | None = Field(
        default=None, description="Its API key; unset (and no OPENAI_API_KEY): offline interviewer"
    )
    interviewer_model: str | None = Field(default=None, description="Interviewer model")
    interviewer_max_follow_ups: int = Field(
        default=1, ge=0, le=5, description="Follow-up questions at most per interview question"
    )
    interviewer_timeout_s: float = Field(
        default=20.0, gt=0, description="Longest wait for the model's next token"
    )
    openai_base_url: str | None = None
    openai_api_key: SecretStr | None = None
    openai_model: str = "gpt-4o-mini"
    chat_outcome_wait_s: float = Field(
        default=10.0, gt=0, description="Wait for the store to apply an answer before completing"
    )

    def interviewer_key(self) -> SecretStr | None:
        """INTERVIEWER_API_KEY, else OPENAI_API_KEY; None when neither is set (offline)."""
        for key in (self.interviewer_api_key, self.openai_api_key):
            if key is not None and key.get_secret_value().strip():
                return key
        return None
