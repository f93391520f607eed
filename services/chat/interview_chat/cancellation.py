"""Stopping a generation when the client that waits for it goes away.

The gateway publishes `chat.reply.cancelled` when an SSE client disconnects; every chat
replica tails it (no consumer group), and the one generating that reply stops it. A cancel
that arrives before its generation started is remembered for a while.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable
from typing import TypeVar

from cachetools import LRUCache

T = TypeVar("T")


class Cancellations:
    """Generations in flight by message id, and cancels seen before their generation."""

    def __init__(self, *, remembered: int = 10_000) -> None:
        self._running: dict[uuid.UUID, asyncio.Event] = {}
        self._early: LRUCache[uuid.UUID, bool] = LRUCache(remembered)

    def cancel(self, message_id: uuid.UUID) -> None:
        """Stop the reply to `message_id` (now, or as soon as it starts)."""
        running = self._running.get(message_id)
        if running is not None:
            running.set()
        else:
            self._early[message_id] = True

    async def run(self, message_id: uuid.UUID, work: Awaitable[T]) -> tuple[bool, T | None]:
        """Run `work` unless cancelled: (False, its result), or (True, None) once cancelled."""
        stop = asyncio.Event()
        if self._early.pop(message_id, False):
            stop.set()
        self._running[message_id] = stop
        task = asyncio.ensure_future(work)
        waiter = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            del self._running[message_id]
            waiter.cancel()
        if task.done():
            return False, task.result()
        task.cancel()  # closes the model's stream, which tells the endpoint to stop
        await asyncio.wait([task])
        return True, None
