"""The AI interviewer end to end: services as processes on real Kafka, the model a streaming
OpenAI-compatible stand-in (real HTTP) started by the test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from e2e_support import gateway_url, system_env
from fake_openai import FakeOpenAIServer, Reply, streamed
from interview_localinfra.system import ServiceGroup
from support import bearer, eventually
from test_interview_flow import create, move, sse_events

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]

QUESTIONS = [
    {
        "text": "What is a mutex?",
        "skills": ["concurrency"],
        "reference_answer": "A lock giving mutual exclusion: one thread at a time in the"
        " critical section.",
        "key_points": ["mutual exclusion", "one thread at a time"],
    },
    {
        "text": "What does an index do in a database?",
        "skills": ["databases"],
        "reference_answer": "It speeds up lookups by keeping sorted keys that point to rows.",
        "key_points": ["faster lookups", "sorted keys"],
    },
]


@pytest.fixture(scope="module")
def model() -> Iterator[FakeOpenAIServer]:
    server = FakeOpenAIServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
async def system(
    kafka_bootstrap: str, model: FakeOpenAIServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ServiceGroup]:
    env = system_env(
        kafka_bootstrap,
        {
            "CONSUMER_GROUP_PREFIX": f"e2e-chat-{uuid.uuid4().hex[:8]}",
            "INTERVIEWER_BASE_URL": model.url,
            "INTERVIEWER_API_KEY": "sk-test-interviewer",
            "INTERVIEWER_MODEL": "interviewer-stand-in",
            "INTERVIEWER_TIMEOUT_S": "2",
            "TRANSCRIPTION_BASE_URL": model.url,
            "TRANSCRIPTION_API_KEY": "sk-test-transcription",
            "BLOB_DIR": str(tmp_path_factory.mktemp("blobs")),
        },
        drop=("INTERVIEWER_",),
    )
    async with ServiceGroup(env) as group:
        yield group


@pytest.fixture
async def api(system: ServiceGroup, model: FakeOpenAIServer) -> AsyncIterator[httpx.AsyncClient]:
    """An interviewer's client (staff prepare interviews; candidates chat with their own token)."""
    model.reset()
    async with httpx.AsyncClient(
        base_url=gateway_url(system), timeout=30, headers=bearer("interviewer")
    ) as client:
        yield client


def candidate_of(interview: dict[str, Any]) -> dict[str, str]:
    """The headers of the interview's candidate."""
    return bearer("candidate", candidate_id=interview["candidate_id"])


async def ready_interview(api: httpx.AsyncClient) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    email = f"ada-{uuid.uuid4().hex}@example.com"
    candidate = await create(api, "/candidates", {"name": "Ada", "email": email})
    questions = [await create(api, "/questions", q) for q in QUESTIONS]
    interview = await create(
        api,
        "/interviews",
        {
            "candidate_id": candidate["id"],
            "title": "Backend engineer",
            "question_ids": [q["id"] for q in questions],
        },
    )
    assert (await move(api, interview["id"], "READY")).status_code == 200
    return interview, questions


async def say(
    api: httpx.AsyncClient, session_id: str, content: str, who: dict[str, str] | None = None
) -> tuple[list[str], str]:
    """Post a message (as `who`) and read the streamed reply: (deltas, completed content)."""
    deltas: list[str] = []
    async with api.stream(
        "POST",
        f"/chat/sessions/{session_id}/messages",
        json={"content": content},
        headers={"Accept": "text/event-stream", **(who or {})},
    ) as stream:
        assert stream.status_code == 200
        async for event, data in sse_events(stream):
            if event == "chat.reply.delta":
                deltas.append(data["delta"])
            elif event == "chat.reply.completed":
                return deltas, data["content"]
            elif event == "error":
                raise AssertionError(data)
    raise AssertionError("the stream ended without chat.reply.completed")


