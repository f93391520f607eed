"""The evaluator's Kafka edge: answers in, verdicts out; interview completions in, reports out."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiokafka.structs import ConsumerRecord
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.message import KafkaMessage as KafkaStreamMessage
from interview_shared import topics
from interview_shared.domain import InterviewStatus
from interview_shared.events import AnswerSubmitted, Event, InterviewStatusChanged
from interview_shared.logging import get_logger
from interview_shared.messaging import (
    CONSUMER_ACK_POLICY,
    EventProcessor,
    EventPublisher,
    RetryLater,
)
from interview_shared.read_client import ReadSide
from interview_shared.read_models import Outcome

from interview_evaluator.aggregate import collect, summarise
from interview_evaluator.evaluation import AnswerEvaluator, PublishTurn
from interview_evaluator.resilience import CircuitBreaker, CircuitOpenError

ANSWERS_ROLE = "evaluator"
REPORTS_ROLE = "evaluator-reports"
log = get_logger(__name__)


async def _raw_records(message: KafkaStreamMessage) -> Any:
    """Decoder of the answer subscriber: the polled records themselves, undecoded.

    The handler needs the records (partition and offset, for dead letters), which FastStream
    otherwise hands over only through `Context("message")`, a synchronous dependency that
    fast_depends runs in a worker thread: one thread hand-off per polled batch.
    """
    return message.raw_message


class AnswerBatchHandler:
    """Scores one polled batch concurrently; returns only when every answer is published or
    dead-lettered, so the batch's offsets are committed after the work is durable.

    Verdicts are handed to the producer in the batch's order (`PublishTurn`), so verdicts for
    one interview keep their order even when a judge finishes them out of order; their
    acknowledgements are awaited together. How many answers are scored at once is the
    evaluator's business (`AnswerEvaluator(concurrency=...)`), not the batch size's.
    """

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
        started = time.perf_counter()
        turns = PublishTurn.chain(len(records))
        published = [False] * len(records)
        results = await asyncio.gather(
            *(self._one(r, turns[i], published, i) for i, r in enumerate(records)),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result
        log.info(
            "answer_batch_evaluated",
            records=len(records),
            published=sum(published),
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )

    async def _one(
        self, record: ConsumerRecord[Any, Any], turn: PublishTurn, published: list[bool], i: int
    ) -> None:
        async def handle(event: Event) -> None:
            if not isinstance(event, AnswerSubmitted):
                return
            try:
                published[i] = await self._evaluator.evaluate(event, turn)
            except CircuitOpenError as exc:
                raise RetryLater(str(exc)) from exc

        try:
            await self._processor.process(record, handle)
        finally:
            turn.release()  # skipped, dead-lettered or failed: the next answer may publish

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
        decoder=_raw_records,
        title="evaluator-answers",
        description="Scores answer.submitted and publishes answer.evaluated.",
    )
    async def score_answers(records: Any) -> None:
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
