"""The evaluator's Kafka edge: answers in, verdicts out; interview completions in, reports out."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka.structs import ConsumerRecord
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from interview_shared import topics
from interview_shared.domain import InterviewStatus
from interview_shared.events import AnswerSubmitted, Event, InterviewStatusChanged
from interview_shared.messaging import (
    CONSUMER_ACK_POLICY,
    EventProcessor,
    EventPublisher,
    RetryLater,
)
from interview_shared.read_client import ReadSide
from interview_shared.read_models import Outcome

from interview_evaluator.aggregate import collect, summarise
from interview_evaluator.evaluation import AnswerEvaluator
from interview_evaluator.resilience import CircuitBreaker, CircuitOpenError

ANSWERS_ROLE = "evaluator"
REPORTS_ROLE = "evaluator-reports"


class AnswerBatchHandler:
    """Scores one polled batch concurrently; returns only when every answer is published or
    dead-lettered, so the batch's offsets are committed after the work is durable."""

    def __init__(
        self,
        *,
        evaluator: AnswerEvaluator,
        processor: EventProcessor,
        breaker: CircuitBreaker | None,
        pause_s: float,
    ) -> None:
        self._evaluator = evaluator
        self._processor = processor
        self._breaker = breaker
        self._pause_s = pause_s

    async def handle_batch(self, records: tuple[ConsumerRecord[Any, Any], ...]) -> None:
        """Score every record of the batch; raise RetryLater to have it redelivered."""
        await self._wait_for_breaker()
        results = await asyncio.gather(
            *(self._processor.process(r, self._handle) for r in records), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def _handle(self, event: Event) -> None:
        if not isinstance(event, AnswerSubmitted):
            return
        try:
            await self._evaluator.evaluate(event)
        except CircuitOpenError as exc:
            raise RetryLater(str(exc)) from exc

    async def _wait_for_breaker(self) -> None:
        # While the endpoint keeps failing, stop consuming instead of dead-lettering everything.
        # The wait is bounded so the consumer polls again well inside max.poll.interval.ms; the
        # batch is then redelivered (RetryLater) and waits here again.
        if self._breaker is None:
            return
        try:
            await asyncio.wait_for(self._breaker.wait_until_closed(), self._pause_s)
        except TimeoutError as exc:
            raise RetryLater("circuit breaker open") from exc


class CompletionHandler:
    """On interview COMPLETED (as applied by the store), publishes `interview.evaluated`."""

    def __init__(self, *, read: ReadSide, publisher: EventPublisher, wait_s: float) -> None:
        self._read = read
        self._publisher = publisher
        self._wait_s = wait_s

    async def handle(self, event: Event) -> None:
        """Aggregate the interview's current scores once its completion is applied."""
        if (
            not isinstance(event, InterviewStatusChanged)
            or event.status is not InterviewStatus.COMPLETED
        ):
            return
        outcome = await self._read.event_outcome(event.event_id, wait_s=self._wait_s)
        if outcome is None:
            raise RuntimeError("the store has not applied the completion yet")
        if outcome.outcome is Outcome.REJECTED:
            return  # a racing, invalid transition: the interview did not complete
        answers, questions = await collect(self._read, event.interview_id, wait_s=self._wait_s)
        report = summarise(event.interview_id, answers, questions)
        await self._publisher.publish(
            report.model_copy(update={"correlation_id": event.correlation_id})
        )


def register_handlers(
    broker: KafkaBroker,
    *,
    answers: AnswerBatchHandler,
    completions: CompletionHandler,
    processor: EventProcessor,
    groups: tuple[str, str],
    batch_size: int,
    max_poll_interval_ms: int,
) -> None:
    """Subscribe both handlers, at least once."""

    @broker.subscriber(
        topics.ANSWERS.name,
        group_id=groups[0],
        batch=True,
        max_records=batch_size,
        batch_timeout_ms=10,
        max_poll_interval_ms=max_poll_interval_ms,
        auto_offset_reset="earliest",
        ack_policy=CONSUMER_ACK_POLICY,
        title="evaluator-answers",
        description="Scores answer.submitted and publishes answer.evaluated.",
    )
    async def score_answers(message: KafkaMessage) -> None:
        records = message.raw_message
        # aiokafka's getmany gives a tuple, FastStream's TestKafkaBroker a list: accept both.
        batch = tuple(records) if isinstance(records, tuple | list) else (records,)
        await answers.handle_batch(batch)

    @broker.subscriber(
        topics.INTERVIEWS.name,
        group_id=groups[1],
        auto_offset_reset="earliest",
        ack_policy=CONSUMER_ACK_POLICY,
        title="evaluator-reports",
        description="Publishes interview.evaluated when an interview is COMPLETED.",
    )
    async def report_interviews(message: KafkaMessage) -> None:
        await processor.process(message.raw_message, completions.handle)
