"""A reply's deltas: in order, at most one in flight, the rest coalesced into the next one."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from interview_chat.responder import ReplyStream
from interview_shared.events import ChatMessagePosted, ChatReplyDelta, decode_event
from interview_shared.messaging import EventPublisher


class GatedBroker:
    """A broker whose acknowledgements the test releases one at a time."""

    def __init__(self, *, fail_at: int | None = None) -> None:
        self.sent: list[ChatReplyDelta] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.acks: asyncio.Queue[None] = asyncio.Queue()
        self._fail_at = fail_at

    async def publish(self, message: Any, topic: str = "", **_: Any) -> None:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            event = decode_event(message)
            assert isinstance(event, ChatReplyDelta)
            if len(self.sent) == self._fail_at:
                raise ConnectionError("broker gone")
            self.sent.append(event)
            await self.acks.get()
        finally:
            self.in_flight -= 1


def posted() -> ChatMessagePosted:
    return ChatMessagePosted(chat_session_id=uuid.uuid4(), message_id=uuid.uuid4(), content="Hi")


async def test_the_first_token_leaves_at_once_and_the_rest_wait_for_its_ack() -> None:
    broker = GatedBroker()
    reply = ReplyStream(EventPublisher(broker), posted())

    reply.send("Hello ")
    # No yield to the loop in between, as when the model's chunks arrive already buffered:
    # the first token is still a delta of its own.
    reply.send("there, ")
    reply.send("how ")
    reply.send("are you?")
    await asyncio.sleep(0.01)

    assert [d.delta for d in broker.sent] == ["Hello "]  # one in flight, three held
    broker.acks.put_nowait(None)
    await asyncio.sleep(0.01)
    assert [d.delta for d in broker.sent] == ["Hello ", "there, how are you?"]
    broker.acks.put_nowait(None)
    completed = await reply.completed()

    assert [d.index for d in broker.sent] == [0, 1]
    assert completed.deltas == 2
    assert completed.content == "Hello there, how are you?"
    assert broker.most_in_flight == 1


async def test_tokens_that_arrive_after_an_ack_go_out_on_their_own() -> None:
    broker = GatedBroker()
    reply = ReplyStream(EventPublisher(broker), posted())

    for word in ("one ", "two ", "three "):
        reply.send(word)
        await asyncio.sleep(0.005)
        broker.acks.put_nowait(None)
        await asyncio.sleep(0.005)
    completed = await reply.completed()

    assert [d.delta for d in broker.sent] == ["one ", "two ", "three "]
    assert [d.index for d in broker.sent] == [0, 1, 2]
    assert completed.content == "one two three "


async def test_a_delta_the_broker_refuses_ends_the_reply() -> None:
    broker = GatedBroker(fail_at=1)
    reply = ReplyStream(EventPublisher(broker), posted())
    reply.send("first ")
    await asyncio.sleep(0)
    reply.send("second ")
    broker.acks.put_nowait(None)
    await asyncio.sleep(0.01)  # the second delta failed

    with pytest.raises(ConnectionError):
        reply.send("third ")
    with pytest.raises(ConnectionError):
        await reply.completed()
