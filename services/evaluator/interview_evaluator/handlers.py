"""The evaluator's Kafka edge: answers in, verdicts out (reports come from `reports`)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from typing import Any

import structlog
from aiokafka.structs import ConsumerRecord
from faststream.kafka import KafkaBroker
from faststream.kafka.message import KafkaMessage as KafkaStreamMessage
from interview_shared import topics
from interview_shared.events import AnswerEvaluated, AnswerSubmitted, decode_event
from interview_shared.logging import get_logger
from interview_shared.messaging import CONSUMER_ACK_POLICY, EventProcessor, RetryLater
from interview_shared.metrics import EVENTS_HANDLED, HANDLER_SECONDS
from interview_shared.telemetry import current_context, record_span, resumed
from opentelemetry.context import Context
from pydantic import ValidationError

from interview_evaluator.evaluation import AnswerEvaluator
from interview_evaluator.resilience import CircuitBreaker, CircuitOpenError, RetriesExhausted

ANSWERS_ROLE = "evaluator"
log = get_logger(__name__)
_stdlib_log = logging.getLogger(__name__)  # level checks: structlog formats before filtering


async def _raw_records(message: KafkaStreamMessage) -> Any:
    """Decoder of the answer subscriber: the polled records themselves, undecoded.

    The handler needs the records (partition and offset, for dead letters), which FastStream
    otherwise hands over only through `Context("message")`, a synchronous dependency that
    fast_depends runs in a worker thread: one thread hand-off per polled batch.
    """
    return message.raw_message


class AnswerBatchHandler:
    """Scores one polled batch concurrently, then publishes its verdicts together; returns only
    when every answer is published or dead-lettered, so the batch's offsets are committed after
    the work is durable.

    The verdicts are handed to the producer in the batch's order with no suspension in between
    (each publish appends its record before its first await), so they travel in as few produce
    requests as the producer can make and verdicts for one interview keep their order; their
    acknowledgements are awaited together. How many answers are scored at once is the
    evaluator's business (`AnswerEvaluator(concurrency=...)`), not the batch size's.

    A model outage never dead-letters an answer (the fault suite's R7): when the scorer's
    retries run out on failures of the service (429, 5xx, timeouts, refused connections: what
    the breaker counts) or the circuit is open, the batch is redelivered (`RetryLater`) and the
    breaker pauses consumption until the model is back. The same answer is scored later by the
    same judge, so one hiring round is not scored on two scales. Replies the model keeps getting
    wrong (malformed JSON on every attempt) are redelivered `output_redeliveries` times by this
    process, then dead-lettered: that is about the answer, not the model's health, and must not
    hold its partition forever.
    """

    def __init__(
        self,
        *,
        evaluator: AnswerEvaluator,
        processor: EventProcessor,
        breaker: CircuitBreaker | None,
        pause_s: float,
        output_redeliveries: int = 3,
    ) -> None:
        self._evaluator = evaluator
        self._processor = processor  # its dead letters; the happy path is inlined below
        self._breaker = breaker
        self._pause_s = pause_s
        self._output_redeliveries = output_redeliveries
        self._output_failures: OrderedDict[str, int] = OrderedDict()  # answer id -> redeliveries
        group = processor.group
        self._handled = EVENTS_HANDLED.labels(group, "handled")  # label lookups once, not per
        self._seconds = HANDLER_SECONDS.labels(group)  # message: they cost like a decode
        self._span_name = f"{group} handle"  # as `EventProcessor` names it

    async def handle_batch(self, records: tuple[ConsumerRecord[Any, Any], ...]) -> None:
        """Score every record of the batch; raise RetryLater to have it redelivered."""
        await self._wait_for_breaker()
        started = time.perf_counter()
        verdicts: list[AnswerEvaluated | None] = [None] * len(records)
        traces: list[Context | None] = [None] * len(records)  # each verdict in its answer's trace
        scored = await asyncio.gather(
            *(self._score(r, verdicts, traces, i) for i, r in enumerate(records)),
            return_exceptions=True,
        )
        ready = [(records[i], v, traces[i]) for i, v in enumerate(verdicts) if v is not None]
        # The verdicts obtained are published even when the batch is to be redelivered: the
        # redelivery then skips them (`AnswerEvaluator.published`) instead of paying twice.
        await self._publish(ready)
        for result in scored:
            if isinstance(result, BaseException):
                raise result
        if _stdlib_log.isEnabledFor(logging.INFO):
            log.info(
                "answer_batch_evaluated",
                records=len(records),
                published=len(ready),
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
            )

    async def _score(
        self,
        record: ConsumerRecord[Any, Any],
        verdicts: list[AnswerEvaluated | None],
        traces: list[Context | None],
        i: int,
    ) -> None:
        # `EventProcessor.process` inlined for one attempt (the judge retries, one layer): the
        # same outcomes (poison and failures dead-lettered, RetryLater raised) without its
        # per-message metric label lookups and context managers.
        started = time.perf_counter()
        try:
            event = decode_event(record.value or b"")
        except ValidationError as exc:
            await self._processor.dead_letter(record, exc, attempts=0)
            return
        if not isinstance(event, AnswerSubmitted):
            return
        with (
            structlog.contextvars.bound_contextvars(
                event_id=str(event.event_id), correlation_id=event.correlation_id
            ),
            record_span(record, self._span_name, event_type=event.type),
        ):
            traces[i] = current_context()
            try:
                verdicts[i] = await self._evaluator.verdict(event)
            except CircuitOpenError as exc:
                raise RetryLater(str(exc)) from exc
            except RetriesExhausted as exc:
                if not self._redeliver(str(event.answer_id), exc):
                    await self._processor.dead_letter(record, exc, attempts=exc.attempts)
                    return
                raise RetryLater(str(exc)) from exc
            except RetryLater:
                raise
            except Exception as exc:
                await self._processor.dead_letter(record, exc, attempts=1)
                return
        self._handled.inc()
        self._seconds.observe(time.perf_counter() - started)

    def _redeliver(self, answer_id: str, exhausted: RetriesExhausted) -> bool:
        """Whether an answer whose retries ran out is redelivered rather than dead-lettered."""
        if self._breaker is None or self._breaker.counts_as_failure(exhausted.last_error):
            return True  # the service is failing: wait for it, however long that takes
        seen = self._output_failures.pop(answer_id, 0) + 1
        if seen > self._output_redeliveries:
            return False
        self._output_failures[answer_id] = seen
        while len(self._output_failures) > 10_000:
            self._output_failures.popitem(last=False)
        log.warning("judge_output_unusable_redelivering", answer_id=answer_id, redelivery=seen)
        return True

    async def _publish(
        self, ready: list[tuple[ConsumerRecord[Any, Any], AnswerEvaluated, Context | None]]
    ) -> None:
        # One verdict the broker refuses (too large, say) is dead-lettered with its answer;
        # if even the dead letter fails, that raises and the whole batch is redelivered.
        acks = await asyncio.gather(
            *(self._send(v, saved) for _, v, saved in ready), return_exceptions=True
        )
        for (record, verdict, _), ack in zip(ready, acks, strict=True):
            if ack is None:
                self._evaluator.published(verdict)
            elif isinstance(ack, Exception):
                await self._processor.dead_letter(record, ack, attempts=1)
            else:
                raise ack

    async def _send(self, verdict: AnswerEvaluated, saved: Context | None) -> None:
        with resumed(saved):  # the publish span and header continue the answer's trace
            await self._evaluator.publish(verdict)

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


def register_handlers(
    broker: KafkaBroker,
    *,
    answers: AnswerBatchHandler,
    group: str,
    batch_size: int,
    max_poll_interval_ms: int,
) -> None:
    """Subscribe the answer handler, at least once."""

    @broker.subscriber(
        topics.ANSWERS.name,
        group_id=group,
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
