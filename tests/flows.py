"""The main flow over the gateway's HTTP API, for operations tests (restarts, traces)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from support import eventually


async def _created(api: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post(path, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def interview_in_progress(
    api: httpx.AsyncClient, *, candidate: dict[str, str] | None = None
) -> tuple[str, str]:
    """A candidate (`candidate`'s name and e-mail, else a new one), a question and an
    interview about it, IN_PROGRESS: (interview, question)."""
    person = candidate or {"name": "Ops Test", "email": f"ops-{uuid.uuid4().hex}@example.com"}
    registered = await _created(api, "/candidates", person)
    question = await _created(
        api,
        "/questions",
        {
            "text": "What is a mutex?",
            "type": "technical",
            "difficulty": "easy",
            "skills": ["concurrency"],
            "reference_answer": "A lock that lets one thread at a time into a critical section.",
            "key_points": ["mutual exclusion", "one thread at a time"],
        },
    )
    interview = await _created(
        api,
        "/interviews",
        {"candidate_id": registered["id"], "title": "Ops", "question_ids": [question["id"]]},
    )
    for status in ("READY", "IN_PROGRESS"):
        moved = await api.patch(f"/interviews/{interview['id']}", json={"status": status})
        assert moved.status_code == 200, moved.text
    return interview["id"], question["id"]


async def submit_answer(api: httpx.AsyncClient, interview_id: str, question_id: str) -> str:
    """Submit a good answer; its id."""
    answer = await api.post(
        f"/interviews/{interview_id}/answers",
        json={
            "question_id": question_id,
            "text": "A mutex gives mutual exclusion: one thread at a time holds the lock.",
        },
    )
    assert answer.status_code == 202, answer.text
    answer_id: str = answer.json()["id"]
    return answer_id


async def evaluation_of(
    api: httpx.AsyncClient, interview_id: str, *, timeout_s: float = 60
) -> dict[str, Any]:
    """The interview's first answer's evaluation, once the evaluator has scored it."""
    found: dict[str, Any] = {}

    async def scored() -> bool:
        listed = await api.get(f"/interviews/{interview_id}/answers")
        items = listed.json().get("items", []) if listed.status_code == 200 else []
        if items and items[0].get("evaluation"):
            found.update(items[0]["evaluation"])
        return bool(found)

    await eventually(scored, timeout_s=timeout_s, interval_s=0.3)
    return found


async def score_an_answer(api: httpx.AsyncClient) -> tuple[str, dict[str, Any]]:
    """The whole flow for one answer: (answer id, its evaluation)."""
    interview_id, question_id = await interview_in_progress(api)
    answer_id = await submit_answer(api, interview_id, question_id)
    return answer_id, await evaluation_of(api, interview_id)
