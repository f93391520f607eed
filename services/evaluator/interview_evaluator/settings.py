"""Evaluator service settings."""

from __future__ import annotations

import math

from interview_shared.settings import ServiceSettings
from pydantic import AliasChoices, Field, model_validator

from interview_evaluator.judge_settings import JudgeSettings
from interview_evaluator.semantic_scorer import OfflineKind
from interview_evaluator.transcription import TranscriptionSettings


class EvaluatorSettings(ServiceSettings, JudgeSettings, TranscriptionSettings):
    """Everything the evaluator reads from the environment."""

    port: int = Field(
        default=8082, validation_alias=AliasChoices("EVALUATOR_PORT"), description="Health port"
    )
    evaluator_concurrency: int = Field(
        default=8, ge=1, le=256, description="Answers scored at once (concurrent scorer calls)"
    )
    evaluator_batch_size: int = Field(
        default=8, ge=1, le=1024, description="Most answers polled, scored and committed at once"
    )
    max_poll_interval_ms: int = Field(
        default=600_000, ge=10_000, description="Kafka max.poll.interval.ms of the answer consumer"
    )
    offline_scorer: OfflineKind = Field(
        default="semantic",
        description="Scorer without an API key: semantic (v2, embeddings) or lexical (v1)",
    )
    aggregate_wait_s: float = Field(
        default=30.0, gt=0, description="After COMPLETED, seconds to wait for missing scores"
    )

    @model_validator(mode="after")
    def _batch_fits_poll_interval(self) -> EvaluatorSettings:
        # A batch is polled, scored and committed in one go: its worst case must end before
        # max.poll.interval.ms, or the consumer is expelled and the batch redelivered forever
        # (aiokafka #848). Worst case of one answer: every attempt times out, plus back-off.
        # With EVALUATOR_CONCURRENCY scorer calls at once, a batch takes that many rounds, and
        # then the breaker's pause.
        rounds = math.ceil(self.evaluator_batch_size / self.evaluator_concurrency)
        answer_s = self.judge_max_attempts * (self.judge_timeout_s + 30)
        worst_s = rounds * answer_s + self.judge_breaker_reset_s
        if worst_s * 1000 >= self.max_poll_interval_ms:
            raise ValueError(
                f"judge worst case {worst_s:.0f}s ({rounds} round(s) of {answer_s:.0f}s: batch "
                f"{self.evaluator_batch_size} / concurrency {self.evaluator_concurrency}) does not "
                f"fit max_poll_interval_ms={self.max_poll_interval_ms}; lower JUDGE_TIMEOUT_S/"
                f"JUDGE_MAX_ATTEMPTS or EVALUATOR_BATCH_SIZE, or raise EVALUATOR_CONCURRENCY"
            )
        return self
