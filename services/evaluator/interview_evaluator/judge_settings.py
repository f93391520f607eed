"""Settings of the LLM judge, and the one function that turns them into a judge.

The evaluator's settings class takes these fields (inherit from `JudgeSettings` or copy them);
`build_judge` is called from the composition root, which also owns closing the client.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from interview_evaluator.examples import MemoryExampleBank, load_golden_examples
from interview_evaluator.resilience import CircuitBreaker, RetryPolicy

# The judge's module (and the openai client under it) is imported only when a key is set: it
# is ~1 s of CPU at every start of an evaluator that scores offline.
if TYPE_CHECKING:
    from interview_evaluator.openai_judge import JudgeConfig, OpenAIJudge

__all__ = ["JudgeSettings", "build_judge"]


class JudgeSettings(BaseSettings):
    """OPENAI_* and JUDGE_* environment variables; no API key means the offline scorer is used."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    openai_base_url: str | None = None
    openai_api_key: SecretStr | None = None
    openai_model: str = "gpt-4o-mini"
    judge_seed: int = 7
    judge_samples: int = Field(default=1, ge=1, le=9)
    judge_second_model: str | None = None
    judge_timeout_s: float = Field(default=30.0, gt=0)
    judge_max_attempts: int = Field(default=4, ge=1)
    judge_disagreement_threshold: float = Field(default=15.0, ge=0, le=100)
    judge_price_prompt_per_1k: float = Field(default=0.00015, ge=0)
    judge_price_completion_per_1k: float = Field(default=0.0006, ge=0)
    judge_breaker_failures: int = Field(default=5, ge=1)
    judge_breaker_reset_s: float = Field(default=30.0, gt=0)
    judge_examples_file: Path | None = None
    judge_examples_k: int = Field(default=3, ge=0, le=20)


def judge_config(settings: JudgeSettings) -> JudgeConfig | None:
    """The judge's configuration, or None when no API key is set."""
    key = settings.openai_api_key
    if key is None or not key.get_secret_value().strip():
        return None
    from interview_evaluator.openai_judge import JudgeConfig

    return JudgeConfig(
        base_url=settings.openai_base_url,
        api_key=key,
        model=settings.openai_model,
        seed=settings.judge_seed,
        timeout_s=settings.judge_timeout_s,
        max_attempts=settings.judge_max_attempts,
        samples=settings.judge_samples,
        second_model=settings.judge_second_model,
        disagreement_threshold=settings.judge_disagreement_threshold,
        price_prompt_per_1k=settings.judge_price_prompt_per_1k,
        price_completion_per_1k=settings.judge_price_completion_per_1k,
        examples_k=settings.judge_examples_k,
    )


def build_judge(settings: JudgeSettings) -> OpenAIJudge | None:
    """An `OpenAIJudge` with its client, retry policy and breaker; None without an API key.

    The client never retries by itself (`max_retries=0`): `call_with_retries` is the one layer.
    Close it with `await judge.aclose()` in the lifespan.
    """
    config = judge_config(settings)
    if config is None:
        return None
    import openai

    from interview_evaluator.openai_judge import (
        OpenAIJudge,
        classify_openai_error,
        is_service_failure,
    )

    client = openai.AsyncOpenAI(
        api_key=config.api_key.get_secret_value(),
        base_url=config.base_url,
        timeout=config.timeout_s,
        max_retries=0,
    )
    breaker = CircuitBreaker(
        failure_threshold=settings.judge_breaker_failures,
        reset_timeout_s=settings.judge_breaker_reset_s,
        counts_as_failure=is_service_failure,
    )
    policy = RetryPolicy(max_attempts=config.max_attempts, classify=classify_openai_error)
    return OpenAIJudge(
        config, client, breaker=breaker, retry_policy=policy, examples=example_bank(settings)
    )


def example_bank(settings: JudgeSettings) -> MemoryExampleBank | None:
    """Graded examples from JUDGE_EXAMPLES_FILE (golden JSONL format), else an empty bank that
    human grades fill; None when JUDGE_EXAMPLES_K is 0 (no examples shown)."""
    if settings.judge_examples_k == 0:
        return None
    if settings.judge_examples_file is None:
        return MemoryExampleBank()
    return MemoryExampleBank(load_golden_examples(settings.judge_examples_file))
