"""Live events for SSE: one Kafka tail per gateway process, fanned out to HTTP streams by key.

Every gateway replica reads the live topics without a consumer group (a broadcast), from the
latest offset: SSE is about what happens from now on; history is served by the read API.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import OrderedDict, defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from interview_shared.events import Event, OutcomeRecorded
from interview_shared.logging import get_logger
from interview_shared.outcomes import OutcomeHub

log = get_logger(__name__)


class LiveEvents:
    """An in-process pub/sub keyed by aggregate id (interview id or chat session id)."""

    def __init__(self, *, queue_size: int = 1000) -> None:
        self._queues: dict[str, set[asyncio.Queue[Event | None]]] = defaultdict(set)
        self._queue_size = queue_size

    @asynccontextmanager
    async def subscribe(self, key: str) -> AsyncIterator[asyncio.Queue[Event | None]]:
        """Receive every event published under `key` while the context is open.

        Subscribe before causing the event you wait for (publishing a chat message, say), so the
        reply cannot slip past between the publish and the subscription.
        """
        queue: asyncio.Queue[Event | None] = asyncio.Queue(self._queue_size)
        self._queues[key].add(queue)
        try:
            yield queue
        finally:
            self._queues[key].discard(queue)
            if not self._queues[key]:
                del self._queues[key]

    def publish(self, key: str, event: Event) -> None:
        """Deliver to every subscriber of `key`; a subscriber that cannot keep up is cut off."""
        for queue in list(self._queues.get(key, ())):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                log.warning("sse_subscriber_too_slow", key=key)
                self._queues[key].discard(queue)
                queue.get_nowait()
                queue.put_nowait(None)

    def watched(self, key: str) -> bool:
        """Whether any stream listens for `key` now."""
        return key in self._queues

    @property
    def subscribers(self) -> int:
        """How many streams are open (for metrics and tests)."""
        return sum(len(queues) for queues in self._queues.values())


class AppliedGate:
    """Lets a live event through to the streams once the store's outcome says it is applied.

    So a client reacting to `answer.evaluated` by reading the answers sees the score, without a
    call to the store per frame. The event and its outcome come from two topics in either
    order: whichever is second releases the frame. Rejected events are not streamed; a frame
    whose outcome does not come within `hold_s` (the store is slow) goes out anyway, as a `202`
    does for a write. Deltas of a chat reply are live-only and pass at once.
    """

    def __init__(
        self, live: LiveEvents, outcomes: OutcomeHub, *, hold_s: float, max_held: int = 10_000
    ) -> None:
        self._live = live
        self._outcomes = outcomes
        self._hold_s = hold_s
        self._max_held = max_held
        self._held: OrderedDict[uuid.UUID, tuple[float, str, Event]] = OrderedDict()

    def watched(self, key: str) -> bool:
        """Whether a stream listens for `key`: the tails decode nothing else."""
        return self._live.watched(key)

    def event(self, key: str, event: Event) -> None:
        """A live event from the tail."""
        if not self._live.watched(key):
            return  # nobody streams this aggregate: nothing to hold
        if event.type == "chat.reply.delta":
            self._live.publish(key, event)
        elif (outcome := self._outcomes.recent(event.event_id)) is not None:
            self._release(key, event, outcome)
        else:
            self._held[event.event_id] = (time.monotonic() + self._hold_s, key, event)
            if len(self._held) > self._max_held:
                _, (_, old_key, old_event) = self._held.popitem(last=False)
                self._live.publish(old_key, old_event)
        self.expire()

    def outcome(self, outcome: OutcomeRecorded) -> None:
        """An outcome from the tail (the hub has recorded it already)."""
        held = self._held.pop(outcome.subject_event_id, None)
        if held is not None:
            self._release(held[1], held[2], outcome)

    def expire(self) -> None:
        """Send the frames held past their deadline (called on every event and periodically)."""
        now = time.monotonic()
        while self._held:
            event_id, (deadline, key, event) = next(iter(self._held.items()))
            if deadline > now:
                return
            del self._held[event_id]
            self._live.publish(key, event)

    def _release(self, key: str, event: Event, outcome: OutcomeRecorded) -> None:
        if outcome.outcome != "rejected":
            self._live.publish(key, event)

    @property
    def held(self) -> int:
        """Frames waiting for their outcome (for tests and metrics)."""
        return len(self._held)
