"""The LLM judge: a `Scorer` that asks an OpenAI-compatible chat model to grade against a rubric.

The model proposes, our code disposes. The model only returns per-criterion scores with quoted
evidence; this module checks every quote against the answer, clamps every score, fills in missing
criteria with 0 and computes the total from the rubric's own weights. Answers that try to talk to
the judge are caught by our heuristics (and by the model's own `injection_detected`) and are not
scored automatically at all: they go to a human, so an instruction in an answer can never raise
its own score.

Scores are on a 0-100 scale per criterion, the same scale as `CriterionScore`.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import time
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import openai
from interview_shared.metrics import JUDGE_CALL_ATTEMPTS
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam
from openai.types.shared_params import ResponseFormatJSONSchema
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from interview_evaluator import gating
from interview_evaluator.examples import ExampleBank, examples_for
from interview_evaluator.judge_prompt import (
    build_messages,
    detect_injection,
    fold,
    prompt_hash,
    quote_found,
    verdict_schema,
)
from interview_evaluator.resilience import (
    CircuitBreaker,
    RetryPolicy,
    Verdict,
    call_with_retries,
    http_verdict,
)
from interview_evaluator.scoring import (
    CriterionScore,
    Outcome,
    Rubric,
    ScoringRequest,
    ScoringResult,
    Usage,
)

__all__ = [
    "JUDGE_VERSION",
    "JudgeConfig",
    "JudgeOutputError",
    "OpenAIJudge",
    "classify_openai_error",
    "is_service_failure",
]

# Bumped whenever the prompt or the post-processing changes meaning; part of the lineage.
JUDGE_VERSION: Final = "1.1"  # 1.1: graded examples, when given


class JudgeConfig(BaseModel):
    """How the judge calls the model; built by the composition root, never from the environment."""

    model_config = ConfigDict(frozen=True)

    base_url: str | None = None
    api_key: SecretStr
    model: str = "gpt-4o-mini"
    temperature: float = Field(default=0.0, ge=0, le=2)
    seed: int = 7
    timeout_s: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=4, ge=1)
    max_output_tokens: int = Field(default=2000, gt=0)
    samples: int = Field(default=1, ge=1, le=9)
    second_model: str | None = None
    disagreement_threshold: float = Field(default=15.0, ge=0, le=100)
    price_prompt_per_1k: float = Field(default=0.00015, ge=0)
    price_completion_per_1k: float = Field(default=0.0006, ge=0)
    examples_k: int = Field(default=3, ge=0, le=20)
    """Most human-graded examples shown per answer (when an example bank is wired)."""


class JudgeOutputError(Exception):
    """The model's reply was not valid JSON of the requested schema (or was cut short/refused).

    Retryable a bounded number of times; after that the message belongs in the dead-letter topic.
    """


class _ModelCriterion(BaseModel):
    """One criterion as the model returned it; unknown fields (a "total") are ignored."""

    name: str
    score: float
    rationale: str
    evidence: list[str]


class _ModelVerdict(BaseModel):
    """The model's whole reply."""

    criteria: list[_ModelCriterion]
    feedback: str
    injection_detected: bool


@dataclass
class _Graded:
    """One model reply after our validation: scores by rubric criterion, and what we noticed."""

    criteria: dict[str, CriterionScore]
    feedback: str
    injection_detected: bool
    flags: set[str] = field(default_factory=set)

    def total(self, rubric: Rubric) -> float:
        """The weighted mean of criterion scores, with the rubric's weights."""
        return _weighted_total(self.criteria.values(), rubric)


@dataclass
class _Meter:
    """Tokens over every call of one evaluation, failed attempts included (they were billed)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    request_ids: list[str] = field(default_factory=list)

    def add(self, completion: ChatCompletion) -> None:
        """Count one completion's usage."""
        if completion.usage is not None:
            self.prompt_tokens += completion.usage.prompt_tokens
            self.completion_tokens += completion.usage.completion_tokens
        if completion._request_id:
            self.request_ids.append(completion._request_id)


def classify_openai_error(error: BaseException) -> Verdict:
    """What `call_with_retries` should do with an error from one judge call."""
    if isinstance(error, openai.APIStatusError):
        return http_verdict(error.status_code, error.response.headers)
    if isinstance(error, openai.APIConnectionError | JudgeOutputError):
        # APITimeoutError is an APIConnectionError. A malformed reply may not recur on a resample.
        return Verdict(retryable=True)
    return Verdict(retryable=False)


