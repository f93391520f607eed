"""Consumes domain events in batches and applies each batch in one store transaction.

The batch's Kafka offsets are written in that same transaction (`Store.apply(offsets=...)`),
and a restarted store resumes from them (`interview_store.rebuild`). The consumer group's
offsets are committed (by the subscriber's ack policy) only after `ingest` returns, i.e. after
the database commit and the outcome events. While the database is down `ingest` keeps retrying
with back-off and the service reports not-ready; past `outage_deadline_s` it raises so the batch
is redelivered after a re-poll, which keeps the consumer inside `max.poll.interval.ms`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from aiokafka.structs import ConsumerRecord
from interview_shared.catchup import CatchUp
from interview_shared.events import (
    CandidateErased,
    CandidateRegistered,
    CvAnalyzed,
    Event,
    decode_event,
)
from interview_shared.keyring import KeyRing, Privacy
from interview_shared.logging import get_logger
from interview_shared.messaging import EventProcessor, is_reply_delta
from interview_shared.metrics import (
    STORE_BATCH_SECONDS,
    STORE_EVENTS_APPLIED,
    STORE_REBUILD_APPLIED,
    STORE_REBUILD_CAUGHT_UP,
    STORE_REBUILD_TARGET,
)
from interview_shared.read_models import ApplyResult, StoreUnavailableError
from pydantic import ValidationError

from interview_store.outcomes import OutcomeAnnouncer
from interview_store.port import KeptOffset, Offsets, Store

log = get_logger(__name__)
T = TypeVar("T")


class BatchIngestor:
    """Applies batches of records to the store: poison messages are dead-lettered, the rest kept."""

    def __init__(
        self,
        *,
        processor: EventProcessor,
        announcer: OutcomeAnnouncer,
        privacy: Privacy,
        outage_deadline_s: float = 120.0,
        max_backoff_s: float = 5.0,
    ) -> None:
        self._store: Store | None = None
        self._processor = processor
        self._announcer = announcer
        self._privacy = privacy
        self._outage_deadline_s = outage_deadline_s
        self._max_backoff_s = max_backoff_s
        self.database_available = True
        self.catch_up = CatchUp()
        self._in_flight = 0

    @property
    def busy(self) -> bool:
        """Whether a batch is being applied now."""
        return self._in_flight > 0

    def attach(self, store: Store) -> None:
        """Use `store` from now on; called by the lifespan once the store is open."""
        self._store = store

    async def consumed_offsets(self) -> dict[tuple[str, int], KeptOffset]:
        """The offsets kept with the store's data, retried while the database is down."""
        store = self._store
        if store is None:
            raise StoreUnavailableError("the store is not open yet")
        return await self._retrying(store.consumed_offsets)

    def report_progress(self) -> dict[str, int]:
        """How far the replay of the log has got; also exported as metrics."""
        progress = self.catch_up.progress()
        STORE_REBUILD_APPLIED.set(progress["applied"])
        STORE_REBUILD_TARGET.set(progress["target"])
        STORE_REBUILD_CAUGHT_UP.set(1 if self.catch_up.done else 0)
        return progress

    async def ingest(self, records: Sequence[ConsumerRecord[Any, Any]]) -> None:
        """Apply one polled batch; returns only when it is durable or dead-lettered."""
        self._in_flight += 1
        try:
            await self._ingest(records)
        finally:
            self._in_flight -= 1

    async def _ingest(self, records: Sequence[ConsumerRecord[Any, Any]]) -> None:
        decoded = await self._opened([pair async for pair in self._decode(records)])
        offsets = self._offsets(records)
        try:
            with STORE_BATCH_SECONDS.time():
                events = [event for _, event in decoded]
                results = await self._apply_with_backoff(events, offsets)
                applied = list(zip(events, results, strict=True))
        except StoreUnavailableError:
            raise
        except Exception:
            log.exception("batch_failed_isolating", size=len(decoded))
            applied = await self._apply_one_by_one(decoded)
            await self._apply_with_backoff([], offsets)  # dead letters included
        # Announced before returning, so the group's offsets (the announced watermark) are
        # committed only once the outcomes are on the log; what a rebuild replays below that
        # watermark was announced in an earlier life (of this store or of its old database).
        fresh = {e.event_id for record, e in decoded if not self.catch_up.replayed(record)}
        announce = [(e, r) for e, r in applied if e.event_id in fresh]
        if announce and self._store is not None:
            await self._announcer.announce(
                self._store, [e for e, _ in announce], [r for _, r in announce]
            )
        self.catch_up.seen(records)
        self.report_progress()
        STORE_EVENTS_APPLIED.inc(len(decoded))

    def _offsets(self, records: Sequence[ConsumerRecord[Any, Any]]) -> Offsets:
        """The batch's next offset per partition, with the watermark to keep beside it."""
        ends: dict[tuple[str, int], int] = {}
        for record in records:
            tp = (record.topic, record.partition)
            ends[tp] = max(ends.get(tp, 0), record.offset + 1)
        return {tp: KeptOffset(end, self.catch_up.announced(tp)) for tp, end in ends.items()}

    async def _decode(self, records: Sequence[ConsumerRecord[Any, Any]]) -> Any:
        for record in records:
            if is_reply_delta(record.headers):
                continue  # live-only, kept by nobody: the completed reply carries the text
            try:
                yield record, decode_event(record.value or b"")
            except ValidationError as exc:
                # Decoding is deterministic: a replayed record was dead-lettered when it was new.
                if not self.catch_up.replayed(record):
                    await self._processor.dead_letter(record, exc, attempts=0)

    async def _opened(
        self, decoded: list[tuple[ConsumerRecord[Any, Any], Event]]
    ) -> list[tuple[ConsumerRecord[Any, Any], Event]]:
        """The events with their personal fields opened (blank where the key is gone)."""
        opened = await self._privacy.open_all([event for _, event in decoded])
        ring = self._privacy.ring
        return [
            (record, _erasure_of(event) if lost or _of_erased(event, ring) else event)
            for (record, _), (event, lost) in zip(decoded, opened, strict=True)
        ]

    async def _apply_one_by_one(
        self, decoded: list[tuple[ConsumerRecord[Any, Any], Event]]
    ) -> list[tuple[Event, ApplyResult]]:
        # One bad event must not block the others: apply each alone, dead-letter the ones that fail.
        applied: list[tuple[Event, ApplyResult]] = []
        for record, event in decoded:
            try:
                applied.extend(zip([event], await self._apply_with_backoff([event]), strict=True))
            except StoreUnavailableError:
                raise
            except Exception as exc:
                await self._processor.dead_letter(record, exc, attempts=1)
        return applied

    async def _apply_with_backoff(
        self, events: list[Event], offsets: Offsets | None = None
    ) -> list[ApplyResult]:
        store = self._store
        if store is None:
            raise StoreUnavailableError("the store is not open yet")
        return await self._retrying(lambda: store.apply(events, offsets=offsets))

    async def _retrying(self, call: Callable[[], Awaitable[T]]) -> T:
        deadline = time.monotonic() + self._outage_deadline_s
        delay = 0.1
        while True:
            try:
                results = await call()
            except StoreUnavailableError as exc:
                self.database_available = False
                if time.monotonic() + delay > deadline:
                    raise
                log.warning("store_unavailable_retrying", delay_s=delay, error=str(exc))
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_backoff_s)
            else:
                if not self.database_available:
                    log.info("store_available_again")
                self.database_available = True
                return results


def _of_erased(event: Event, ring: KeyRing) -> bool:
    """A registration or CV analysis written in plain text (before keys existed) of a candidate
    whose key's tombstone this store has read: it must not bring them back in a rebuild."""
    return isinstance(event, CandidateRegistered | CvAnalyzed) and ring.erased(event.candidate_id)


def _erasure_of(event: Event) -> Event:
    """What is left of an event of an erased candidate: a registration or a CV analysis is
    their erasure (nothing of them is kept); an answer or a chat message is kept, blank."""
    if isinstance(event, CandidateRegistered | CvAnalyzed):
        return CandidateErased(
            event_id=event.event_id,
            candidate_id=event.candidate_id,
            occurred_at=event.occurred_at,
            correlation_id=event.correlation_id,
        )
    return event
