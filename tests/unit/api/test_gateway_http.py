"""The gateway over HTTP, with the pipeline behind it in process: publish -> MemoryStore -> read.

No Kafka and no database: the fake publisher decodes each event exactly as the store's consumer
would and applies it to a `MemoryStore`, which is also the read side. The broker the app starts in
its lifespan is FastStream's in-memory `TestKafkaBroker`.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import structlog
from faststream.kafka import TestKafkaBroker
from interview_api.chat_client import ChatSessions
from interview_api.main import create_app
from interview_api.settings import GatewaySettings
from interview_shared import topics
from interview_shared.domain import InterviewStatus
from interview_shared.events import (
    AnswerSubmitted,
    CandidateRegistered,
    ChatMessagePosted,
    Event,
    decode_event,
)
from interview_shared.keyring import MemoryKeyRing, Privacy
from interview_shared.messaging import EventPublisher
from interview_shared.read_client import ReadSide
from interview_shared.read_models import (
    Candidate,
    ListQuery,
    Outcome,
    StoreUnavailableError,
)
from interview_store.memory import MemoryStore
from interview_store.outcomes import OutcomeAnnouncer
from interview_store.port import Store
from support import TEST_JWT_SECRET, StoreReadSide, bearer

API = "/api/v1"
Json = dict[str, Any]


@dataclass(frozen=True)
class Published:
    """One message as the gateway handed it to the broker."""

    topic: str
    key: bytes | None
    headers: dict[str, str]
    event: Event


@dataclass
class Pipeline:
    """A `RawPublisher` that records every event and (unless `apply` is off) stores it."""

    store: Store
    apply: bool = True
    published: list[Published] = field(default_factory=list)
    broker: Any = None
    """The gateway's (in-memory) broker: the store's outcome events go back through it."""
    keys: MemoryKeyRing = field(default_factory=MemoryKeyRing)
    """The gateway's data keys (`create_app(key_ring=...)`): the consumer opens with them."""
    raw: list[bytes] = field(default_factory=list)
    """Every message as it went on the wire (sealed)."""

    async def publish(
        self,
        message: Any,
        topic: str = "",
        *,
        key: bytes | Any | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Decode like the store's consumer does, record, then apply (a slow store: don't)."""
        self.raw.append(message)
        event, _ = await Privacy(self.keys).open(decode_event(message))
        self.published.append(Published(topic, key, dict(headers or {}), event))
        if self.apply:
            results = await self.store.apply([event])
            announcer = OutcomeAnnouncer(EventPublisher(self.broker))
            await announcer.announce(self.store, [event], results)

    def events(self, kind: type[Any]) -> list[Any]:
        """The published events of one type, in order."""
        return [p.event for p in self.published if isinstance(p.event, kind)]


@dataclass
class Gateway:
    client: httpx.AsyncClient
    pipeline: Pipeline
    store: MemoryStore


def pipeline_over(read: StoreReadSide) -> Pipeline:
    """A publisher applying to the same store the read side reads."""
    return Pipeline(read.store)


@asynccontextmanager
async def running_gateway(
    *,
    read: ReadSide,
    pipeline: Pipeline,
    raise_app_exceptions: bool = True,
    settings: GatewaySettings | None = None,
    chat_sessions: ChatSessions | None = None,
) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway app, its lifespan run under an in-memory broker, and a client for it (an
    admin's token in its default headers)."""
    settings = settings or GatewaySettings(
        read_your_writes_timeout_s=0.1, jwt_secret=TEST_JWT_SECRET
    )
    app = create_app(
        settings, read=read, publisher=pipeline, chat_sessions=chat_sessions, key_ring=pipeline.keys
    )
    pipeline.broker = app.state.broker
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
    async with (
        TestKafkaBroker(app.state.broker),
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test", headers=bearer()) as client,
    ):
        yield client


@pytest.fixture(scope="module")
async def shared_gateway() -> AsyncIterator[tuple[httpx.AsyncClient, StoreReadSide, Pipeline]]:
    # One app for the module: FastAPI builds each app's routes on its first request (~0.3 s).
    read = StoreReadSide(MemoryStore())
    pipeline = pipeline_over(read)
    async with running_gateway(read=read, pipeline=pipeline) as client:
        yield client, read, pipeline


