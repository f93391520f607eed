"""What one evaluation cost, as Prometheus metrics and span attributes."""

from __future__ import annotations

from interview_shared.metrics import EVALUATION_COST, EVALUATION_SECONDS, EVALUATION_TOKENS
from opentelemetry.util.types import AttributeValue

from interview_evaluator.scoring import ScoringResult


def observe_evaluation(result: ScoringResult, seconds: float) -> None:
    """Count latency, tokens and cost of one scored answer."""
    EVALUATION_SECONDS.labels(result.scorer, result.outcome.value).observe(seconds)
    usage = result.usage
    if usage.prompt_tokens:
        EVALUATION_TOKENS.labels(result.scorer, "prompt").inc(usage.prompt_tokens)
    if usage.completion_tokens:
        EVALUATION_TOKENS.labels(result.scorer, "completion").inc(usage.completion_tokens)
    if usage.cost_usd:
        EVALUATION_COST.labels(result.scorer).inc(usage.cost_usd)


def usage_attributes(result: ScoringResult) -> dict[str, AttributeValue]:
    """The GenAI semantic-convention attributes of a scored answer, for its span."""
    attributes: dict[str, AttributeValue] = {
        "evaluation.outcome": result.outcome.value,
        "gen_ai.usage.input_tokens": result.usage.prompt_tokens,
        "gen_ai.usage.output_tokens": result.usage.completion_tokens,
        "evaluation.cost_usd": result.usage.cost_usd,
    }
    if result.model:
        attributes["gen_ai.request.model"] = result.model
    if result.score is not None:
        attributes["evaluation.score"] = result.score
    return attributes
