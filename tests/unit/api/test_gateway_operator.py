"""Changing a question's rubric (new answers judged with it) and asking for a replay."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from interview_shared.domain import Rubric
from interview_shared.events import (
    AnswerSubmitted,
    OutcomeRecorded,
    QuestionRubricChanged,
    ReplayFinished,
    ReplayRequested,
)
from interview_shared.messaging import EventPublisher
from interview_store.memory import MemoryStore
from support import StoreReadSide, bearer
from test_gateway_http import API, Gateway, error_of, in_progress, pipeline_over, question
from test_gateway_http import running_gateway as gateway

CRITERIA = [{"name": "accuracy", "weight": 2.0}]


@pytest.fixture
async def gw() -> AsyncIterator[Gateway]:
    """A gateway over an empty in-process store."""
    read = StoreReadSide(MemoryStore())
    pipeline = pipeline_over(read)
    async with gateway(read=read, pipeline=pipeline) as client:
        yield Gateway(client, pipeline, read.store)


async def _answer(client: Any, scheduled: dict[str, Any]) -> None:
    body = {"question_id": scheduled["question_ids"][0], "text": "A lock."}
    response = await client.post(f"{API}/interviews/{scheduled['id']}/answers", json=body)
    assert response.status_code == 202, response.text


async def test_a_new_rubric_gets_the_next_version_and_judges_new_answers(gw: Gateway) -> None:
    scheduled = await in_progress(gw.client)
    question_id = scheduled["question_ids"][0]
    await _answer(gw.client, scheduled)

    response = await gw.client.put(
        f"{API}/questions/{question_id}/rubric", json={"criteria": CRITERIA}
    )
    assert response.status_code == 200, response.text
    assert response.json()["rubric"]["version"] == "v2"
    assert response.json()["rubric"]["criteria"][0]["name"] == "accuracy"
    await _answer(gw.client, scheduled)

    [changed] = gw.pipeline.events(QuestionRubricChanged)
    assert changed.rubric.version == "v2"
    first, second = gw.pipeline.events(AnswerSubmitted)
    assert (first.question.rubric.version, second.question.rubric.version) == ("v1", "v2")
    stored = await gw.client.get(f"{API}/questions/{question_id}")
    assert stored.json()["rubric"] == response.json()["rubric"]


async def test_a_rubric_keeps_the_callers_version_but_never_the_active_one(gw: Gateway) -> None:
    asked = await question(gw.client)
    path = f"{API}/questions/{asked['id']}/rubric"

    named = await gw.client.put(path, json={"version": "2026-strict", "criteria": CRITERIA})
    again = await gw.client.put(path, json={"version": "2026-strict", "criteria": CRITERIA})

    assert named.json()["rubric"]["version"] == "2026-strict"
    assert again.status_code == 409
    assert error_of(again)["code"] == "rubric_version_unchanged"


async def test_a_rubric_for_an_unknown_question_or_without_criteria_is_refused(
    gw: Gateway,
) -> None:
    unknown = await gw.client.put(
        f"{API}/questions/{uuid.uuid4()}/rubric", json={"criteria": CRITERIA}
    )
    asked = await question(gw.client)
    empty = await gw.client.put(f"{API}/questions/{asked['id']}/rubric", json={"criteria": []})

    assert unknown.status_code == 404
    assert error_of(unknown)["code"] == "not_found"
    assert empty.status_code == 422


async def test_a_rubric_changed_elsewhere_judges_this_gateways_next_answers() -> None:
    read = StoreReadSide(MemoryStore())
    pipeline = pipeline_over(read)
    async with gateway(read=read, pipeline=pipeline) as client:
        scheduled = await in_progress(client)
        await _answer(client, scheduled)  # the projection now holds the v1 snapshot
        changed = QuestionRubricChanged(
            question_id=scheduled["question_ids"][0], rubric=Rubric(version="v9")
        )
        await read.store.apply([changed])
        # The outcome another gateway's request produced, as the store publishes it.
        await EventPublisher(pipeline.broker).publish(
            OutcomeRecorded(
                subject_event_id=changed.event_id,
                subject_type=changed.type,
                subject_key=changed.key,
                outcome="applied",
            )
        )
        await _answer(client, scheduled)

    versions = [e.question.rubric.version for e in pipeline.events(AnswerSubmitted)]
    assert versions == ["v1", "v9"]


# ---- replays ------------------------------------------------------------------------------


async def test_a_replay_is_requested_on_the_log_and_read_back_as_its_last_report(
    gw: Gateway,
) -> None:
    interview_id = str(uuid.uuid4())
    body = {
        "scope": {"since": "2026-10-01T00:00:00Z", "interview_ids": [interview_id]},
        "max_evaluations": 5,
        "max_cost_usd": 0.5,
        "dry_run": True,
    }

    response = await gw.client.post(f"{API}/replays", json=body)

    assert response.status_code == 202, response.text
    accepted = response.json()
    assert set(accepted) == {"id", "status"}
    assert accepted["status"] == "running"
    [requested] = gw.pipeline.events(ReplayRequested)
    assert str(requested.replay_id) == accepted["id"]
    assert [str(i) for i in requested.scope.interview_ids] == [interview_id]
    assert (requested.max_evaluations, requested.max_cost_usd, requested.dry_run) == (5, 0.5, True)
    running = await gw.client.get(f"{API}/replays/{accepted['id']}")
    assert running.json() == {
        "id": accepted["id"], "status": "running", "scanned": 0, "evaluated": 0, "skipped": 0,
        "cost_usd": 0.0, "org_id": "default",
    }  # fmt: skip
    assert requested.org_id == "default"  # the admin's organisation: only its answers
    await gw.store.apply(
        [ReplayFinished(replay_id=requested.replay_id, status="capped", scanned=7, evaluated=5)]
    )
    capped = await gw.client.get(f"{API}/replays/{accepted['id']}")
    assert (capped.json()["status"], capped.json()["evaluated"]) == ("capped", 5)
    hidden = await gw.client.get(f"{API}/replays/{accepted['id']}", headers=bearer(org="globex"))
    assert hidden.status_code == 404  # another organisation's admin


@pytest.mark.parametrize("role", ["interviewer", "candidate"])
async def test_only_an_admin_replays(gw: Gateway, role: str) -> None:
    who = bearer(role, candidate_id=uuid.uuid4() if role == "candidate" else None)
    response = await gw.client.post(f"{API}/replays", json={"scope": {}}, headers=who)
    assert response.status_code == 403
    assert gw.pipeline.events(ReplayRequested) == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"scope": {}, "max_evaluations": -1},
        {"scope": {"interview_ids": ["not-a-uuid"]}},
        {"scope": {}, "budget": 3},
    ],
)
async def test_a_bad_replay_request_is_refused(gw: Gateway, body: dict[str, Any]) -> None:
    response = await gw.client.post(f"{API}/replays", json=body)
    assert response.status_code == 422
    assert gw.pipeline.events(ReplayRequested) == []


async def test_an_unknown_replay_is_404(gw: Gateway) -> None:
    response = await gw.client.get(f"{API}/replays/{uuid.uuid4()}")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