@pytest.fixture
def gw(shared_gateway: tuple[httpx.AsyncClient, StoreReadSide, Pipeline]) -> Gateway:
    """The shared gateway over a fresh, empty store."""
    client, read, pipeline = shared_gateway
    read.store = pipeline.store = MemoryStore()
    pipeline.apply = True
    pipeline.published.clear()
    return Gateway(client, pipeline, read.store)


# ---- helpers ---------------------------------------------------------------------------------


def error_of(response: httpx.Response) -> Json:
    """The `error` object of an error envelope."""
    body: Json = response.json()
    assert set(body) == {"error"}, body
    error: Json = body["error"]
    return error


async def created(client: httpx.AsyncClient, path: str, body: Json) -> Json:
    response = await client.post(f"{API}{path}", json=body)
    assert response.status_code == 201, response.text
    resource: Json = response.json()
    return resource


async def candidate(client: httpx.AsyncClient, email: str = "ada@example.com") -> Json:
    return await created(client, "/candidates", {"name": "Ada Lovelace", "email": email})


async def question(client: httpx.AsyncClient, **fields: Any) -> Json:
    body = {"text": "What is a mutex?", "skills": ["concurrency"], **fields}
    return await created(client, "/questions", body)


async def interview(client: httpx.AsyncClient, *, questions: int = 1) -> Json:
    person = await candidate(client, f"{uuid.uuid4().hex}@example.com")
    ids = [(await question(client))["id"] for _ in range(questions)]
    body = {"candidate_id": person["id"], "title": "Backend", "question_ids": ids}
    return await created(client, "/interviews", body)


async def move(client: httpx.AsyncClient, interview_id: str, status: str) -> httpx.Response:
    return await client.patch(f"{API}/interviews/{interview_id}", json={"status": status})


async def in_progress(client: httpx.AsyncClient, *, questions: int = 1) -> Json:
    scheduled = await interview(client, questions=questions)
    for status in ("READY", "IN_PROGRESS"):
        assert (await move(client, scheduled["id"], status)).status_code == 200
    return scheduled


# ---- writes: read-your-writes, 202 when the store is slow ------------------------------------


async def test_created_resources_are_readable_right_away(gw: Gateway) -> None:
    person = await candidate(gw.client)
    asked = await question(gw.client, reference_answer="A lock.", key_points=["mutual exclusion"])
    body = {"candidate_id": person["id"], "title": "Backend", "question_ids": [asked["id"]]}
    scheduled = await created(gw.client, "/interviews", body)
    chat = await created(gw.client, "/chat/sessions", {"interview_id": scheduled["id"]})

    for path, resource in [
        (f"/candidates/{person['id']}", person),
        (f"/questions/{asked['id']}", asked),
        (f"/interviews/{scheduled['id']}", scheduled),
        (f"/chat/sessions/{chat['id']}/messages", {"items": []}),
    ]:
        response = await gw.client.get(f"{API}{path}")
        assert response.status_code == 200, path
        assert response.json() == resource
    assert scheduled["status"] == "PREPARING"
    assert chat["interview_id"] == scheduled["id"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/candidates", {"name": "Ada", "email": "ada@example.com"}),
        ("/questions", {"text": "What is a mutex?"}),
        ("/chat/sessions", {}),
    ],
)
async def test_a_store_that_has_not_applied_the_write_yet_gives_202(
    gw: Gateway, path: str, body: Json
) -> None:
    gw.pipeline.apply = False

    response = await gw.client.post(f"{API}{path}", json=body)

    assert response.status_code == 202
    accepted = response.json()
    assert set(accepted) == {"id", "event_id", "status"}
    assert accepted["status"] == "accepted"
    [published] = gw.pipeline.published
    assert accepted["event_id"] == str(published.event.event_id)
    resource_id = {"/candidates": "candidate_id", "/questions": "question_id"}
    assert accepted["id"] == str(getattr(published.event, resource_id.get(path, "chat_session_id")))


# ---- candidates: unique e-mail -----------------------------------------------------------------


async def test_a_taken_email_is_refused_whatever_its_case(gw: Gateway) -> None:
    await candidate(gw.client, "ada@example.com")

    response = await gw.client.post(
        f"{API}/candidates", json={"name": "Ada Again", "email": "  ADA@Example.COM "}
    )

    assert response.status_code == 409
    assert error_of(response)["code"] == "email_taken"
    # The store decided, through the outcome of the second registration: one candidate kept.
    second = gw.pipeline.events(CandidateRegistered)[1]
    assert await gw.store.get_candidate(second.candidate_id) is None
    assert len((await gw.store.list_candidates(ListQuery())).items) == 1


