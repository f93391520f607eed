"""Live events for SSE: one Kafka tail per gateway process, fanned out to HTTP streams by key.

Every gateway replica reads the live topics without a consumer group (a broadcast), from the
latest offset: SSE is about what happens from now on; history is served by the read API.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from interview_shared.events import Event
from interview_shared.logging import get_logger

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

    @property
    def subscribers(self) -> int:
        """How many streams are open (for metrics and tests)."""
        return sum(len(queues) for queues in self._queues.values())
