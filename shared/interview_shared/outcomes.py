"""Waiting for the store's decision on an event, in process: a future per event id.

The gateway tails the outcomes topic without a consumer group, so every replica sees every
outcome and resolves the futures of its own requests; nobody polls the store. Outcomes are
also kept for a short while, for an SSE frame whose event arrives after its outcome.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from cachetools import LRUCache

from interview_shared.events import OutcomeRecorded


class OutcomeHub:
    """Futures waiting on outcomes, and the most recent outcomes seen."""

    def __init__(self, *, remembered: int = 50_000) -> None:
        self._waiting: dict[uuid.UUID, asyncio.Future[OutcomeRecorded]] = {}
        self._recent: LRUCache[uuid.UUID, OutcomeRecorded] = LRUCache(remembered)

    @asynccontextmanager
    async def expecting(
        self, event_id: uuid.UUID
    ) -> AsyncIterator[asyncio.Future[OutcomeRecorded]]:
        """A future for `event_id`'s outcome; enter it before publishing the event."""
        future = self._waiting.get(event_id) or asyncio.get_running_loop().create_future()
        self._waiting[event_id] = future
        try:
            yield future
        finally:
            self._waiting.pop(event_id, None)

    async def wait(self, event_id: uuid.UUID, *, timeout_s: float) -> OutcomeRecorded | None:
        """The outcome of `event_id`, or None if it does not come within `timeout_s`."""
        if (known := self._recent.get(event_id)) is not None:
            return known
        async with self.expecting(event_id) as future:
            return await self.settle(future, timeout_s)

    @staticmethod
    async def settle(
        future: asyncio.Future[OutcomeRecorded], timeout_s: float
    ) -> OutcomeRecorded | None:
        """The future's outcome, or None if it does not come within `timeout_s`."""
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout_s)
        except TimeoutError:
            return None

    def seen(self, outcome: OutcomeRecorded) -> None:
        """Record an outcome from the tail and wake whoever waits for it."""
        self._recent[outcome.subject_event_id] = outcome
        future = self._waiting.get(outcome.subject_event_id)
        if future is not None and not future.done():
            future.set_result(outcome)

    def awaits(self, event_id: str) -> bool:
        """Whether a request of this process waits for the outcome of `event_id`."""
        try:
            return uuid.UUID(event_id) in self._waiting
        except ValueError:
            return False

    def recent(self, event_id: uuid.UUID) -> OutcomeRecorded | None:
        """An outcome seen lately, if any."""
        return self._recent.get(event_id)

    @property
    def waiting(self) -> int:
        """How many requests wait for an outcome now (for tests and metrics)."""
        return len(self._waiting)