async def test_the_store_has_the_last_word_on_a_racing_registration() -> None:
    class StaleReadSide(StoreReadSide):
        """A read side that has not yet seen the other writer's registration."""

        async def get_candidate_by_email(self, email: str) -> Candidate | None:
            return None

    read = StaleReadSide(MemoryStore())
    pipeline = pipeline_over(read)
    async with running_gateway(read=read, pipeline=pipeline) as client:
        first = await candidate(client, "grace@example.com")
        response = await client.post(
            f"{API}/candidates", json={"name": "Grace", "email": "Grace@example.com"}
        )

    assert response.status_code == 409
    assert error_of(response)["code"] == "email_taken"
    loser = pipeline.events(CandidateRegistered)[1]
    rejected = await read.store.event_outcome(loser.event_id)
    assert rejected is not None
    assert rejected.outcome is Outcome.REJECTED
    everyone = await read.store.list_candidates(ListQuery())
    assert [c.id for c in everyone.items] == [uuid.UUID(first["id"])]


# ---- interviews ------------------------------------------------------------------------------


async def test_an_interview_needs_a_known_candidate(gw: Gateway) -> None:
    asked = await question(gw.client)
    body = {"candidate_id": str(uuid.uuid4()), "title": "T", "question_ids": [asked["id"]]}

    response = await gw.client.post(f"{API}/interviews", json=body)

    assert response.status_code == 404
    assert error_of(response)["code"] == "candidate_not_found"
    assert gw.pipeline.published[-1].topic == topics.QUESTIONS.name  # nothing new published


async def test_an_interview_needs_known_questions(gw: Gateway) -> None:
    person = await candidate(gw.client)
    asked = await question(gw.client)
    missing = str(uuid.uuid4())
    body = {"candidate_id": person["id"], "title": "T", "question_ids": [asked["id"], missing]}

    response = await gw.client.post(f"{API}/interviews", json=body)

    assert response.status_code == 404
    error = error_of(response)
    assert error["code"] == "question_not_found"
    assert error["details"] == {"question_ids": [missing]}


async def test_an_interview_cannot_repeat_a_question(gw: Gateway) -> None:
    person = await candidate(gw.client)
    asked = await question(gw.client)
    body = {"candidate_id": person["id"], "title": "T", "question_ids": [asked["id"]] * 2}

    response = await gw.client.post(f"{API}/interviews", json=body)

    assert response.status_code == 422
    assert error_of(response)["code"] == "duplicate_questions"


async def test_an_interview_walks_its_lifecycle(gw: Gateway) -> None:
    scheduled = await interview(gw.client)

    for status in ("READY", "IN_PROGRESS", "COMPLETED"):
        response = await move(gw.client, scheduled["id"], status)
        assert response.status_code == 200
        assert response.json()["status"] == status
    final = (await gw.client.get(f"{API}/interviews/{scheduled['id']}")).json()
    assert final["status"] == "COMPLETED"
    assert final["started_at"] is not None
    assert final["completed_at"] is not None


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ((), "IN_PROGRESS"),
        ((), "COMPLETED"),
        ((), "PREPARING"),
        (("READY",), "READY"),
        (("READY",), "COMPLETED"),
        (("READY", "IN_PROGRESS"), "READY"),
        (("READY", "IN_PROGRESS", "COMPLETED"), "CANCELLED"),
        (("CANCELLED",), "READY"),
        (("CANCELLED",), "CANCELLED"),
    ],
)
async def test_an_illegal_transition_is_refused(
    gw: Gateway, path: tuple[str, ...], target: str
) -> None:
    scheduled = await interview(gw.client)
    for status in path:
        assert (await move(gw.client, scheduled["id"], status)).status_code == 200
    current = path[-1] if path else "PREPARING"

    response = await move(gw.client, scheduled["id"], target)

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "invalid_transition"
    assert error["details"] == {"from": current, "to": target}
    assert (await gw.client.get(f"{API}/interviews/{scheduled['id']}")).json()["status"] == current


@pytest.mark.parametrize("path", [(), ("READY",), ("READY", "IN_PROGRESS")])
async def test_an_unfinished_interview_can_be_cancelled(gw: Gateway, path: tuple[str, ...]) -> None:
    scheduled = await interview(gw.client)
    for status in path:
        await move(gw.client, scheduled["id"], status)

    response = await move(gw.client, scheduled["id"], "CANCELLED")

    assert response.status_code == 200
    assert response.json()["status"] == InterviewStatus.CANCELLED