def is_service_failure(error: BaseException) -> bool:
    """Whether an error says the model service is unhealthy (and so counts for the breaker)."""
    if isinstance(error, openai.APIStatusError):
        return error.status_code >= 500 or error.status_code in (408, 429)
    return isinstance(error, openai.APIConnectionError)


def _checked(completion: object) -> ChatCompletion:
    """The SDK does not validate bodies (it builds models leniently): do it before trusting one."""
    if not isinstance(completion, ChatCompletion):
        raise JudgeOutputError(f"response is not a chat completion: {type(completion).__name__}")
    try:
        checked = ChatCompletion.model_validate(completion.model_dump(mode="json", warnings=False))
    except ValidationError as error:
        raise JudgeOutputError(f"response is not a valid chat completion: {error}") from error
    checked._request_id = completion._request_id
    return checked


def _parse_reply(content: str | None, finish_reason: str) -> _ModelVerdict:
    """Decode one choice, or raise `JudgeOutputError` saying why it is unusable."""
    if finish_reason == "length":
        raise JudgeOutputError("reply cut off at max_output_tokens")
    if content is None:
        raise JudgeOutputError(f"no content (finish_reason={finish_reason})")
    try:
        return _ModelVerdict.model_validate_json(content)
    except ValidationError as error:
        raise JudgeOutputError(f"reply does not match the schema: {error}") from error


def _grade(verdict: _ModelVerdict, request: ScoringRequest) -> _Graded:
    """Hold one reply to the rubric: one score per criterion, clamped, evidence verified."""
    weights = {c.name: c.weight for c in request.rubric.criteria}
    folded_answer = fold(request.answer)
    graded = _Graded({}, verdict.feedback, verdict.injection_detected)
    for item in verdict.criteria:
        if item.name not in weights:
            graded.flags.add(f"unknown_criterion:{item.name[:100]}")
        elif item.name in graded.criteria:
            graded.flags.add(f"duplicate_criterion:{item.name}")
        else:
            graded.criteria[item.name] = _criterion(item, weights[item.name], folded_answer, graded)
    for name, weight in weights.items():
        if name not in graded.criteria:
            graded.flags.add(f"criterion_missing:{name}")
            graded.criteria[name] = CriterionScore(name=name, score=0, weight=weight)
    return graded


def _criterion(
    item: _ModelCriterion, weight: float, folded_answer: str, graded: _Graded
) -> CriterionScore:
    """One checked criterion; what was clamped or dropped is flagged on `graded`."""
    score = item.score if math.isfinite(item.score) else 0.0
    if not 0 <= score <= 100 or score != item.score:
        graded.flags.add(f"score_clamped:{item.name}")
        score = min(100.0, max(0.0, score))
    evidence = tuple(q for q in item.evidence if q.strip() and quote_found(q, folded_answer))
    if len(evidence) < len([q for q in item.evidence if q.strip()]):
        graded.flags.add("evidence_not_found")
    return CriterionScore(
        name=item.name, score=score, weight=weight, rationale=item.rationale, evidence=evidence
    )


def _weighted_total(criteria: Iterable[CriterionScore], rubric: Rubric) -> float:
    """Weighted mean over the rubric's criteria, using the rubric's weights, never the model's."""
    weights = {c.name: c.weight for c in rubric.criteria}
    scores = {c.name: c.score for c in criteria}
    total = sum(scores.get(name, 0.0) * weight for name, weight in weights.items())
    return round(total / sum(weights.values()), 2)


def _suspect_injection(
    answer: str, samples: Sequence[_Graded], explanation: dict[str, Any]
) -> bool:
    """Whether heuristics or a model say the answer talks to the grader (noted in `explanation`)."""
    patterns = detect_injection(answer)
    model_flagged = any(sample.injection_detected for sample in samples)
    if patterns or model_flagged:
        explanation["injection_patterns"] = list(patterns)
        explanation["model_flagged_injection"] = model_flagged
    return bool(patterns) or model_flagged


def _median_criteria(samples: Sequence[_Graded], rubric: Rubric) -> dict[str, CriterionScore]:
    """Self-consistency: each criterion's median score, explained by the closest sample."""
    merged = {}
    for criterion in rubric.criteria:
        candidates = [sample.criteria[criterion.name] for sample in samples]
        median = float(statistics.median(c.score for c in candidates))
        closest = min(candidates, key=lambda c: abs(c.score - median))
        merged[criterion.name] = closest.model_copy(update={"score": median})
    return merged


