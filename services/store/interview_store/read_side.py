"""The store's signal that a batch of events has been applied.

Nothing waits on it since outcomes travel on `interview.outcomes.v1` (the long-polling
`/internal/v1/events/{id}` route is gone); the consumer still signals it after each batch.
"""

from __future__ import annotations

import asyncio


class AppliedNotifier:
    """Wakes whoever waits on a condition whenever a batch has been applied (no one, now)."""

    def __init__(self) -> None:
        self._changed = asyncio.Condition()

    async def batch_applied(self) -> None:
        """Call after each committed batch."""
        async with self._changed:
            self._changed.notify_all()