async def test_changing_an_unknown_interview_is_404(gw: Gateway) -> None:
    response = await move(gw.client, str(uuid.uuid4()), "READY")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


# ---- answers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [(), ("READY",), ("READY", "IN_PROGRESS", "COMPLETED")])
async def test_answers_are_accepted_only_while_in_progress(
    gw: Gateway, path: tuple[str, ...]
) -> None:
    scheduled = await interview(gw.client)
    for status in path:
        await move(gw.client, scheduled["id"], status)

    response = await gw.client.post(
        f"{API}/interviews/{scheduled['id']}/answers",
        json={"question_id": scheduled["question_ids"][0], "text": "A lock."},
    )

    assert response.status_code == 409
    assert error_of(response)["code"] == "interview_not_in_progress"
    assert gw.pipeline.events(AnswerSubmitted) == []


async def test_an_answer_must_be_to_one_of_the_interviews_questions(gw: Gateway) -> None:
    running = await in_progress(gw.client)
    other = await question(gw.client, text="Another question?")

    response = await gw.client.post(
        f"{API}/interviews/{running['id']}/answers",
        json={"question_id": other["id"], "text": "An answer."},
    )

    assert response.status_code == 422
    assert error_of(response)["code"] == "question_not_in_interview"


async def test_an_answer_carries_the_question_it_is_judged_against(gw: Gateway) -> None:
    rubric = {"version": "r7", "criteria": [{"name": "accuracy", "weight": 2.0}]}
    asked = await question(
        gw.client, reference_answer="A lock.", key_points=["mutual exclusion"], rubric=rubric
    )
    person = await candidate(gw.client)
    body = {"candidate_id": person["id"], "title": "T", "question_ids": [asked["id"]]}
    scheduled = await created(gw.client, "/interviews", body)
    for status in ("READY", "IN_PROGRESS"):
        await move(gw.client, scheduled["id"], status)

    response = await gw.client.post(
        f"{API}/interviews/{scheduled['id']}/answers",
        json={"question_id": asked["id"], "text": "Only one thread at a time."},
        headers={"X-Correlation-ID": "trace-42"},
    )

    assert response.status_code == 202
    answer = response.json()
    assert answer["evaluation"] is None
    assert answer["text"] == "Only one thread at a time."
    [published] = [p for p in gw.pipeline.published if isinstance(p.event, AnswerSubmitted)]
    event = published.event
    assert isinstance(event, AnswerSubmitted)
    assert published.topic == topics.ANSWERS.name
    assert published.key == scheduled["id"].encode()  # keyed by interview: ordered per interview
    assert str(event.answer_id) == answer["id"]
    assert event.question.model_dump(mode="json") == {
        "question_id": asked["id"],
        "text": asked["text"],
        "reference_answer": "A lock.",
        "key_points": ["mutual exclusion"],
        "skills": ["concurrency"],
        "rubric": asked["rubric"],
    }
    assert event.question.rubric.version == "r7"
    assert event.correlation_id == "trace-42"
    assert published.headers["correlation_id"] == "trace-42"


async def test_answering_an_unknown_interview_is_404(gw: Gateway) -> None:
    response = await gw.client.post(
        f"{API}/interviews/{uuid.uuid4()}/answers",
        json={"question_id": str(uuid.uuid4()), "text": "x"},
    )

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


# ---- correlation ids ---------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["X-Correlation-ID", "X-Request-ID"])
async def test_the_callers_correlation_id_travels_with_the_event(gw: Gateway, header: str) -> None:
    await gw.client.post(
        f"{API}/questions", json={"text": "Why?"}, headers={header: "req-0001-abcd"}
    )

    [published] = gw.pipeline.published
    assert published.event.correlation_id == "req-0001-abcd"
    assert published.headers["correlation_id"] == "req-0001-abcd"
    assert published.headers["event_id"] == str(published.event.event_id)


async def test_a_write_without_a_correlation_id_gets_a_fresh_one(gw: Gateway) -> None:
    await gw.client.post(f"{API}/questions", json={"text": "Why?"})
    await gw.client.post(f"{API}/questions", json={"text": "Why not?"})

    first, second = (p.event.correlation_id for p in gw.pipeline.published)
    assert first
    assert second
    assert first != second


