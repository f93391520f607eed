"""Replying waits until the chat topics have been replayed into the session book.

At start-up the service reads the chat topics from the beginning (no consumer group) to rebuild
every conversation's state; a reply given before that replay reached the end offsets seen at
start-up could ask a question twice.
"""

from __future__ import annotations

import asyncio
from typing import Any

from interview_shared.catchup import CatchUp


class ReplayGate:
    """Open once the replay has reached its targets (at once when there is nothing to read)."""

    def __init__(self) -> None:
        self._catch_up = CatchUp()
        self._open = asyncio.Event()
        self._open.set()

    def target(self, targets: dict[tuple[str, int], int]) -> None:
        """Close the gate until every partition is read up to `targets` (end offsets)."""
        self._catch_up = CatchUp(targets)
        self._update()

    def seen(self, record: Any) -> None:
        """A record the replay has folded."""
        if not self._open.is_set():
            self._catch_up.seen([record])
            self._update()

    def _update(self) -> None:
        if self._catch_up.done:
            self._open.set()
        else:
            self._open.clear()

    @property
    def done(self) -> bool:
        """Whether the book is complete up to start-up."""
        return self._open.is_set()

    async def wait(self) -> None:
        """Return once the replay is done."""
        await self._open.wait()