class OpenAIJudge:
    """A `Scorer` backed by an OpenAI-compatible chat completions endpoint."""

    def __init__(
        self,
        config: JudgeConfig,
        client: openai.AsyncOpenAI,
        *,
        breaker: CircuitBreaker | None = None,
        retry_policy: RetryPolicy | None = None,
        gate: Callable[[ScoringRequest], str | None] | None = None,
        examples: ExampleBank | None = None,
    ) -> None:
        self._config = config
        self._examples = examples
        self.examples = examples
        """The bank graded examples come from (human grades are added to it as they arrive)."""
        self._client = client
        self.breaker = breaker or CircuitBreaker(counts_as_failure=is_service_failure)
        self._policy = retry_policy or RetryPolicy(
            max_attempts=config.max_attempts, classify=classify_openai_error
        )
        self._gate = gate or _default_gate

    @property
    def name(self) -> str:
        """The scorer name recorded with every evaluation."""
        return "llm-judge"

    async def aclose(self) -> None:
        """Close the HTTP client (call from the lifespan's shutdown)."""
        await self._client.close()

    async def score(self, request: ScoringRequest) -> ScoringResult:
        """Grade one answer against the rubric in `request`.

        Raises `RetriesExhausted` (its `last_error` says why), `CircuitOpenError`, or a
        non-retryable `openai.APIStatusError` (400, 401, ...) when no verdict could be obtained.
        """
        reason = self._gate(request)
        if reason is not None:
            return self._result(request, outcome=Outcome.UNSCORABLE, unscorable_reason=reason)
        started = time.perf_counter()
        meter = _Meter()
        chosen = examples_for(self._examples, request, self._config.examples_k)
        request = request.model_copy(update={"examples": tuple(chosen)})
        messages = build_messages(request)
        primary, second = await _both(
            self._sample(self._config.model, self._config.samples, messages, request, meter),
            self._second_opinion(messages, request, meter),
        )
        usage = self._usage(meter, started)
        return self._verdict(request, primary, second, usage, meter)

    async def _second_opinion(
        self,
        messages: list[ChatCompletionMessageParam],
        request: ScoringRequest,
        meter: _Meter,
    ) -> list[_Graded] | None:
        """The second model's single verdict, when one is configured."""
        if self._config.second_model is None:
            return None
        return await self._sample(self._config.second_model, 1, messages, request, meter)

    async def _sample(
        self,
        model: str,
        n: int,
        messages: list[ChatCompletionMessageParam],
        request: ScoringRequest,
        meter: _Meter,
    ) -> list[_Graded]:
        """`n` graded replies from `model` in one call (the prompt is billed once), with retries."""

        attempts = 0

        async def attempt() -> list[_Graded]:
            nonlocal attempts
            attempts += 1
            completion = await self.breaker.call(
                lambda: self._complete(model, n, messages, request)
            )
            meter.add(completion)
            return self._grade_choices(completion, request)

        try:
            return await call_with_retries(attempt, policy=self._policy)
        finally:
            JUDGE_CALL_ATTEMPTS.labels(model).observe(attempts)

    async def _complete(
        self,
        model: str,
        n: int,
        messages: list[ChatCompletionMessageParam],
        request: ScoringRequest,
    ) -> ChatCompletion:
        """One HTTP call; temperature and seed are always sent so reruns can be compared."""
        response_format: ResponseFormatJSONSchema = {
            "type": "json_schema",
            "json_schema": {
                "name": "interview_grade",
                "schema": verdict_schema(request.rubric),
                "strict": True,
            },
        }
        try:
            completion = await self._client.chat.completions.create(
                model=model,
                messages=messages,
                temperature=self._config.temperature,
                seed=self._config.seed,
                n=n,
                response_format=response_format,
                max_completion_tokens=self._config.max_output_tokens,
                timeout=self._config.timeout_s,
            )
        except ValueError as error:  # the SDK's json.loads of a broken body
            raise JudgeOutputError(f"response body is not JSON: {error}") from error
        return _checked(completion)

    def _grade_choices(self, completion: ChatCompletion, request: ScoringRequest) -> list[_Graded]:
        """Every usable choice graded; raises `JudgeOutputError` when none is usable."""
        graded, errors = [], []
        for choice in completion.choices:
            try:
                verdict = _parse_reply(choice.message.content, choice.finish_reason)
            except JudgeOutputError as error:
                errors.append(error)
                continue
            graded.append(_grade(verdict, request))
        if not graded:
            raise errors[0] if errors else JudgeOutputError("reply has no choices")
        if errors:
            graded[0].flags.add("sample_malformed")
        return graded

    def _verdict(
        self,
        request: ScoringRequest,
        primary: list[_Graded],
        second: list[_Graded] | None,
        usage: Usage,
        meter: _Meter,
    ) -> ScoringResult:
        """Merge samples, cross-check the second model and apply the injection policy."""
        rubric = request.rubric
        criteria = _median_criteria(primary, rubric)
        total = _weighted_total(criteria.values(), rubric)
        flags: set[str] = set().union(*(sample.flags for sample in primary))
        explanation: dict[str, Any] = {
            "sample_totals": [sample.total(rubric) for sample in primary],
            "request_ids": meter.request_ids,
        }
        if second is not None:
            flags |= self._disagreement(total, second[0].total(rubric), explanation)
        verdict: dict[str, Any] = {"outcome": Outcome.SCORED, "score": total}
        if _suspect_injection(request.answer, [*primary, *(second or [])], explanation):
            # Withhold the score: a human grades it, so an instruction can never raise it.
            flags |= {"possible_prompt_injection", "needs_human_review"}
            explanation["withheld_score"] = total
            verdict = {
                "outcome": Outcome.UNSCORABLE,
                "score": None,
                "unscorable_reason": "possible_prompt_injection",
            }
        return self._result(
            request,
            criteria=tuple(criteria.values()),
            feedback=primary[0].feedback,
            explanation=explanation,
            flags=tuple(sorted(flags)),
            usage=usage,
            **verdict,
        )

    def _disagreement(self, total: float, other: float, explanation: dict[str, Any]) -> set[str]:
        """Record both totals; flag when the two models are further apart than the threshold."""
        explanation["primary_total"] = total
        explanation["second_model_total"] = other
        if abs(total - other) > self._config.disagreement_threshold:
            return {"judges_disagree", "needs_human_review"}
        return set()

    def _usage(self, meter: _Meter, started: float) -> Usage:
        """Tokens summed over every call, wall time including retries, cost at configured prices."""
        cost = (
            meter.prompt_tokens / 1000 * self._config.price_prompt_per_1k
            + meter.completion_tokens / 1000 * self._config.price_completion_per_1k
        )
        return Usage(
            prompt_tokens=meter.prompt_tokens,
            completion_tokens=meter.completion_tokens,
            latency_ms=(time.perf_counter() - started) * 1000,
            cost_usd=round(cost, 8),
        )

    def _result(self, request: ScoringRequest, **fields: Any) -> ScoringResult:
        """A result stamped with this judge's lineage."""
        config = self._config
        return ScoringResult(
            scorer=self.name,
            scorer_version=JUDGE_VERSION,
            model=config.model,
            prompt_hash=prompt_hash(request.rubric, with_examples=bool(request.examples)),
            parameters={
                "temperature": config.temperature,
                "seed": config.seed,
                "samples": config.samples,
                "second_model": config.second_model,
                "max_output_tokens": config.max_output_tokens,
                "rubric_version": request.rubric.version,
                **_examples_lineage(request),
            },
            **fields,
        )


def _examples_lineage(request: ScoringRequest) -> dict[str, Any]:
    """Which graded examples the model saw (absent when none, so old lineage is unchanged)."""
    if not request.examples:
        return {}
    shown = [
        {"answer_id": e.answer_id, "score": e.score, "source": e.source} for e in request.examples
    ]
    return {"examples": shown}


async def _both(
    first: Coroutine[Any, Any, list[_Graded]],
    second: Coroutine[Any, Any, list[_Graded] | None],
) -> tuple[list[_Graded], list[_Graded] | None]:
    """Await both concurrently; if one fails, cancel the other rather than leave it running."""
    tasks = (asyncio.ensure_future(first), asyncio.ensure_future(second))
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    return tasks[0].result(), tasks[1].result()


def _default_gate(request: ScoringRequest) -> str | None:
    """The evaluator's unscorable gate (`gating.gate`), run before any tokens are spent."""
    reason = gating.gate(request.answer, request.question)
    return None if reason is None else str(reason)
