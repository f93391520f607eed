"""Consumes domain events in batches and applies each batch in one store transaction.

Offsets are committed (by the subscriber's ack policy) only after `ingest` returns, i.e. after
the database commit. While the database is down `ingest` keeps retrying with back-off and the
service reports not-ready; past `outage_deadline_s` it raises so the batch is redelivered after a
re-poll, which keeps the consumer inside `max.poll.interval.ms`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from aiokafka.structs import ConsumerRecord
from interview_shared.catchup import CatchUp
from interview_shared.events import Event, decode_event
from interview_shared.logging import get_logger
from interview_shared.messaging import EventProcessor
from interview_shared.metrics import STORE_BATCH_SECONDS, STORE_EVENTS_APPLIED
from interview_shared.read_models import ApplyResult, StoreUnavailableError
from pydantic import ValidationError

from interview_store.outcomes import OutcomeAnnouncer
from interview_store.port import Store

log = get_logger(__name__)


class BatchIngestor:
    """Applies batches of records to the store: poison messages are dead-lettered, the rest kept."""

    def __init__(
        self,
        *,
        processor: EventProcessor,
        announcer: OutcomeAnnouncer,
        outage_deadline_s: float = 120.0,
        max_backoff_s: float = 5.0,
    ) -> None:
        self._store: Store | None = None
        self._processor = processor
        self._announcer = announcer
        self._outage_deadline_s = outage_deadline_s
        self._max_backoff_s = max_backoff_s
        self.database_available = True
        self.catch_up = CatchUp()

    def attach(self, store: Store) -> None:
        """Use `store` from now on; called by the lifespan once the store is open."""
        self._store = store

    async def ingest(self, records: Sequence[ConsumerRecord[Any, Any]]) -> None:
        """Apply one polled batch; returns only when it is durable or dead-lettered."""
        decoded = [pair async for pair in self._decode(records)]
        if not decoded:
            self.catch_up.seen(records)
            return
        try:
            with STORE_BATCH_SECONDS.time():
                events = [event for _, event in decoded]
                applied = list(zip(events, await self._apply_with_backoff(events), strict=True))
        except StoreUnavailableError:
            raise
        except Exception:
            log.exception("batch_failed_isolating", size=len(decoded))
            applied = await self._apply_one_by_one(decoded)
        # Announced before returning, so the offsets are committed only once the outcomes are
        # on the log; a replaying memory store announced these outcomes in its previous life.
        fresh = {e.event_id for record, e in decoded if not self.catch_up.replayed(record)}
        announce = [(e, r) for e, r in applied if e.event_id in fresh]
        if announce and self._store is not None:
            await self._announcer.announce(
                self._store, [e for e, _ in announce], [r for _, r in announce]
            )
        self.catch_up.seen(records)
        STORE_EVENTS_APPLIED.inc(len(decoded))

    async def _decode(self, records: Sequence[ConsumerRecord[Any, Any]]) -> Any:
        for record in records:
            try:
                yield record, decode_event(record.value or b"")
            except ValidationError as exc:
                await self._processor.dead_letter(record, exc, attempts=0)

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

    async def _apply_with_backoff(self, events: list[Event]) -> list[ApplyResult]:
        if self._store is None:
            raise StoreUnavailableError("the store is not open yet")
        deadline = time.monotonic() + self._outage_deadline_s
        delay = 0.1
        while True:
            try:
                results = await self._store.apply(events)
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
