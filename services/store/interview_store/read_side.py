"""Read-your-writes support: the store tells waiters when a batch of events has been applied."""

from __future__ import annotations

import asyncio
import time
import uuid

from interview_shared.read_models import ApplyResult

from interview_store.port import Store

# A replica that did not apply the event itself only learns of it from the database, so waiters
# also re-check at this interval instead of relying on the in-process notification alone.
_RECHECK_S = 0.05


class AppliedNotifier:
    """Wakes everyone waiting for an event outcome whenever a batch has been applied."""

    def __init__(self) -> None:
        self._changed = asyncio.Condition()

    async def batch_applied(self) -> None:
        """Call after each committed batch."""
        async with self._changed:
            self._changed.notify_all()

    async def wait_for_outcome(
        self, store: Store, event_id: uuid.UUID, *, wait_s: float
    ) -> ApplyResult | None:
        """The event's outcome, waiting up to `wait_s` for it to be applied."""
        deadline = time.monotonic() + wait_s
        while (outcome := await store.event_outcome(event_id)) is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            async with self._changed:
                try:
                    await asyncio.wait_for(self._changed.wait(), min(remaining, _RECHECK_S))
                except TimeoutError:
                    pass
        return outcome
