"""Scoring one submitted answer and publishing the verdict with its full lineage."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict

from interview_shared.events import (
    AnswerEvaluated,
    AnswerSubmitted,
    CriterionResult,
    EvaluationUsage,
    Lineage,
)
from interview_shared.keyring import MemoryKeyRing, Privacy
from interview_shared.logging import get_logger
from interview_shared.messaging import EventPublisher
from interview_shared.telemetry import span

from interview_evaluator.ids import answer_evaluated_event_id, evaluation_id
from interview_evaluator.observe import observe_evaluation, usage_attributes
from interview_evaluator.priority import LiveFirst
from interview_evaluator.review import reviewed
from interview_evaluator.scoring import Scorer, ScoringRequest, ScoringResult

EVALUATOR_VERSION = "0.1.0"
log = get_logger(__name__)
_stdlib_log = logging.getLogger(__name__)  # level checks: structlog formats before filtering


def scoring_request(event: AnswerSubmitted) -> ScoringRequest:
    """What the scorer sees: the answer and the question as it was when answered."""
    question = event.question
    return ScoringRequest(
        answer_id=str(event.answer_id),
        question=question.text,
        answer=event.text,
        reference_answer=question.reference_answer,
        key_points=question.key_points,
        rubric=question.rubric,
    )


def evaluated_event(
    event: AnswerSubmitted, result: ScoringResult, *, replay_id: str | None = None
) -> AnswerEvaluated:
    """The `answer.evaluated` event for a scorer's result, with lineage, review flags and
    deterministic ids (see `ids`): the same answer, scorer and rubric version always give the
    same evaluation."""
    result = reviewed(result)
    rubric_version = event.question.rubric.version
    evaluation = evaluation_id(
        event.answer_id, scorer=result.scorer, rubric_version=rubric_version, replay_id=replay_id
    )
    return AnswerEvaluated(
        event_id=answer_evaluated_event_id(evaluation),
        evaluation_id=evaluation,
        answer_id=event.answer_id,
        interview_id=event.interview_id,
        question_id=event.question_id,
        outcome=result.outcome.value,
        score=None if result.score is None else round(result.score, 2),
        criteria=tuple(CriterionResult(**c.model_dump()) for c in result.criteria),
        feedback=result.feedback,
        unscorable_reason=result.unscorable_reason,
        explanation=result.explanation,
        flags=result.flags,
        confidence=result.confidence,
        lineage=Lineage(
            scorer=result.scorer,
            scorer_version=result.scorer_version,
            model=result.model,
            rubric_version=rubric_version,
            prompt_hash=result.prompt_hash,
            evaluator_version=EVALUATOR_VERSION,
            parameters=result.parameters,
        ),
        usage=EvaluationUsage(**result.usage.model_dump()),
        correlation_id=event.correlation_id,
    )


class AnswerEvaluator:
    """Scores answers once per (answer, scorer, rubric version) and publishes the result.

    Idempotency needs no lookup: the verdict's ids are derived from that triple, so the store
    keeps one row however often an answer is judged. The in-process memory of recent verdicts
    only saves the scorer's cost (an LLM call) on a redelivery to the same process.
    """

    def __init__(
        self,
        *,
        scorer: Scorer,
        publisher: EventPublisher,
        privacy: Privacy | None = None,
        priority: LiveFirst | None = None,
        remember: int = 10_000,
        concurrency: int | None = None,
    ) -> None:
        self._scorer = scorer
        # Without the service's key ring nothing sealed can be opened: such answers are skipped.
        self._privacy = privacy or Privacy(MemoryKeyRing())
        self._priority = priority or LiveFirst()  # shared with the replays in the service
        # Bounds concurrent scorer calls (an LLM judge's parallel requests), whatever the size
        # of the polled batch. Held only while scoring, never while waiting to publish.
        self._slots = asyncio.Semaphore(concurrency) if concurrency else None
        self._publisher = publisher
        self._done: OrderedDict[tuple[str, str, str], None] = OrderedDict()
        self._remember = remember

    async def evaluate(self, event: AnswerSubmitted) -> bool:
        """Score and publish one answer (see `verdict`); returns whether a verdict went out."""
        verdict = await self.verdict(event)
        if verdict is None:
            return False
        await self.publish(verdict)
        self.published(verdict)
        return True

    async def verdict(self, event: AnswerSubmitted) -> AnswerEvaluated | None:
        """The verdict on one answer, or None if this process already published it (same
        scorer and rubric). Publishing is the caller's, so a batch's verdicts go out together."""
        key = (str(event.answer_id), self._scorer.name, event.question.rubric.version)
        if key in self._done:
            log.info("answer_already_evaluated", answer_id=key[0], scorer=key[1], rubric=key[2])
            return None
        event, erased = await self._privacy.open(event)
        if erased:  # its candidate was erased: nothing of theirs is judged any more
            log.info("answer_of_erased_candidate_skipped", answer_id=key[0])
            return None
        request = scoring_request(event)
        async with self._priority.live():
            if self._slots is None:
                result = await self._score(request)
            else:
                async with self._slots:
                    result = await self._score(request)
        if _stdlib_log.isEnabledFor(logging.DEBUG):  # one INFO line per batch instead
            log.debug(
                "answer_evaluated", answer_id=key[0], outcome=result.outcome, score=result.score
            )
        return evaluated_event(event, result)

    async def _score(self, request: ScoringRequest) -> ScoringResult:
        """The scorer's call (the model call, for a judge), traced and measured."""
        started = time.perf_counter()
        with span("evaluator score", scorer=self._scorer.name, answer_id=request.answer_id) as s:
            result = await self._scorer.score(request)
            if s is not None:
                s.set_attributes(usage_attributes(result))
        observe_evaluation(result, time.perf_counter() - started)
        return result

    async def publish(self, verdict: AnswerEvaluated) -> None:
        """Hand one verdict to the broker and wait for its acknowledgement."""
        await self._publisher.publish(verdict)

    def published(self, verdict: AnswerEvaluated) -> None:
        """Note a verdict the broker acknowledged: a redelivery to this process skips it."""
        key = (str(verdict.answer_id), self._scorer.name, verdict.lineage.rubric_version)
        self._done[key] = None
        while len(self._done) > self._remember:
            self._done.popitem(last=False)
