"""Gateway security against the services as processes (PostgreSQL store): tokens, organisations,
the candidate role, limits, idempotency, a resumed SSE stream and the closed internal API."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
from e2e_support import gateway_url, running_system, system_env
from interview_localinfra.system import ServiceGroup
from interview_shared.auth import SERVICE_KEY_HEADER
from support import TEST_SERVICE_KEY, bearer, eventually, token

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.postgres]
RATE_LIMIT = 60


@pytest.fixture(scope="module")
async def secured(kafka_bootstrap: str, postgres_dsn: str) -> AsyncIterator[ServiceGroup]:
    env = system_env(
        kafka_bootstrap, {"MAX_BODY_BYTES": "4096", "RATE_LIMIT_PER_MINUTE": str(RATE_LIMIT)}
    )
    async with running_system(env, "postgres", postgres_dsn) as group:
        yield group


@pytest.fixture
async def api(secured: ServiceGroup) -> AsyncIterator[httpx.AsyncClient]:
    """An admin of the default organisation, with a subject of its own (its own rate limit)."""
    async with httpx.AsyncClient(
        base_url=gateway_url(secured), timeout=30, headers=bearer()
    ) as client:
        yield client


async def _created(api: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post(path, json=body)
    assert response.status_code == 201, response.text
    resource: dict[str, Any] = response.json()
    return resource


async def _interview(api: httpx.AsyncClient, *, start: bool = True) -> dict[str, Any]:
    person = await _created(
        api, "/candidates", {"name": "Ada", "email": f"{uuid.uuid4().hex}@example.com"}
    )
    asked = await _created(
        api, "/questions", {"text": "What is a mutex?", "reference_answer": "A lock."}
    )
    body = {"candidate_id": person["id"], "title": "Backend", "question_ids": [asked["id"]]}
    scheduled = await _created(api, "/interviews", body)
    for status in ("READY", "IN_PROGRESS") if start else ():
        moved = await api.patch(f"/interviews/{scheduled['id']}", json={"status": status})
        assert moved.status_code == 200, moved.text
    return scheduled


@pytest.mark.parametrize(
    "credential",
    [
        None,
        token(secret="a-forged-secret-of-enough-length-000"),
        jwt.encode({"sub": "x", "org": "default", "role": "admin"}, "", algorithm="none"),
        token(ttl_s=-5),
    ],
    ids=["missing", "forged", "alg-none", "expired"],
)
async def test_a_bad_token_is_a_401(secured: ServiceGroup, credential: str | None) -> None:
    headers = {"Authorization": f"Bearer {credential}"} if credential else {}
    async with httpx.AsyncClient(base_url=gateway_url(secured), timeout=10) as client:
        response = await client.get("/interviews", headers=headers)
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_the_internal_api_wants_a_service_key(secured: ServiceGroup) -> None:
    url = f"http://127.0.0.1:{secured.env['STORE_PORT']}/internal/v1/candidates"
    async with httpx.AsyncClient(timeout=10) as client:
        anonymous = await client.get(url)
        wrong = await client.get(url, headers={SERVICE_KEY_HEADER: "guess"})
        user_token = await client.get(url, headers=bearer())
        service = await client.get(url, headers={SERVICE_KEY_HEADER: TEST_SERVICE_KEY})
    assert [anonymous.status_code, wrong.status_code, user_token.status_code] == [401] * 3
    assert service.status_code == 200


async def test_another_organisation_sees_nothing(api: httpx.AsyncClient) -> None:
    scheduled = await _interview(api)
    q = scheduled["question_ids"][0]
    answer = await api.post(
        f"/interviews/{scheduled['id']}/answers", json={"question_id": q, "text": "A lock."}
    )
    chat = await _created(api, "/chat/sessions", {"interview_id": scheduled["id"]})
    i, c = scheduled["id"], scheduled["candidate_id"]
    routes: list[tuple[str, str, Any]] = [
        ("GET", f"/candidates/{c}", None),
        ("GET", f"/candidates/{c}/cv-analyses", None),
        ("POST", f"/candidates/{c}/cv-analyses", {"summary": "x"}),
        ("GET", f"/questions/{q}", None),
        ("GET", f"/interviews/{i}", None),
        ("PATCH", f"/interviews/{i}", {"status": "COMPLETED"}),
        ("GET", f"/interviews/{i}/log", None),
        ("GET", f"/interviews/{i}/report", None),
        ("GET", f"/interviews/{i}/answers", None),
        ("POST", f"/interviews/{i}/answers", {"question_id": q, "text": "x"}),
        ("GET", f"/interviews/{i}/events", None),
        ("GET", f"/answers/{answer.json()['id']}", None),
        ("GET", f"/chat/sessions/{chat['id']}/messages", None),
        ("POST", f"/chat/sessions/{chat['id']}/messages", {"content": "Hi"}),
        ("GET", f"/chat/sessions/{chat['id']}", None),
        ("POST", f"/chat/sessions/{chat['id']}/close", None),
        ("GET", f"/candidates/{c}/suggested-questions", None),
        ("PUT", f"/questions/{q}/rubric", (await api.get(f"/questions/{q}")).json()["rubric"]),
        ("GET", f"/replays/{await _replay_seen_by_its_owner(api, i)}", None),
    ]
    other = bearer(org="globex")
    for method, path, body in routes:
        response = await api.request(method, path, json=body, headers=other)
        assert response.status_code == 404, (method, path, response.text)
    cv = await api.post(
        f"/candidates/{c}/cv", files={"file": ("cv.txt", b"Python, Kafka")}, headers=other
    )
    assert cv.status_code == 404, cv.text
    for listing in ("/candidates", "/questions", "/interviews", "/evaluations"):
        assert (await api.get(listing, headers=other)).json()["items"] == [], listing


async def _replay_seen_by_its_owner(api: httpx.AsyncClient, interview_id: str) -> str:
    """A dry-run replay of one interview, once its owner can read it (the 404 must not be a
    replay the store has not applied yet)."""
    accepted = await api.post(
        "/replays", json={"scope": {"interview_ids": [interview_id]}, "dry_run": True}
    )
    assert accepted.status_code == 202, accepted.text
    replay_id: str = accepted.json()["id"]

    async def readable() -> bool:
        return (await api.get(f"/replays/{replay_id}")).status_code == 200

    await eventually(readable, timeout_s=30, interval_s=0.5)
    return replay_id


async def test_a_candidate_reaches_its_interview_never_a_score(api: httpx.AsyncClient) -> None:
    scheduled = await _interview(api)
    me = bearer("candidate", candidate_id=scheduled["candidate_id"])
    question_id = scheduled["question_ids"][0]
    answered = await api.post(
        f"/interviews/{scheduled['id']}/answers",
        json={"question_id": question_id, "text": "A lock: one holder at a time."},
        headers=me,
    )
    assert answered.status_code == 202, answered.text
    answer_path = f"/answers/{answered.json()['id']}"

    async def scored() -> bool:
        return (await api.get(answer_path)).json()["evaluation"] is not None

    await eventually(scored, timeout_s=60)
    assert (await api.get(answer_path, headers=me)).json()["evaluation"] is None
    assert (await api.get(f"/interviews/{scheduled['id']}", headers=me)).status_code == 200
    log = (await api.get(f"/interviews/{scheduled['id']}/log", headers=me)).json()
    assert [entry["score"] for entry in log] == [None]
    for method, path, body in [
        ("GET", "/evaluations", None),
        ("GET", f"/interviews/{scheduled['id']}/report", None),
        ("GET", "/candidates", None),
        ("POST", "/questions", {"text": "Mine?"}),
        ("POST", "/interviews", {"candidate_id": scheduled["candidate_id"], "title": "T",
                                 "question_ids": [question_id]}),
    ]:  # fmt: skip
        response = await api.request(method, path, json=body, headers=me)
        assert response.status_code == 403, (method, path, response.text)


async def test_a_large_body_is_a_413(api: httpx.AsyncClient) -> None:
    response = await api.post("/questions", json={"text": "x" * 5000})
    assert response.status_code == 413, response.text


async def test_past_the_rate_limit_is_a_429_with_retry_after(api: httpx.AsyncClient) -> None:
    responses = await asyncio.gather(*(api.get("/interviews") for _ in range(RATE_LIMIT + 1)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * RATE_LIMIT + [429]
    limited = next(r for r in responses if r.status_code == 429)
    assert int(limited.headers["retry-after"]) >= 1


async def test_an_idempotent_repeat_creates_nothing(api: httpx.AsyncClient) -> None:
    body = {"name": "Ada", "email": f"{uuid.uuid4().hex}@example.com"}
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = await api.post("/candidates", json=body, headers=key)
    again = await api.post("/candidates", json=body, headers=key)
    other = await api.post("/candidates", json={**body, "name": "Eve"}, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert other.status_code == 422
    everyone = (await api.get("/candidates", params={"limit": 100})).json()["items"]
    assert [c["email"] for c in everyone].count(body["email"]) == 1


async def _frames(response: httpx.Response) -> AsyncIterator[dict[str, str]]:
    frame: dict[str, str] = {}
    async for line in response.aiter_lines():
        if not line:
            if frame:
                yield frame
            frame = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            frame[name] = value.strip()


async def _until(frames: AsyncIterator[dict[str, str]], event: str) -> dict[str, str]:
    async with asyncio.timeout(30):
        async for frame in frames:
            if frame.get("event") == event:
                return frame
    raise AssertionError(f"no {event}")


async def test_a_resumed_stream_first_gets_what_it_missed(api: httpx.AsyncClient) -> None:
    scheduled = await _interview(api, start=False)
    path = f"/interviews/{scheduled['id']}/events"
    async with api.stream("GET", path) as stream:
        frames = _frames(stream)
        assert "retry" in await anext(frames)
        await api.patch(f"/interviews/{scheduled['id']}", json={"status": "READY"})
        seen = await _until(frames, "interview.status_changed")
    # While disconnected: two more changes.
    await api.patch(f"/interviews/{scheduled['id']}", json={"status": "IN_PROGRESS"})
    answer = await api.post(
        f"/interviews/{scheduled['id']}/answers",
        json={"question_id": scheduled["question_ids"][0], "text": "A lock."},
    )
    async with api.stream("GET", path, headers={"Last-Event-ID": seen["id"]}) as stream:
        frames = _frames(stream)
        await _until(frames, "stream.open")
        missed = [await anext(frames), await anext(frames)]
    assert [f["event"] for f in missed] == ["interview.status_changed", "answer.submitted"]
    assert '"IN_PROGRESS"' in missed[0]["data"]
    assert answer.json()["id"] in missed[1]["data"]
    assert all(f["id"] != seen["id"] for f in missed)