# ---- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/candidates", {"name": "Ada\x00", "email": "a@example.com"}, "name"),
        ("POST", "/candidates", {"name": "A" * 201, "email": "a@example.com"}, "name"),
        ("POST", "/candidates", {"name": "   ", "email": "a@example.com"}, "name"),
        ("POST", "/candidates", {"name": "Ada", "email": "not-an-email"}, "email"),
        ("POST", "/candidates", {"name": "Ada"}, "email"),
        ("POST", "/candidates", {"name": "A", "email": "a@example.com", "nick": "x"}, "nick"),
        ("POST", "/questions", {"text": "x" * 5001}, "text"),
        ("POST", "/questions", {"text": "Q?", "key_points": ["ok", "bad\x00"]}, "key_points.1"),
        ("POST", "/questions", {"text": "Q?", "skills": ["s"] * 21}, "skills"),
        ("POST", "/interviews", {"candidate_id": "nope", "title": "T", "question_ids": []}, None),
        ("POST", "/chat/sessions", {"interview_id": "1234"}, "interview_id"),
        ("PATCH", "/interviews/not-a-uuid", {"status": "READY"}, "path.interview_id"),
        ("GET", "/candidates/not-a-uuid", None, "path.candidate_id"),
        ("GET", "/answers/123", None, "path.answer_id"),
    ],
)
async def test_invalid_input_is_a_422_naming_the_field(
    gw: Gateway, method: str, path: str, body: Json | None, field: str | None
) -> None:
    response = await gw.client.request(method, f"{API}{path}", json=body)

    assert response.status_code == 422, response.text
    error = error_of(response)
    assert error["code"] == "validation_error"
    fields = {d["field"] for d in error["details"]}
    if field is None:  # every broken field is reported, not just the first
        assert {"candidate_id", "question_ids"} <= fields
    else:
        assert field in fields
    assert gw.pipeline.published == []


async def test_validation_details_do_not_echo_the_input(gw: Gateway) -> None:
    secret = "s3cr3t-" + "x" * 300
    response = await gw.client.post(f"{API}/candidates", json={"name": secret, "email": "a@b.co"})

    assert response.status_code == 422
    assert "s3cr3t" not in response.text


async def test_an_oversized_answer_is_refused(gw: Gateway) -> None:
    running = await in_progress(gw.client)

    response = await gw.client.post(
        f"{API}/interviews/{running['id']}/answers",
        json={"question_id": running["question_ids"][0], "text": "y" * 20_001},
    )

    assert response.status_code == 422
    assert [d["field"] for d in error_of(response)["details"]] == ["text"]


# ---- listings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("limit=101", 422, "validation_error"),
        ("limit=0", 422, "validation_error"),
        ("offset=-1", 422, "validation_error"),
        ("sort=shoe_size", 422, "validation_error"),  # sort is an enum in the schema
        ("sort=-email", 422, "validation_error"),
        ("cursor=abc&offset=5", 400, "invalid_query"),
        ("cursor=%25%25not-a-cursor", 400, "invalid_query"),
    ],
)
async def test_a_bad_listing_query_is_refused(
    gw: Gateway, query: str, status: int, code: str
) -> None:
    response = await gw.client.get(f"{API}/candidates?{query}")

    assert response.status_code == status, response.text
    assert error_of(response)["code"] == code


async def test_repeated_skill_parameters_match_any_of_them(gw: Gateway) -> None:
    by_skill = {
        skill: (await question(gw.client, text=f"About {skill}?", skills=[skill]))["id"]
        for skill in ("sql", "python", "go")
    }

    response = await gw.client.get(f"{API}/questions?skill=sql&skill=go")

    assert response.status_code == 200
    assert {q["id"] for q in response.json()["items"]} == {by_skill["sql"], by_skill["go"]}


async def test_listing_pages_with_a_cursor(gw: Gateway) -> None:
    emails = [f"c{i}@example.com" for i in range(5)]
    for email in emails:
        await candidate(gw.client, email)

    seen: list[str] = []
    url = f"{API}/candidates?limit=2&sort=created_at"
    while url:
        page = (await gw.client.get(url)).json()
        seen.extend(c["email"] for c in page["items"])
        cursor = page["next_cursor"]
        url = f"{API}/candidates?limit=2&sort=created_at&cursor={cursor}" if cursor else ""

    assert seen == emails


# ---- chat --------------------------------------------------------------------------------------


