"""Chat session state through the gateway: the policy checks each session, listings are per
organisation, and the chat service's internal API takes only a service key."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from faststream.kafka import TestKafkaBroker
from interview_chat.main import create_app as create_chat_app
from interview_chat.settings import ChatSettings
from interview_shared.auth import SERVICE_KEY_HEADER
from interview_shared.chat_views import ChatSessionView
from interview_shared.events import ChatSessionStarted
from interview_store.memory import MemoryStore
from support import TEST_SERVICE_KEY, StoreReadSide, bearer
from test_gateway_http import API, Gateway, created, error_of, in_progress, pipeline_over
from test_gateway_http import running_gateway as gateway


class RecordingSessions:
    """`ChatSessions` that answers every session as not started and records the listings."""

    def __init__(self) -> None:
        self.listed: list[dict[str, Any]] = []

    async def get(self, session_id: uuid.UUID) -> ChatSessionView | None:
        return ChatSessionView(id=session_id, interview_id=None, state="not_started", messages=0)

    async def list(
        self, *, org_id: str, interview_id: uuid.UUID | None, limit: int, offset: int
    ) -> list[ChatSessionView]:
        self.listed.append({"org_id": org_id, "interview_id": interview_id})
        return []


@pytest.fixture
async def chat_gw() -> AsyncIterator[tuple[Gateway, RecordingSessions]]:
    read = StoreReadSide(MemoryStore())
    pipeline = pipeline_over(read)
    sessions = RecordingSessions()
    async with gateway(read=read, pipeline=pipeline, chat_sessions=sessions) as client:
        yield Gateway(client, pipeline, read.store), sessions


async def test_a_candidate_reads_its_own_session_and_lists_by_its_interview(
    chat_gw: tuple[Gateway, RecordingSessions],
) -> None:
    gw, sessions = chat_gw
    scheduled = await in_progress(gw.client)
    me = bearer("candidate", candidate_id=scheduled["candidate_id"])
    chat = await created(gw.client, "/chat/sessions", {"interview_id": scheduled["id"]})

    state = await gw.client.get(f"{API}/chat/sessions/{chat['id']}", headers=me)
    assert state.status_code == 200, state.text
    listed = await gw.client.get(
        f"{API}/chat/sessions", params={"interview_id": scheduled["id"]}, headers=me
    )
    assert listed.status_code == 200, listed.text
    closed = await gw.client.post(f"{API}/chat/sessions/{chat['id']}/close", headers=me)
    assert closed.status_code == 202, closed.text
    again = await gw.client.post(
        f"{API}/chat/sessions/{chat['id']}/messages", json={"content": "Hi"}, headers=me
    )
    assert error_of(again)["code"] == "chat_session_closed"

    stranger = bearer("candidate", candidate_id=uuid.uuid4())
    hidden = await gw.client.get(f"{API}/chat/sessions/{chat['id']}", headers=stranger)
    assert hidden.status_code == 404
    assert (await gw.client.get(f"{API}/chat/sessions", headers=bearer(org="globex"))).json() == {
        "items": []
    }
    assert sessions.listed == [
        {"org_id": "default", "interview_id": uuid.UUID(scheduled["id"])},
        {"org_id": "globex", "interview_id": None},
    ]


async def test_the_chat_services_internal_api_needs_a_service_key() -> None:
    settings = ChatSettings(service_api_key=TEST_SERVICE_KEY)
    app = create_chat_app(settings, read=StoreReadSide(MemoryStore()), replay=False)
    transport = httpx.ASGITransport(app=app)
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    async with (
        TestKafkaBroker(app.state.broker),
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://chat") as client,
    ):
        app.state.book.fold(ChatSessionStarted(chat_session_id=mine, org_id="default"))
        app.state.book.fold(ChatSessionStarted(chat_session_id=theirs, org_id="globex"))
        path = "/internal/v1/chat/sessions"
        refused = await client.get(path)
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "service_credential_required"
        wrong = await client.get(path, headers={SERVICE_KEY_HEADER: "guessed"})
        assert wrong.status_code == 401
        key = {SERVICE_KEY_HEADER: TEST_SERVICE_KEY}
        listed = await client.get(path, params={"org_id": "globex"}, headers=key)
        assert [s["id"] for s in listed.json()["items"]] == [str(theirs)]
        assert (await client.get("/health/live")).status_code == 200
