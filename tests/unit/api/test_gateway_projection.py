"""The gateway's accept path: validated from its projection, with no call to the store.

The projection follows the store's outcome events; a miss reads through once, and a decision
that would refuse a request is confirmed against the store first, since a cached state may be
stale. What the projection lets through but the store refuses comes back as the outcome.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from interview_shared.domain import InterviewStatus
from interview_shared.events import (
    InterviewState,
    InterviewStatusChanged,
    OutcomeRecorded,
)
from interview_shared.messaging import EventPublisher
from interview_store.memory import MemoryStore
from support import StoreReadSide
from test_gateway_http import API, candidate, error_of, in_progress, move, pipeline_over, question
from test_gateway_http import running_gateway as gateway


class CountingReadSide(StoreReadSide):
    """The in-process read side, counting every call the gateway makes to it."""

    def __init__(self, store: MemoryStore) -> None:
        super().__init__(store)
        self.calls: Counter[str] = Counter()

    def __getattribute__(self, name: str) -> Any:
        attribute = super().__getattribute__(name)
        if not name.startswith("_") and name not in {"store", "calls"} and callable(attribute):
            super().__getattribute__("calls")[name] += 1
        return attribute


async def test_the_accept_path_makes_no_call_to_the_store() -> None:
    read = CountingReadSide(MemoryStore())
    async with gateway(read=read, pipeline=pipeline_over(read)) as client:
        scheduled = await in_progress(client, questions=2)
        chat = await client.post(f"{API}/chat/sessions", json={"interview_id": scheduled["id"]})
        session = chat.json()["id"]
        read.calls.clear()

        for n in range(20):
            body = {"question_id": scheduled["question_ids"][n % 2], "text": f"Answer {n}"}
            answer = await client.post(f"{API}/interviews/{scheduled['id']}/answers", json=body)
            assert answer.status_code == 202, answer.text
            assert answer.json()["text"] == f"Answer {n}"
        posted = await client.post(
            f"{API}/chat/sessions/{session}/messages", json={"content": "Hello"}
        )
        assert posted.status_code == 202
        assert (await move(client, scheduled["id"], "COMPLETED")).status_code == 200

    assert read.calls == Counter(), read.calls


async def test_writes_are_answered_from_the_published_event_without_reading_back() -> None:
    read = CountingReadSide(MemoryStore())
    async with gateway(read=read, pipeline=pipeline_over(read)) as client:
        person = await candidate(client)
        asked = await question(client)
        assert read.calls == Counter(), read.calls  # nothing read back to answer the 201s
        stored = await read.store.get_candidate(uuid.UUID(person["id"]))
        assert stored is not None
        assert person == stored.model_dump(mode="json")
        assert asked["text"] == "What is a mutex?"


async def test_a_refusal_on_stale_state_is_confirmed_against_the_store() -> None:
    read = CountingReadSide(MemoryStore())
    async with gateway(read=read, pipeline=pipeline_over(read)) as client:
        person = await candidate(client)
        asked = await question(client)
        body = {"candidate_id": person["id"], "title": "Backend", "question_ids": [asked["id"]]}
        scheduled = (await client.post(f"{API}/interviews", json=body)).json()
        # Another gateway started it; this one has not seen the outcomes (a stale projection).
        for status in (InterviewStatus.READY, InterviewStatus.IN_PROGRESS):
            changed = InterviewStatusChanged(interview_id=scheduled["id"], status=status)
            await read.store.apply([changed])

        answer = await client.post(
            f"{API}/interviews/{scheduled['id']}/answers",
            json={"question_id": asked["id"], "text": "A lock."},
        )

    assert answer.status_code == 202, answer.text
    assert read.calls["get_interview"] == 1  # the one confirmation, not a call per request


async def test_an_outcome_from_elsewhere_updates_the_projection() -> None:
    read = StoreReadSide(MemoryStore())
    pipeline = pipeline_over(read)
    async with gateway(read=read, pipeline=pipeline) as client:
        scheduled = await in_progress(client)
        completed = InterviewStatusChanged(
            interview_id=scheduled["id"], status=InterviewStatus.COMPLETED
        )
        await read.store.apply([completed])
        # The outcome another gateway's request produced, as the store publishes it.
        await EventPublisher(pipeline.broker).publish(outcome_of(completed, scheduled))
        answer = await client.post(
            f"{API}/interviews/{scheduled['id']}/answers",
            json={"question_id": scheduled["question_ids"][0], "text": "Too late."},
        )

    assert answer.status_code == 409
    assert error_of(answer)["code"] == "interview_not_in_progress"


async def test_what_the_projection_lets_through_the_store_may_still_refuse() -> None:
    read = StoreReadSide(MemoryStore())
    pipeline = pipeline_over(read)
    async with gateway(read=read, pipeline=pipeline) as client:
        scheduled = await in_progress(client)
        # The store completed it, but no outcome reached this gateway: its projection says
        # IN_PROGRESS, so it lets CANCELLED through, and the store's outcome refuses it.
        completed = InterviewStatusChanged(
            interview_id=scheduled["id"], status=InterviewStatus.COMPLETED
        )
        await read.store.apply([completed])
        response = await move(client, scheduled["id"], "CANCELLED")

    assert response.status_code == 409
    assert error_of(response)["code"] == "invalid_transition"


def outcome_of(event: InterviewStatusChanged, interview: dict[str, Any]) -> OutcomeRecorded:
    at = datetime.now(UTC)
    return OutcomeRecorded(
        subject_event_id=event.event_id,
        subject_type=event.type,
        subject_key=event.key,
        outcome="applied",
        interview=InterviewState(
            interview_id=event.interview_id,
            candidate_id=interview["candidate_id"],
            title=interview["title"],
            question_ids=interview["question_ids"],
            status=event.status,
            created_at=at,
            updated_at=at,
        ),
    )
