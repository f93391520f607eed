"""`interview.evaluated` from the log: the evaluator follows its topics and reports when ready.

No consumer group and no committed offsets: on every start the follower reads the answers,
evaluations and outcomes topics from their earliest offset (as the memory store rebuilds
itself), folds them into a `ReportBook`, and publishes nothing until it has read as far as the
log reached at start-up. Reports already on the log are seen on the way and not published
again; an interview that completed while no evaluator was running (or whose report failed to
publish) is reported right after the catch-up: nothing is lost between a completion and its
report. Every replica follows the whole log; their reports carry the same deterministic event
id, which the store de-duplicates.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord
from interview_shared import topics
from interview_shared.events import decode_event
from interview_shared.logging import get_logger
from interview_shared.messaging import EventPublisher
from pydantic import ValidationError

from interview_evaluator.report_state import ReportBook
from interview_evaluator.review_reports import ReviewFollowUp

FOLLOWED: tuple[topics.Topic, ...] = (topics.ANSWERS, topics.EVALUATIONS, topics.OUTCOMES)
log = get_logger(__name__)


class LogTail(Protocol):
    """Records of `FOLLOWED` from the earliest offset on, in partition order."""

    async def start(self) -> None:
        """Connect and position at the earliest offsets."""
        ...

    async def stop(self) -> None:
        """Disconnect."""
        ...

    async def poll(self) -> Sequence[ConsumerRecord[Any, Any]]:
        """The next records (empty after a short wait when there are none)."""
        ...

    @property
    def caught_up(self) -> bool:
        """Whether everything on the log at `start` has been returned."""
        ...


class KafkaLogTail:
    """`LogTail` over aiokafka: every partition assigned, no group, nothing committed."""

    def __init__(self, bootstrap: str, *, poll_ms: int = 200, max_records: int = 1000) -> None:
        # Reports are not latency-critical: waiting up to 200 ms for 256 KiB per fetch turns a
        # request per few records into a request per many, which is most of a record's cost.
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            enable_auto_commit=False,
            fetch_min_bytes=256 * 1024,
            fetch_max_wait_ms=200,
        )
        self._poll_ms = poll_ms
        self._max_records = max_records
        self._remaining: dict[TopicPartition, int] = {}

    async def start(self) -> None:
        """Assign every partition and seek to its beginning; note the end offsets to catch up."""
        await self._consumer.start()
        try:
            partitions = [TopicPartition(t.name, p) for t in FOLLOWED for p in range(t.partitions)]
            self._consumer.assign(partitions)
            starts = await self._consumer.beginning_offsets(partitions)
            ends = await self._consumer.end_offsets(partitions)
        except BaseException:
            await self._consumer.stop()  # `run` stops only a tail that started
            raise
        for tp, offset in starts.items():
            self._consumer.seek(tp, offset)  # explicit: a lazy seek_to_beginning can resolve late
        self._remaining = {tp: ends[tp] for tp in partitions if ends[tp] > starts[tp]}

    async def stop(self) -> None:
        """Leave the cluster."""
        await self._consumer.stop()

    async def poll(self) -> Sequence[ConsumerRecord[Any, Any]]:
        """One fetch across all partitions."""
        fetched = await self._consumer.getmany(
            timeout_ms=self._poll_ms, max_records=self._max_records
        )
        records = [r for batch in fetched.values() for r in batch]
        for record in records:
            tp = TopicPartition(record.topic, record.partition)
            if tp in self._remaining and record.offset + 1 >= self._remaining[tp]:
                del self._remaining[tp]
        return records

    @property
    def caught_up(self) -> bool:
        """Whether every partition has been read up to its end offset at start."""
        return not self._remaining


class MemoryLogTail:
    """`LogTail` over records appended in this process (tests); caught up once drained."""

    def __init__(self, records: Sequence[ConsumerRecord[Any, Any]] = ()) -> None:
        self._records = list(records)
        self._arrived = asyncio.Event()
        self.caught_up = False

    def append(self, record: ConsumerRecord[Any, Any]) -> None:
        """Make one more record visible to `poll`."""
        self._records.append(record)
        self._arrived.set()

    async def start(self) -> None:
        """Nothing to connect to."""

    async def stop(self) -> None:
        """Nothing to disconnect."""

    async def poll(self) -> Sequence[ConsumerRecord[Any, Any]]:
        """Every record appended since the last poll (waits briefly for one)."""
        if not self._records:
            self.caught_up = True
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), 0.05)
        records, self._records = self._records, []
        return records


class ReportFollower:
    """Folds the followed log into a `ReportBook` and publishes each report once ready."""

    def __init__(
        self,
        *,
        tail: Callable[[], LogTail],
        publisher: EventPublisher,
        wait_s: float,
        sweep_s: float = 1.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        reviews: ReviewFollowUp | None = None,
    ) -> None:
        self._tail = tail
        self._reviews = reviews
        """Human grades of reported interviews: re-reported from here, after the catch-up."""
        self._publisher = publisher
        self._wait = timedelta(seconds=wait_s)
        self._sweep_s = sweep_s
        self._clock = clock
        self.book = ReportBook()
        self.caught_up = False

    async def ready(self) -> bool:
        """Whether the log has been read as far as it reached at start-up (tests, tools)."""
        return self.caught_up

    async def run(self) -> None:
        """Follow the log until cancelled (from the earliest offset again on every call)."""
        tail = self._tail()
        self.caught_up = False
        await tail.start()
        try:
            await self._follow(tail)
        finally:
            await tail.stop()

    async def _follow(self, tail: LogTail) -> None:
        swept = time.monotonic()
        while True:
            touched = self._fold(await tail.poll())
            if not tail.caught_up:
                continue
            if not self.caught_up or time.monotonic() - swept >= self._sweep_s:
                # After the catch-up: what completed unreported while no one was running; later,
                # interviews whose wait ran out, and reports that failed to publish.
                if not self.caught_up:
                    log.info(
                        "reports_caught_up",
                        pending=len(self.book.completed),
                        open_interviews=self.book.open_interviews,
                    )
                self.caught_up = True
                touched = set(self.book.completed)
                swept = time.monotonic()
            for interview_id in touched & self.book.completed:
                await self._report(interview_id)
            if self._reviews is not None and self._reviews.due:
                await self._follow_up(self._reviews)

    async def _follow_up(self, reviews: ReviewFollowUp) -> None:
        # After this pass's own reports, so a grade the live book just reported is seen as such.
        try:
            await reviews.run()
        except Exception as exc:  # Kafka unavailable: kept for the next pass
            log.warning("review_follow_up_failed", error=repr(exc))
            await asyncio.sleep(self._sweep_s)

    def _fold(self, records: Sequence[ConsumerRecord[Any, Any]]) -> set[uuid.UUID]:
        touched: set[uuid.UUID] = set()
        for record in records:
            try:
                event = decode_event(record.value or b"")
            except ValidationError:
                continue  # poison: its own consumer dead-letters it
            if self._reviews is not None:
                self._reviews.observe(event)
            if (interview_id := self.book.observe(event)) is not None:
                touched.add(interview_id)
        return touched

    async def _report(self, interview_id: uuid.UUID) -> None:
        report = self.book.report(interview_id, now=self._clock(), wait=self._wait)
        if report is None:
            return
        try:
            await self._publisher.publish(report)
        except Exception as exc:  # Kafka unavailable: the next sweep tries again
            log.warning("report_publish_failed", interview_id=str(interview_id), error=repr(exc))
            return
        self.book.mark_reported(interview_id)
        log.info(
            "interview_reported", interview_id=str(interview_id), event_id=str(report.event_id)
        )


async def follow(follower: ReportFollower) -> None:
    """Run the follower; a crash is logged and the follower restarted: it reads the log again
    from the start into the same book (folding is idempotent), so nothing is reported twice."""
    while True:
        try:
            await follower.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("report_follower_failed_restarting")
            await asyncio.sleep(1.0)
