"""The frontend's whole flow over HTTP against the four services as processes.

Runs once with the memory store and once with PostgreSQL (see conftest). Every read happens
right after the write it depends on, with no polling: that is the read-your-writes promise.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from interview_localinfra._process import free_port, terminate
from interview_localinfra.system import ServiceGroup
from interview_shared import topics
from support import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]


async def sse_events(response: httpx.Response) -> AsyncIterator[tuple[str, Any]]:
    """Parse a text/event-stream body into (event, data) pairs."""
    event, data = "message", ""
    async for line in response.aiter_lines():
        if line.startswith("event:"):
            event = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            data += line.removeprefix("data:").strip()
        elif line == "" and data:
            yield event, json.loads(data)
            event, data = "message", ""


async def _first(events: AsyncIterator[tuple[str, Any]], wanted: str) -> Any:
    """The data of the first event of type `wanted` (30 s at most)."""
    async with asyncio.timeout(30):
        async for event, data in events:
            if event == wanted:
                return data
    raise AssertionError(f"the stream ended before {wanted}")


async def create(api: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post(path, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def new_interview(api: httpx.AsyncClient) -> tuple[dict[str, Any], dict[str, Any]]:
    """A candidate, a question and an interview about it (PREPARING)."""
    candidate = await create(
        api, "/candidates", {"name": "Ada Lovelace", "email": f"ada-{uuid.uuid4().hex}@example.com"}
    )
    question = await create(
        api,
        "/questions",
        {
            "text": "What is a mutex?",
            "type": "technical",
            "difficulty": "easy",
            "skills": ["concurrency"],
            "tags": ["os"],
            "reference_answer": "A mutex is a lock that gives mutual exclusion: only one thread "
            "at a time may enter the critical section it protects.",
            "key_points": ["mutual exclusion", "one thread at a time"],
        },
    )
    interview = await create(
        api,
        "/interviews",
        {"candidate_id": candidate["id"], "title": "Backend", "question_ids": [question["id"]]},
    )
    return interview, question


async def move(api: httpx.AsyncClient, interview_id: str, status: str) -> httpx.Response:
    return await api.patch(f"/interviews/{interview_id}", json={"status": status})


async def test_read_your_writes_and_duplicate_email(api: httpx.AsyncClient) -> None:
    email = f"grace-{uuid.uuid4().hex}@example.com"
    candidate = await create(api, "/candidates", {"name": "Grace", "email": email})
    fetched = await api.get(f"/candidates/{candidate['id']}")
    assert fetched.status_code == 200
    assert fetched.json()["email"] == email
    duplicate = await api.post("/candidates", json={"name": "Other", "email": email.upper()})
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["code"] == "email_taken"


async def test_interview_lifecycle_scores_answers_via_get_and_sse(api: httpx.AsyncClient) -> None:
    interview, question = await new_interview(api)
    assert interview["status"] == "PREPARING"
    early = await api.post(
        f"/interviews/{interview['id']}/answers",
        json={"question_id": question["id"], "text": "too early"},
    )
    assert early.status_code == 409
    for status in ("READY", "IN_PROGRESS"):
        moved = await move(api, interview["id"], status)
        assert moved.status_code == 200, moved.text
        assert moved.json()["status"] == status
    backwards = await move(api, interview["id"], "READY")
    assert backwards.status_code == 409
    assert backwards.json()["error"]["code"] == "invalid_transition"

    async with api.stream("GET", f"/interviews/{interview['id']}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = sse_events(stream)
        assert (await anext(events))[0] == "stream.open"
        answer = await api.post(
            f"/interviews/{interview['id']}/answers",
            json={
                "question_id": question["id"],
                "text": "A mutex provides mutual exclusion: only one thread at a time can hold "
                "the lock and enter the critical section.",
            },
        )
        assert answer.status_code == 202, answer.text
        # Null until scored; the offline scorer may already have been quicker than this reply.
        evaluation_now = answer.json()["evaluation"]
        assert evaluation_now is None or evaluation_now["answer_id"] == answer.json()["id"]
        evaluated = await _first(events, "answer.evaluated")
    assert evaluated["answer_id"] == answer.json()["id"]
    assert evaluated["lineage"]["scorer"] == "semantic"  # the default offline scorer

    listed = (await api.get(f"/interviews/{interview['id']}/answers")).json()
    evaluation = listed["items"][0]["evaluation"]
    assert 0 <= evaluation["score"] <= 100
    assert evaluation["score"] >= 60, "a correct answer should score well"
    assert evaluation["feedback"]
    assert listed["next_cursor"] is None

    completed = await move(api, interview["id"], "COMPLETED")
    assert completed.json()["status"] == "COMPLETED"
    report = await _eventually(api, f"/interviews/{interview['id']}/report")
    assert report["overall_score"] == pytest.approx(evaluation["score"], abs=0.01)
    assert report["skills"][0]["skill"] == "concurrency"


async def _eventually(api: httpx.AsyncClient, path: str) -> Any:
    # The interview report is derived asynchronously by the evaluator; poll only here.
    async def present() -> bool:
        return (await api.get(path)).status_code != 404

    await eventually(present, timeout_s=30)
    response = await api.get(path)
    assert response.status_code == 200, response.text
    return response.json()


async def test_chat_streams_reply_and_keeps_history(api: httpx.AsyncClient) -> None:
    interview, _ = await new_interview(api)
    assert (await move(api, interview["id"], "READY")).status_code == 200
    session = await create(api, "/chat/sessions", {"interview_id": interview["id"]})
    deltas: list[str] = []
    completed: dict[str, Any] = {}
    async with api.stream(
        "POST",
        f"/chat/sessions/{session['id']}/messages",
        json={"content": "Hello, I am ready."},
        headers={"Accept": "text/event-stream"},
    ) as stream:
        assert stream.status_code == 200
        async for event, data in sse_events(stream):
            if event == "chat.reply.delta":
                deltas.append(data["delta"])
            elif event == "chat.reply.completed":
                completed = data
    # Streamed, not sent whole: the first word leaves alone; the offline interviewer's other
    # words are all ready while it is in flight, so they share the next delta.
    assert len(deltas) >= 2
    assert completed["content"].startswith(deltas[0])
    assert len(deltas[0]) < 10
    assert "".join(deltas) == completed["content"]
    assert "What is a mutex?" in completed["content"]

    history = (await api.get(f"/chat/sessions/{session['id']}/messages")).json()["items"]
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert history[1]["content"] == completed["content"]

    plain = await api.post(
        f"/chat/sessions/{session['id']}/messages", json={"content": "A mutex is a lock."}
    )
    assert plain.status_code == 202


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/interviews/not-a-uuid", None, 422),
        ("GET", f"/interviews/{uuid.uuid4()}", None, 404),
        ("POST", "/candidates", {"name": "x"}, 422),
        ("POST", "/candidates", {"name": "nul\u0000", "email": "n@example.com"}, 422),
        ("POST", "/candidates", {"name": "x" * 201, "email": "n@example.com"}, 422),
        (
            "POST",
            "/interviews",
            {"candidate_id": str(uuid.uuid4()), "title": "t", "question_ids": [str(uuid.uuid4())]},
            404,
        ),
        ("GET", "/interviews?limit=101", None, 422),
        ("GET", "/interviews?sort=password", None, 422),  # sort is an enum in the schema
        ("POST", f"/chat/sessions/{uuid.uuid4()}/messages", {"content": "hi"}, 404),
    ],
)
async def test_bad_input_is_a_clear_4xx(
    api: httpx.AsyncClient, method: str, path: str, body: dict[str, Any] | None, status: int
) -> None:
    response = await api.request(method, path, json=body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"]
    assert error["message"]


async def test_poison_message_is_dead_lettered_and_consumers_keep_going(
    api: httpx.AsyncClient, system: ServiceGroup
) -> None:
    bootstrap = system.env["KAFKA_BOOTSTRAP_SERVERS"]
    marker = f"poison-{uuid.uuid4().hex}".encode()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topics.ANSWERS.name, b"{not json " + marker, key=marker)
    finally:
        await producer.stop()

    interview, question = await new_interview(api)
    for status in ("READY", "IN_PROGRESS"):
        await move(api, interview["id"], status)
    answer = await api.post(
        f"/interviews/{interview['id']}/answers",
        json={"question_id": question["id"], "text": "A lock so one thread at a time runs."},
    )
    assert answer.status_code == 202

    letters = await _dead_letters(
        bootstrap, marker, expected_groups={"interview-store", "interview-evaluator"}
    )
    assert {letter["original_topic"] for letter in letters} == {topics.ANSWERS.name}
    assert all(letter["error_type"] == "ValidationError" for letter in letters)

    async def evaluated() -> bool:
        return (await api.get(f"/answers/{answer.json()['id']}")).json()["evaluation"] is not None

    await eventually(evaluated, timeout_s=30)


async def _dead_letters(
    bootstrap: str, marker: bytes, *, expected_groups: set[str]
) -> list[dict[str, Any]]:
    """Read the dead-letter topic until every expected consumer group has dead-lettered `marker`."""
    consumer = AIOKafkaConsumer(
        topics.DEAD_LETTER.name, bootstrap_servers=bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    found: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(30):
            while {letter["consumer_group"] for letter in found} != expected_groups:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    found += [json.loads(r.value) for r in records if r.key == marker and r.value]
    finally:
        await consumer.stop()
    return found


async def test_store_restart_loses_nothing_and_duplicates_nothing(
    api: httpx.AsyncClient, system: ServiceGroup
) -> None:
    interview, _ = await new_interview(api)
    before = (await api.get("/candidates", params={"limit": 100})).json()["items"]

    # Memory: rebuilt from the Kafka log. PostgreSQL: resumes from its committed offsets.
    await system.restart("store")

    assert (await api.get(f"/interviews/{interview['id']}")).json()["status"] == "PREPARING"
    after = (await api.get("/candidates", params={"limit": 100})).json()["items"]
    assert [c["id"] for c in after][: len(before)] == [c["id"] for c in before]
    assert len({c["email"] for c in after}) == len(after)


async def test_cv_analysis_is_recorded_and_every_service_documents_its_events(
    api: httpx.AsyncClient, system: ServiceGroup
) -> None:
    candidate = await create(
        api, "/candidates", {"name": "Linus", "email": f"linus-{uuid.uuid4().hex}@example.com"}
    )
    analysed = await api.post(
        f"/candidates/{candidate['id']}/cv-analyses",
        json={"skills": {"c": 5, "git": 5}, "summary": "Kernel hacker."},
    )
    assert analysed.status_code == 201, analysed.text
    assert analysed.json()[0]["skills"] == {"c": 5, "git": 5}

    async with httpx.AsyncClient(timeout=10) as client:
        for port_variable in ("PORT", "STORE_PORT", "EVALUATOR_PORT", "CHAT_PORT"):
            base = f"http://127.0.0.1:{system.env[port_variable]}"
            spec = (await client.get(f"{base}/asyncapi.json")).json()
            assert spec["channels"], f"{port_variable}: no channels in the AsyncAPI document"
            assert (await client.get(f"{base}/health/live")).status_code == 200
            metrics = await client.get(f"{base}/metrics")
            assert "interview_events_handled_total" in metrics.text


async def test_two_gateways_each_get_the_outcomes_of_their_own_writes(
    system: ServiceGroup, api: httpx.AsyncClient
) -> None:
    # A second gateway replica on the same cluster: each tails the outcomes without a group.
    port = free_port()
    proc = start_gateway(system.env | {"PORT": str(port)})
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=30, headers=api.headers
        ) as other:
            await eventually(lambda: ready(other), timeout_s=90)
            other.base_url = httpx.URL(f"http://127.0.0.1:{port}/api/v1")
            interview, question = await new_interview(api)
            # Written through one replica, read and changed through the other, no waiting.
            assert (await other.get(f"/interviews/{interview['id']}")).status_code == 200
            for status, gateway in (("READY", other), ("IN_PROGRESS", api)):
                moved = await move(gateway, interview["id"], status)
                assert moved.status_code == 200, moved.text
                assert moved.json()["status"] == status
            for gateway in (other, api, other):
                answer = await gateway.post(
                    f"/interviews/{interview['id']}/answers",
                    json={"question_id": question["id"], "text": "Only one thread holds it."},
                )
                assert answer.status_code == 202, answer.text
                assert set(answer.json()) > {"id", "text"}  # the answer, not a bare acceptance
            finished = await move(other, interview["id"], "COMPLETED")
            assert finished.status_code == 200

            # The first replica learns of the change from the outcome on the log, without
            # asking the store: a few milliseconds later it refuses answers too. (A request in
            # that window is accepted: the store does not judge answers by status, because the
            # rule would depend on the order it reads two topics in, and a rebuild from the log
            # must decide exactly as the first pass did.)
            async def refused() -> bool:
                late = await api.post(
                    f"/interviews/{interview['id']}/answers",
                    json={"question_id": question["id"], "text": "too late"},
                )
                return late.status_code == 409

            await eventually(refused, timeout_s=10, interval_s=0.05)
    finally:
        await terminate(proc, signal.SIGTERM, 20)


def start_gateway(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "interview_api.main"], env=env, stdin=subprocess.DEVNULL
    )


async def ready(client: httpx.AsyncClient) -> bool:
    try:
        return (await client.get("/health/ready")).status_code == 200
    except httpx.TransportError:
        return False