async def test_a_chat_message_without_sse_is_accepted(gw: Gateway) -> None:
    session = await created(gw.client, "/chat/sessions", {})

    response = await gw.client.post(
        f"{API}/chat/sessions/{session['id']}/messages",
        json={"content": "Hello!"},
        headers={"Accept": "application/json"},
    )

    assert response.status_code == 202
    accepted = response.json()
    [posted] = gw.pipeline.events(ChatMessagePosted)
    assert accepted == {
        "id": str(posted.message_id),
        "event_id": str(posted.event_id),
        "status": "accepted",
    }
    assert str(posted.chat_session_id) == session["id"]


async def test_a_message_to_an_unknown_chat_session_is_404(gw: Gateway) -> None:
    response = await gw.client.post(
        f"{API}/chat/sessions/{uuid.uuid4()}/messages", json={"content": "Hello!"}
    )

    assert response.status_code == 404
    assert gw.pipeline.events(ChatMessagePosted) == []


async def test_a_chat_session_about_an_unknown_interview_is_404(gw: Gateway) -> None:
    response = await gw.client.post(
        f"{API}/chat/sessions", json={"interview_id": str(uuid.uuid4())}
    )

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


# ---- failures ----------------------------------------------------------------------------------


async def test_an_unreachable_store_is_a_503() -> None:
    class DownReadSide(StoreReadSide):
        async def get_interview(self, interview_id: uuid.UUID) -> None:
            raise StoreUnavailableError("store read API unreachable: ConnectError")

    read = DownReadSide(MemoryStore())
    async with running_gateway(read=read, pipeline=pipeline_over(read)) as client:
        with structlog.testing.capture_logs():
            response = await client.get(f"{API}/interviews/{uuid.uuid4()}")

    assert response.status_code == 503
    assert error_of(response)["code"] == "store_unavailable"
    assert "ConnectError" not in response.text


async def test_an_unexpected_error_is_a_500_that_leaks_nothing() -> None:
    class BrokenReadSide(StoreReadSide):
        async def get_candidate(self, candidate_id: uuid.UUID) -> None:
            raise RuntimeError("password=hunter2 at db-7.internal")

    read = BrokenReadSide(MemoryStore())
    pipeline = pipeline_over(read)
    async with running_gateway(read=read, pipeline=pipeline, raise_app_exceptions=False) as client:
        with structlog.testing.capture_logs() as logs:
            response = await client.get(f"{API}/candidates/{uuid.uuid4()}")

    assert response.status_code == 500
    assert error_of(response) == {
        "code": "internal_error",
        "message": "An unexpected error occurred.",
        "details": None,
    }
    assert "hunter2" not in response.text
    assert [log["event"] for log in logs] == ["unhandled_error"]


async def test_an_unknown_route_uses_the_error_envelope(gw: Gateway) -> None:
    response = await gw.client.get(f"{API}/nothing-here")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


# ---- documents and probes ----------------------------------------------------------------------


async def test_the_openapi_document_lists_the_routes_and_the_error_model(gw: Gateway) -> None:
    document = (await gw.client.get("/openapi.json")).json()

    paths = document["paths"]
    for path, method in [
        ("/api/v1/candidates", "post"),
        ("/api/v1/candidates/{candidate_id}", "get"),
        ("/api/v1/questions", "get"),
        ("/api/v1/interviews", "post"),
        ("/api/v1/interviews/{interview_id}", "patch"),
        ("/api/v1/interviews/{interview_id}/answers", "post"),
        ("/api/v1/interviews/{interview_id}/events", "get"),
        ("/api/v1/evaluations", "get"),
        ("/api/v1/chat/sessions/{session_id}/messages", "post"),
        ("/health/live", "get"),
    ]:
        assert method in paths.get(path, {}), (method, path)
    assert "ErrorEnvelope" in document["components"]["schemas"]
    conflict = paths["/api/v1/candidates"]["post"]["responses"]["409"]
    assert conflict["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorEnvelope"
    }
    # Every reference resolves (a generated client refuses the document otherwise).
    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(document)))
    assert not refs - set(document["components"]["schemas"])


async def test_the_liveness_probe_answers(gw: Gateway) -> None:
    response = await gw.client.get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readiness_reports_an_unhealthy_store() -> None:
    class SickReadSide(StoreReadSide):
        async def healthy(self) -> bool:
            return False

    read = SickReadSide(MemoryStore())
    async with running_gateway(read=read, pipeline=pipeline_over(read)) as client:
        response = await client.get("/health/ready")

    assert response.status_code == 503
    assert response.json()["checks"]["store"] is False