async def test_the_model_conducts_the_interview_to_completed_and_every_answer_is_scored(
    api: httpx.AsyncClient, model: FakeOpenAIServer
) -> None:
    interview, questions = await ready_interview(api)
    me = candidate_of(interview)  # the candidate conducts its own interview
    opened = await api.post("/chat/sessions", json={"interview_id": interview["id"]}, headers=me)
    assert opened.status_code == 201, opened.text
    session = opened.json()
    state = (await api.get(f"/chat/sessions/{session['id']}", headers=me)).json()
    assert state["state"] == "not_started"
    model.enqueue(
        streamed("Welcome, ", "Ada. ", "Let's begin."),
        streamed("ACTION: FOLLOW_UP\n", "Can you give ", "an example?"),
        streamed("Thanks for the example."),  # the follow-up limit is reached: no action line
        streamed("This is not an action line at all."),  # malformed: the service's policy
    )

    deltas, greeting = await say(api, session["id"], "Hello, I'm ready.", me)
    # The first token leaves alone; the next ones may share a delta (one is in flight at a time).
    assert deltas[0] == "Welcome, "
    assert "".join(deltas).startswith("Welcome, Ada. Let's begin.")
    assert greeting.endswith(f"Question 1 of 2: {questions[0]['text']}")
    prompt = model.received[0].messages[1]["content"]
    assert f"Current question (1 of 2): {questions[0]['text']}" in prompt
    assert "Interview: Backend engineer" in prompt
    state = (await api.get(f"/chat/sessions/{session['id']}", headers=me)).json()
    assert state["state"] == "in_progress"
    assert state["current_question"]["question_id"] == questions[0]["id"]

    _, follow_up = await say(api, session["id"], "It is a lock.", me)
    assert follow_up == "Can you give an example?"
    _, moved_on = await say(
        api, session["id"], "Two threads updating one counter take the mutex in turn.", me
    )
    assert moved_on == f"Thanks for the example.\n\nQuestion 2 of 2: {questions[1]['text']}"
    assert questions[1]["reference_answer"] not in str([r.json for r in model.received])
    _, closing = await say(
        api,
        session["id"],
        "An index keeps sorted keys that point to rows, so lookups are faster than a full scan.",
        me,
    )
    assert closing.startswith("Thank you for your answer.")  # the offline phrasing took over
    assert closing.endswith("your answers are being evaluated.")

    report = await _report(api, interview["id"])
    assert report["overall_score"] is not None
    assert {s["skill"] for s in report["skills"]} == {"concurrency", "databases"}
    got = (await api.get(f"/interviews/{interview['id']}")).json()
    assert got["status"] == "COMPLETED"
    answers = (await api.get(f"/interviews/{interview['id']}/answers")).json()["items"]
    texts = {a["question_id"]: a["text"] for a in answers}
    assert texts[questions[0]["id"]] == (
        "It is a lock. Two threads updating one counter take the mutex in turn."
    )
    assert all(a["evaluation"] is not None for a in answers)
    state = (await api.get(f"/chat/sessions/{session['id']}")).json()
    assert state["state"] == "finished"
    listed = (await api.get("/chat/sessions", params={"interview_id": interview["id"]})).json()
    assert [s["id"] for s in listed["items"]] == [session["id"]]
    assert (await api.get(f"/interviews/{interview['id']}/report", headers=me)).status_code == 403
    mine = (await api.get(f"/interviews/{interview['id']}/answers", headers=me)).json()["items"]
    assert [a["evaluation"] for a in mine] == [None, None]  # a candidate never sees a score


async def _report(api: httpx.AsyncClient, interview_id: str) -> Any:
    path = f"/interviews/{interview_id}/report"

    async def present() -> bool:
        return (await api.get(path)).status_code == 200

    await eventually(present, timeout_s=30)
    return (await api.get(path)).json()


async def test_a_client_that_disconnects_cancels_the_generation(
    api: httpx.AsyncClient, model: FakeOpenAIServer
) -> None:
    interview, _ = await ready_interview(api)
    session = await create(api, "/chat/sessions", {"interview_id": interview["id"]})
    words = [f"word{i} " for i in range(200)]
    model.enqueue(streamed(*words, chunk_delay_s=0.05))

    async with api.stream(
        "POST",
        f"/chat/sessions/{session['id']}/messages",
        json={"content": "Hello"},
        headers={"Accept": "text/event-stream"},
    ) as stream:
        seen = 0
        async for event, _ in sse_events(stream):
            seen += event == "chat.reply.delta"
            if seen == 3:
                break  # leaving the block closes the connection

    async def model_saw_the_disconnect() -> bool:
        return model.disconnects == 1

    await eventually(model_saw_the_disconnect, timeout_s=15)
    history = (await api.get(f"/chat/sessions/{session['id']}/messages")).json()["items"]

    async def partial_reply_kept() -> bool:
        nonlocal history
        history = (await api.get(f"/chat/sessions/{session['id']}/messages")).json()["items"]
        return len(history) == 2

    await eventually(partial_reply_kept, timeout_s=15)
    assert history[1]["content"].startswith("word0 word1 word2")
    assert len(history[1]["content"].split()) < len(words)


async def test_a_closed_session_takes_no_more_messages(api: httpx.AsyncClient) -> None:
    session = await create(api, "/chat/sessions", {})

    closed = await api.post(f"/chat/sessions/{session['id']}/close")
    posted = await api.post(f"/chat/sessions/{session['id']}/messages", json={"content": "hi"})

    assert closed.status_code == 202
    assert posted.status_code == 409
    assert posted.json()["error"]["code"] == "chat_session_closed"

    async def closed_in_chat() -> bool:
        view = await api.get(f"/chat/sessions/{session['id']}")
        return view.status_code == 200 and view.json()["state"] == "closed"

    await eventually(closed_in_chat, timeout_s=15)
    missing = await api.get(f"/chat/sessions/{uuid.uuid4()}")
    assert missing.status_code == 404


async def test_a_spoken_answer_is_transcribed_then_scored(
    api: httpx.AsyncClient, model: FakeOpenAIServer
) -> None:
    interview, questions = await ready_interview(api)
    assert (await move(api, interview["id"], "IN_PROGRESS")).status_code == 200
    transcript = "A mutex is a lock that gives mutual exclusion, one thread at a time."
    model.enqueue(Reply(body={"text": transcript}))
    wav = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(256)

    accepted = await api.post(
        f"/interviews/{interview['id']}/answers",
        data={"question_id": questions[0]["id"]},
        files={"audio": ("answer.wav", wav, "audio/wav")},
        headers=candidate_of(interview),  # the candidate records its own answer
    )

    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["status"] == "transcribing"
    path = f"/answers/{accepted.json()['id']}"

    async def scored() -> bool:
        answer = await api.get(path)
        return answer.status_code == 200 and answer.json()["evaluation"] is not None

    await eventually(scored, timeout_s=30)
    answer = (await api.get(path)).json()
    assert answer["text"] == transcript
    assert answer["audio_uri"].startswith("file://")
    assert answer["audio_uri"].endswith(".wav")
    assert answer["evaluation"]["score"] >= 50
    (upload,) = [r for r in model.received if r.path.endswith("/audio/transcriptions")]
    assert upload.headers["content-type"].startswith("multipart/form-data")
