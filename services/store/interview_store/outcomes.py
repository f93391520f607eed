"""The store's outcome events: what it did with each command event, published on the log.

Writers (the gateway's read-your-writes), SSE frames and projections follow these events
instead of asking the store over HTTP. They are published after the batch's transaction
commits and before the consumer's offsets are committed, so an outcome is never announced for
something that is not durable, and a crash in between republishes it (outcome `duplicate`,
with the state as it is now) when the batch is redelivered.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from interview_shared.events import Event, InterviewState, OutcomeRecorded
from interview_shared.messaging import EventPublisher
from interview_shared.projections import interview_state
from interview_shared.read_models import ApplyResult

from interview_store.port import Store

# Deltas are live-only fragments of a reply the store does not keep, and a replay's progress
# reports come from the evaluator, not a client: nobody waits on their outcomes.
_NO_OUTCOME = frozenset({"chat.reply.delta", "replay.progressed", "replay.finished"})
_INTERVIEW_EVENTS = frozenset({"interview.created", "interview.status_changed"})


class OutcomeAnnouncer:
    """Builds and publishes one `store.outcome_recorded` per applied command event."""

    def __init__(self, publisher: EventPublisher) -> None:
        self._publisher = publisher
        self.enabled = True
        """Off while a memory store replays the log: those outcomes were announced before."""

    async def announce(
        self, store: Store, events: Sequence[Event], results: Sequence[ApplyResult]
    ) -> None:
        """Publish the outcomes of `events` (results in the same order); waits for the acks."""
        if not self.enabled:
            return
        pairs = [(e, r) for e, r in zip(events, results, strict=True) if e.type not in _NO_OUTCOME]
        states = await _interview_states(store, [event for event, _ in pairs])
        await self._publisher.publish_many(_outcome(e, r, states) for e, r in pairs)


def _outcome(
    event: Event, result: ApplyResult, states: dict[uuid.UUID, InterviewState]
) -> OutcomeRecorded:
    # A rejected status change carries the interview as it is too, which corrects a projection
    # that let the request through on stale state.
    interview_id = _interview_id(event)
    return OutcomeRecorded(
        subject_event_id=event.event_id,
        subject_type=event.type,
        subject_key=event.key,
        outcome=result.outcome.value,
        reason=result.reason,
        interview=states.get(interview_id) if interview_id else None,
        correlation_id=event.correlation_id,
    )


def _interview_id(event: Event) -> uuid.UUID | None:
    return getattr(event, "interview_id", None) if event.type in _INTERVIEW_EVENTS else None


async def _interview_states(
    store: Store, events: Sequence[Event]
) -> dict[uuid.UUID, InterviewState]:
    ids = list({interview_id for e in events if (interview_id := _interview_id(e)) is not None})
    if not ids:
        return {}
    return {row.id: interview_state(row) for row in await store.get_interviews(ids)}
