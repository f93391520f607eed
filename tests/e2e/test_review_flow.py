"""Human review through the API: a flagged evaluation is queued, a person's grade becomes the
answer's current evaluation, leaves the queue and changes the interview's report.

The four services as processes on real Kafka, once with the memory store and once with
PostgreSQL (see conftest).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from flows import evaluation_of, interview_in_progress
from support import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]


async def queued(api: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    """Every queued evaluation (following the cursor), oldest first."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = {"limit": 100, "sort": "created_at", **params}
        if cursor is not None:
            query["cursor"] = cursor
        page = await api.get("/reviews", params=query)
        assert page.status_code == 200, page.text
        items.extend(page.json()["items"])
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return items


async def report_of(api: httpx.AsyncClient, interview_id: str) -> dict[str, Any] | None:
    response = await api.get(f"/interviews/{interview_id}/report")
    return response.json() if response.status_code == 200 else None


async def test_a_graded_flagged_answer_becomes_current_leaves_the_queue_and_changes_the_report(
    api: httpx.AsyncClient,
) -> None:
    interview_id, question_id = await interview_in_progress(api)
    answered = await api.post(
        f"/interviews/{interview_id}/answers",
        json={"question_id": question_id, "text": "I don't know"},
    )
    assert answered.status_code in (201, 202), answered.text
    verdict = await evaluation_of(api, interview_id)
    assert verdict["outcome"] == "UNSCORABLE"
    assert verdict["review_reasons"] == ["unscorable"]
    completed = await api.patch(f"/interviews/{interview_id}", json={"status": "COMPLETED"})
    assert completed.status_code == 200, completed.text

    async def reported() -> bool:
        return await report_of(api, interview_id) is not None

    await eventually(reported, timeout_s=60, interval_s=0.3)
    before = await report_of(api, interview_id)
    assert before is not None
    assert before["overall_score"] is None  # an unscorable answer counts in no average
    assert verdict["id"] in [e["id"] for e in await queued(api, reason="unscorable")]

    graded = await api.post(
        f"/evaluations/{verdict['id']}/reviews",
        json={"score": 35, "feedback": "Honest, but no answer."},
    )

    assert graded.status_code == 201, graded.text
    grade = graded.json()
    assert (grade["lineage"]["scorer"], grade["score"]) == ("human", 35.0)
    assert grade["review"]["reviewed_evaluation_id"] == verdict["id"]
    assert grade["review"]["reasons"] == ["unscorable"]
    # Read-your-writes: right after the 201 the answer's current evaluation is the grade...
    answer = (await api.get(f"/answers/{verdict['answer_id']}")).json()
    assert answer["evaluation"]["id"] == grade["id"]
    # ...and the answer is out of the queue.
    assert verdict["id"] not in [e["id"] for e in await queued(api)]

    async def report_follows() -> bool:
        report = await report_of(api, interview_id)
        return report is not None and report["overall_score"] == 35.0

    await eventually(report_follows, timeout_s=60, interval_s=0.3)
    log = (await api.get(f"/interviews/{interview_id}/log")).json()
    assert [entry["score"] for entry in log] == [35.0]


async def test_reviewing_an_unknown_evaluation_or_with_a_bad_score_is_refused(
    api: httpx.AsyncClient,
) -> None:
    unknown = await api.post(
        "/evaluations/00000000-0000-4000-8000-000000000000/reviews", json={"score": 50}
    )
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "not_found")
    interview_id, question_id = await interview_in_progress(api)
    await api.post(
        f"/interviews/{interview_id}/answers", json={"question_id": question_id, "text": "idk"}
    )
    verdict = await evaluation_of(api, interview_id)
    bad = await api.post(f"/evaluations/{verdict['id']}/reviews", json={"score": 150})
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "validation_error")
