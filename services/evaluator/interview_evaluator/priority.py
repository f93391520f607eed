"""Live answers before replayed ones: a replay judges only while no live answer is in hand.

A replay runs in the evaluator's process, next to its live consumer, and scoring is CPU work:
judging replayed answers while live ones wait would make candidates wait for last month's
re-scoring. So every live verdict holds `live()`, and a replay awaits `turn()` before each
answer it judges: a live answer waits for at most the one replayed answer already in hand.
Under sustained live load a replay pauses; it goes on in the gaps.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class LiveFirst:
    """Counts live work in flight; replays wait for it to be none."""

    def __init__(self) -> None:
        self._live = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @asynccontextmanager
    async def live(self) -> AsyncIterator[None]:
        """Hold while judging a live answer."""
        self._live += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._live -= 1
            if self._live == 0:
                self._idle.set()

    async def turn(self) -> None:
        """Return once no live answer is being judged (at once when none is)."""
        await self._idle.wait()

    @property
    def busy(self) -> bool:
        """Whether a live answer is being judged now."""
        return self._live > 0
