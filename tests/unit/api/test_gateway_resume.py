"""SSE ids and resuming: a reconnecting client gets what it missed, once, in order."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from interview_api.resume import ListedMissedEvents, Position, sse_id
from interview_shared.domain import InterviewStatus
from interview_shared.events import InterviewStatusChanged

T0 = datetime(2026, 12, 1, 12, tzinfo=UTC)


def changed(interview_id: uuid.UUID, seconds: float) -> InterviewStatusChanged:
    return InterviewStatusChanged(
        interview_id=interview_id,
        status=InterviewStatus.READY,
        occurred_at=T0 + timedelta(seconds=seconds),
    )


def test_an_sse_id_names_a_position_it_parses_back_to() -> None:
    event = changed(uuid.uuid4(), 1.5)
    position = Position.parse(sse_id(event))
    assert position == Position(int((T0.timestamp() + 1.5) * 1000), event.event_id)
    assert not position.before(event)  # the event itself was seen


@pytest.mark.parametrize("raw", ["", "abc", "12-not-a-uuid", f"-{uuid.uuid4()}", "1" * 16])
def test_a_foreign_last_event_id_is_ignored(raw: str) -> None:
    assert Position.parse(raw) is None


async def test_what_followed_the_last_seen_event_comes_back_in_order() -> None:
    mine, other = uuid.uuid4(), uuid.uuid4()
    log = ListedMissedEvents()
    events = [changed(mine, s) for s in (1, 2, 3, 4)]
    log.log.extend((str(mine), e) for e in reversed(events))
    log.log.append((str(other), changed(other, 5)))
    seen = Position.parse(sse_id(events[1]))
    assert seen is not None
    assert await log.since(str(mine), seen) == events[2:]
