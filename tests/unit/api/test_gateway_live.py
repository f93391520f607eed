"""Live events: the in-process hub, SSE framing, and a chat reply streamed through the gateway."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
from faststream.kafka import KafkaBroker, TestKafkaBroker
from interview_api.live import LiveEvents
from interview_api.main import create_app
from interview_api.resume import sse_id
from interview_api.settings import GatewaySettings
from interview_api.sse import HEARTBEAT, event_frame, frame, with_heartbeats
from interview_chat.context import ContextLoader
from interview_chat.interviewer import OfflineInterviewer
from interview_chat.responder import Responder, reply_id_for
from interview_chat.state import SessionBook
from interview_shared.domain import InterviewStatus
from interview_shared.events import (
    ChatMessagePosted,
    ChatSessionStarted,
    Event,
    InterviewStatusChanged,
    decode_event,
)
from interview_shared.messaging import EventPublisher
from interview_shared.outcomes import OutcomeHub
from interview_shared.read_client import ReadSide
from interview_shared.read_models import ApplyResult
from interview_store.memory import MemoryStore
from interview_store.outcomes import OutcomeAnnouncer
from support import TEST_JWT_SECRET, bearer


def status_changed(interview_id: uuid.UUID | None = None) -> InterviewStatusChanged:
    return InterviewStatusChanged(
        interview_id=interview_id or uuid.uuid4(), status=InterviewStatus.READY
    )


# ---- LiveEvents --------------------------------------------------------------------------------


async def test_subscribers_receive_only_their_keys_events() -> None:
    live = LiveEvents()
    mine, other = status_changed(), status_changed()
    async with (
        live.subscribe("a") as first,
        live.subscribe("a") as second,
        live.subscribe("b") as b,
    ):
        assert live.subscribers == 3
        live.publish("a", mine)
        live.publish("b", other)
        live.publish("nobody", status_changed())

        assert first.get_nowait() is mine
        assert second.get_nowait() is mine
        assert b.get_nowait() is other
        assert first.empty()
        assert b.empty()
    assert live.subscribers == 0


async def test_a_closed_subscription_receives_nothing() -> None:
    live = LiveEvents()
    async with live.subscribe("a") as queue:
        pass

    live.publish("a", status_changed())

    assert queue.empty()
    assert live.subscribers == 0


async def test_a_subscriber_that_cannot_keep_up_is_cut_off_with_none() -> None:
    live = LiveEvents(queue_size=2)
    events = [status_changed() for _ in range(4)]
    async with live.subscribe("k") as slow, live.subscribe("k") as other:
        live.publish("k", events[0])
        assert other.get_nowait() is events[0]  # `other` keeps up, `slow` does not
        live.publish("k", events[1])
        assert other.get_nowait() is events[1]
        live.publish("k", events[2])  # slow's queue is full: it is cut off
        live.publish("k", events[3])

        assert live.subscribers == 1
        assert [slow.get_nowait(), slow.get_nowait()] == [events[1], None]  # None: end of stream
        assert slow.empty()
        assert [other.get_nowait(), other.get_nowait()] == events[2:]
    assert live.subscribers == 0


# ---- SSE framing -------------------------------------------------------------------------------


def test_a_frame_has_event_id_and_data_lines() -> None:
    text = frame(event="answer.evaluated", data={"score": 80, "note": "a\nb"}, event_id="e-1")

    assert text == 'event: answer.evaluated\nid: e-1\ndata: {"score":80,"note":"a\\nb"}\n\n'


def test_a_frame_without_an_id_has_no_id_line() -> None:
    assert frame(event="stream.open", data={}) == "event: stream.open\ndata: {}\n\n"


def test_an_event_frame_carries_the_event_as_json() -> None:
    event = status_changed()

    event_line, id_line, data_line, *rest = event_frame(event).split("\n")

    assert event_line == "event: interview.status_changed"
    assert id_line == f"id: {sse_id(event)}"
    assert id_line.endswith(str(event.event_id))
    assert decode_event(data_line.removeprefix("data: ")) == event
    assert rest == ["", ""]


async def test_heartbeats_fill_silence_and_none_ends_the_stream() -> None:
    queue: asyncio.Queue[Event | None] = asyncio.Queue()
    event = status_changed()
    seen: list[Event | None] = []

    async for item in with_heartbeats(queue, heartbeat_s=0.01):
        seen.append(item)
        if item is None and event not in seen:
            queue.put_nowait(event)  # after the first heartbeat: one event, then the end
            queue.put_nowait(None)

    assert seen == [None, event]
    assert HEARTBEAT.startswith(":")
    assert HEARTBEAT.endswith("\n\n")


# ---- a chat reply streamed through the gateway -------------------------------------------------


class ChatPipeline:
    """The gateway's publisher: stores each event and, for a chat message, runs the chat
    service's responder, whose replies go to the store and through the (in-memory) Kafka broker
    the gateway tails for live events."""

    def __init__(self, store: MemoryStore, read: ReadSide) -> None:
        self.store = store
        self.broker: KafkaBroker | None = None
        book = SessionBook()
        self.responder = Responder(
            interviewer=OfflineInterviewer(),
            book=book,
            context=ContextLoader(book, read),
            publisher=EventPublisher(self),
            outcomes=OutcomeHub(),
        )

    async def publish(
        self,
        message: Any,
        topic: str = "",
        *,
        key: bytes | Any | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        event = decode_event(message)
        results = await self.store.apply([event])
        if self.broker is not None:
            await self.broker.publish(message, topic, key=key, headers=headers)
            # The store's outcome releases the frame the gateway holds for it.
            announcer = OutcomeAnnouncer(EventPublisher(self.broker))
            await announcer.announce(self.store, [event], results)
        if isinstance(event, ChatMessagePosted):
            await self.responder.respond(event)


class StoreRead(MemoryStore):
    async def event_outcome(self, event_id: uuid.UUID, *, wait_s: float = 0) -> ApplyResult | None:
        return await super().event_outcome(event_id)


def sse_events(body: str) -> list[tuple[str, dict[str, Any]]]:
    """(event, data) of each SSE message in a response body."""
    parsed = []
    for block in body.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            parsed.append((fields["event"], json.loads(fields["data"])))
    return parsed


async def test_a_chat_reply_streams_back_as_server_sent_events() -> None:
    store = StoreRead()
    pipeline = ChatPipeline(store, store)
    settings = GatewaySettings(chat_reply_timeout_s=5, jwt_secret=TEST_JWT_SECRET)
    app = create_app(settings, read=store, publisher=pipeline)
    started = ChatSessionStarted(chat_session_id=uuid.uuid4())
    await store.apply([started])
    async with TestKafkaBroker(app.state.broker), app.router.lifespan_context(app):
        pipeline.broker = app.state.broker
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", headers=bearer()
        ) as client:
            response = await client.post(
                f"/api/v1/chat/sessions/{started.chat_session_id}/messages",
                json={"content": "Hello!"},
                headers={"Accept": "text/event-stream"},
            )
            history = await client.get(f"/api/v1/chat/sessions/{started.chat_session_id}/messages")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.text)
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "chat.message.accepted"
    assert kinds[-1] == "chat.reply.completed"
    assert set(kinds[1:-1]) == {"chat.reply.delta"}
    message_id = uuid.UUID(events[0][1]["message_id"])
    deltas = [data for kind, data in events if kind == "chat.reply.delta"]
    completed = events[-1][1]
    assert [d["index"] for d in deltas] == list(range(len(deltas)))
    assert completed["content"] == "".join(d["delta"] for d in deltas)
    assert completed["reply_id"] == str(reply_id_for(message_id))
    assert completed["content"].startswith("Hello, and welcome")
    # read-your-writes: once the stream ends, the reply is in the history
    roles = [(m["role"], m["content"]) for m in history.json()["items"]]
    assert roles == [("user", "Hello!"), ("assistant", completed["content"])]
