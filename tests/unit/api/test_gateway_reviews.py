"""The review queue and human grades through the gateway (in-memory store and broker)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from interview_shared import topics
from interview_shared.events import AnswerEvaluated, AnswerSubmitted, Lineage
from interview_store.memory import MemoryStore
from support import StoreReadSide, bearer
from test_gateway_http import API, Gateway, error_of, in_progress, pipeline_over
from test_gateway_http import running_gateway as gateway


@pytest.fixture
async def gw() -> AsyncIterator[Gateway]:
    """A gateway over an empty in-process store."""
    read = StoreReadSide(MemoryStore())
    pipeline = pipeline_over(read)
    async with gateway(read=read, pipeline=pipeline) as client:
        yield Gateway(client, pipeline, read.store)


async def flagged_answer(gw: Gateway, *flags: str, score: float | None = 48.0) -> AnswerEvaluated:
    """An answer through the gateway, and a flagged machine verdict on it in the store."""
    scheduled = await in_progress(gw.client)
    body = {"question_id": scheduled["question_ids"][0], "text": "A lock, I think."}
    response = await gw.client.post(f"{API}/interviews/{scheduled['id']}/answers", json=body)
    assert response.status_code == 202, response.text
    submitted = gw.pipeline.events(AnswerSubmitted)[-1]
    verdict = AnswerEvaluated(
        answer_id=submitted.answer_id,
        interview_id=submitted.interview_id,
        question_id=submitted.question_id,
        outcome="SCORED" if score is not None else "UNSCORABLE",
        score=score,
        flags=flags,
        confidence=0.35,
        lineage=Lineage(
            scorer="llm", scorer_version="1", rubric_version="v1", evaluator_version="0"
        ),
    )
    await gw.store.apply([verdict])
    return verdict


async def queue(gw: Gateway, **params: Any) -> list[str]:
    response = await gw.client.get(f"{API}/reviews", params=params)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def test_a_grade_becomes_current_and_leaves_the_queue(gw: Gateway) -> None:
    verdict = await flagged_answer(gw, "judges_disagree", "low_confidence", "needs_human_review")
    listed = (await gw.client.get(f"{API}/reviews")).json()["items"]
    assert [(e["id"], e["review_reasons"]) for e in listed] == [
        (str(verdict.evaluation_id), ["judges_disagree", "low_confidence"])
    ]

    response = await gw.client.post(
        f"{API}/evaluations/{verdict.evaluation_id}/reviews",
        json={"score": 81.5, "feedback": "Correct, if terse."},
        headers=bearer("interviewer", sub="grader-7"),  # staff grade; the token names who
    )

    assert response.status_code == 201, response.text
    grade = response.json()
    assert grade["score"] == 81.5
    assert grade["feedback"] == "Correct, if terse."
    assert grade["lineage"]["scorer"] == "human"
    assert grade["lineage"]["rubric_version"] == "v1"
    assert grade["review"] == {
        "reviewed_evaluation_id": str(verdict.evaluation_id),
        "reviewer": "grader-7",
        "reasons": ["judges_disagree", "low_confidence"],
    }
    answer = (await gw.client.get(f"{API}/answers/{verdict.answer_id}")).json()
    assert answer["evaluation"] == grade  # read-your-writes: the 201 body is what a read shows
    assert await queue(gw) == []
    published = gw.pipeline.published[-1]
    assert published.topic == topics.EVALUATIONS.name
    assert published.key == str(verdict.interview_id).encode()  # ordered with its verdicts


async def test_the_queue_filters_by_reason_and_pages(gw: Gateway) -> None:
    injection = await flagged_answer(
        gw, "possible_prompt_injection", "needs_human_review", score=None
    )
    mid = await flagged_answer(gw, "mid_band", "needs_human_review")
    await flagged_answer(gw)  # not flagged: not queued

    assert await queue(gw, reason="injection_suspected") == [str(injection.evaluation_id)]
    assert await queue(gw, reason="mid_band") == [str(mid.evaluation_id)]
    first = (await gw.client.get(f"{API}/reviews", params={"limit": 1})).json()
    assert [e["id"] for e in first["items"]] == [str(mid.evaluation_id)]  # newest first
    rest = await queue(gw, limit=1, cursor=first["next_cursor"])
    assert rest == [str(injection.evaluation_id)]
    bad = await gw.client.get(f"{API}/reviews", params={"reason": "bored"})
    assert (bad.status_code, error_of(bad)["code"]) == (422, "validation_error")
    unsortable = await gw.client.get(f"{API}/reviews", params={"sort": "score"})
    assert (unsortable.status_code, error_of(unsortable)["code"]) == (422, "validation_error")


async def test_reviews_stay_in_their_organisation_and_candidates_never_grade(gw: Gateway) -> None:
    verdict = await flagged_answer(gw, "mid_band", "needs_human_review")
    path = f"{API}/evaluations/{verdict.evaluation_id}/reviews"
    other_org = bearer(org="globex")
    assert (await gw.client.get(f"{API}/reviews", headers=other_org)).json()["items"] == []
    hidden = await gw.client.post(path, json={"score": 90}, headers=other_org)
    assert (hidden.status_code, error_of(hidden)["code"]) == (404, "not_found")
    me = bearer("candidate", candidate_id=uuid.uuid4())
    assert (await gw.client.get(f"{API}/reviews", headers=me)).status_code == 403
    assert (await gw.client.post(path, json={"score": 100}, headers=me)).status_code == 403
    assert await queue(gw) == [str(verdict.evaluation_id)]  # nothing was graded


async def test_an_unknown_evaluation_is_404_and_a_bad_score_422(gw: Gateway) -> None:
    verdict = await flagged_answer(gw, "mid_band", "needs_human_review")
    unknown = await gw.client.post(f"{API}/evaluations/{uuid.uuid4()}/reviews", json={"score": 5})
    assert (unknown.status_code, error_of(unknown)["code"]) == (404, "not_found")
    path = f"{API}/evaluations/{verdict.evaluation_id}/reviews"
    for body in ({"score": 101}, {"score": -1}, {"score": "high"}, {}, {"score": 5, "x": 1}):
        response = await gw.client.post(path, json=body)
        assert (response.status_code, error_of(response)["code"]) == (422, "validation_error")
    assert len(gw.pipeline.events(AnswerEvaluated)) == 0  # nothing published for a refusal


async def test_a_slow_store_gives_202_with_the_new_evaluations_id(gw: Gateway) -> None:
    verdict = await flagged_answer(gw, "mid_band", "needs_human_review")
    gw.pipeline.apply = False

    response = await gw.client.post(
        f"{API}/evaluations/{verdict.evaluation_id}/reviews", json={"score": 30}
    )

    assert response.status_code == 202, response.text
    [grade] = gw.pipeline.events(AnswerEvaluated)
    assert response.json()["id"] == str(grade.evaluation_id)
    assert response.json()["event_id"] == str(grade.event_id)
