"""Re-scoring through the API: PUT a new rubric, POST a replay, follow it at GET /replays/{id}.

The four services as processes on real Kafka, once with the memory store and once with
PostgreSQL (see conftest). Each test uses its own interview, so the tests share one system.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from flows import evaluation_of, interview_in_progress, submit_answer
from support import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]

CRITERIA = [
    {"name": "accuracy", "description": "States mutual exclusion", "weight": 0.7},
    {"name": "clarity", "description": "Says it in a sentence", "weight": 0.3},
]
FINAL = {"completed", "capped", "failed"}


async def answered_interview(api: httpx.AsyncClient, *, answers: int) -> tuple[str, str]:
    """An interview with `answers` scored answers to its one question: (interview, question)."""
    interview_id, question_id = await interview_in_progress(api)
    for _ in range(answers):
        await submit_answer(api, interview_id, question_id)
    await evaluation_of(api, interview_id)

    async def all_scored() -> bool:
        return len(await evaluations(api, interview_id)) == answers

    await eventually(all_scored, timeout_s=60, interval_s=0.3)
    return interview_id, question_id


async def evaluations(api: httpx.AsyncClient, interview_id: str) -> list[dict[str, Any]]:
    """Every evaluation of the interview's answers (history included)."""
    listed = await api.get("/evaluations", params={"interview_id": interview_id, "limit": 100})
    assert listed.status_code == 200, listed.text
    items: list[dict[str, Any]] = listed.json()["items"]
    return items


async def new_rubric(api: httpx.AsyncClient, question_id: str) -> str:
    """PUT a new rubric on the question; its version."""
    changed = await api.put(f"/questions/{question_id}/rubric", json={"criteria": CRITERIA})
    assert changed.status_code == 200, changed.text
    version: str = changed.json()["rubric"]["version"]
    return version


async def replay(api: httpx.AsyncClient, body: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """POST a replay and follow it to its end: (id, every distinct state GET showed, in order)."""
    accepted = await api.post("/replays", json=body)
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["status"] == "running"
    replay_id: str = accepted.json()["id"]
    seen: list[dict[str, Any]] = []

    async def finished() -> bool:
        got = await api.get(f"/replays/{replay_id}")
        assert got.status_code == 200, got.text  # found right after the 202: read-your-writes
        if not seen or seen[-1] != got.json():
            seen.append(got.json())
        return got.json()["status"] in FINAL

    await eventually(finished, timeout_s=90, interval_s=0.2)
    return replay_id, seen


async def test_a_new_rubric_is_applied_by_a_replay_once_and_becomes_current(
    api: httpx.AsyncClient,
) -> None:
    interview_id, question_id = await answered_interview(api, answers=2)
    completed = await api.patch(f"/interviews/{interview_id}", json={"status": "COMPLETED"})
    assert completed.status_code == 200, completed.text

    async def reported() -> bool:
        return (await api.get(f"/interviews/{interview_id}/report")).status_code == 200

    await eventually(reported, timeout_s=60, interval_s=0.3)
    version = await new_rubric(api, question_id)
    scope = {"scope": {"interview_ids": [interview_id]}}

    replay_id, seen = await replay(api, scope)

    assert seen[0]["status"] == "running"
    last = seen[-1]
    assert (last["id"], last["status"], last["evaluated"], last["skipped"]) == (
        replay_id, "completed", 2, 0,
    )  # fmt: skip
    assert last["scanned"] >= 2  # every answer read from the log, in scope or not
    listed = await api.get(f"/interviews/{interview_id}/answers")
    current = [item["evaluation"]["lineage"]["rubric_version"] for item in listed.json()["items"]]
    assert current == [version, version]

    async def report_rescored() -> bool:
        report = (await api.get(f"/interviews/{interview_id}/report")).json()
        return bool(report["rubric_versions"] == [version])

    await eventually(report_rescored, timeout_s=60, interval_s=0.3)

    _, again = await replay(api, scope)

    assert (again[-1]["status"], again[-1]["evaluated"], again[-1]["skipped"]) == (
        "completed", 0, 2,
    )  # fmt: skip
    by_version: dict[tuple[str, str], int] = {}
    for evaluation in await evaluations(api, interview_id):
        key = (evaluation["answer_id"], evaluation["lineage"]["rubric_version"])
        by_version[key] = by_version.get(key, 0) + 1
    assert sorted(by_version.values()) == [1, 1, 1, 1]  # 2 answers x (v1, new version), once each


async def test_a_capped_replay_stops_at_its_cap_and_a_dry_run_only_counts(
    api: httpx.AsyncClient,
) -> None:
    interview_id, question_id = await answered_interview(api, answers=3)
    await new_rubric(api, question_id)
    scope = {"interview_ids": [interview_id]}

    _, dry = await replay(api, {"scope": scope, "dry_run": True})
    assert (dry[-1]["status"], dry[-1]["evaluated"], dry[-1]["skipped"]) == ("completed", 3, 0)
    assert len(await evaluations(api, interview_id)) == 3  # nothing judged

    _, capped = await replay(api, {"scope": scope, "max_evaluations": 2})
    assert (capped[-1]["status"], capped[-1]["evaluated"]) == ("capped", 2)

    async def stored() -> bool:
        return len(await evaluations(api, interview_id)) == 5

    await eventually(stored, timeout_s=30, interval_s=0.3)
    _, rest = await replay(api, {"scope": scope})
    assert (rest[-1]["status"], rest[-1]["evaluated"], rest[-1]["skipped"]) == ("completed", 1, 2)


async def test_a_replay_for_a_scorer_this_evaluator_does_not_run_fails(
    api: httpx.AsyncClient,
) -> None:
    _, seen = await replay(api, {"scope": {}, "scorer": "no-such-scorer", "dry_run": True})
    assert seen[-1]["status"] == "failed"
