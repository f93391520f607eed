"""Composition root of the chat service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import uvicorn
from fastapi import FastAPI
from interview_shared import topics
from interview_shared.auth import guard_internal_api
from interview_shared.catchup import end_offsets
from interview_shared.keyring import KeyRing, MemoryKeyRing, Privacy
from interview_shared.keyring_kafka import following_keys
from interview_shared.logging import configure_logging, get_logger
from interview_shared.messaging import EventProcessor, EventPublisher
from interview_shared.outcomes import OutcomeHub
from interview_shared.read_client import HttpReadSide
from interview_shared.service import broker_check, create_service_app, kafka_broker
from interview_shared.telemetry import tracing

from interview_chat.cancellation import Cancellations
from interview_chat.context import ChatReads, ContextLoader
from interview_chat.dispatch import Dispatcher
from interview_chat.handlers import follow_log, register_handlers
from interview_chat.interviewer import ClosableInterviewer, Interviewer, OfflineInterviewer
from interview_chat.replay import ReplayGate
from interview_chat.responder import Responder
from interview_chat.routes import router
from interview_chat.settings import ChatSettings
from interview_chat.state import SessionBook

log = get_logger(__name__)


def choose_interviewer(settings: ChatSettings) -> Interviewer:
    """The LLM interviewer when a key is set (INTERVIEWER_*, else OPENAI_*), else offline."""
    key = settings.interviewer_key()
    if key is None:
        return OfflineInterviewer()
    # Imported only here: the openai client is ~1 s of CPU at every start of an offline service.
    from interview_chat.llm_interviewer import build_interviewer

    return build_interviewer(
        base_url=settings.interviewer_base_url or settings.openai_base_url,
        api_key=key.get_secret_value(),
        model=settings.interviewer_model or settings.openai_model,
        timeout_s=settings.interviewer_timeout_s,
    )


def create_app(
    settings: ChatSettings,
    *,
    interviewer: Interviewer | None = None,
    read: ChatReads | None = None,
    replay: bool = True,
    key_ring: KeyRing | None = None,
) -> FastAPI:
    """Build the chat service; `interviewer`, `read` and `key_ring` replace the real adapters
    (tests; `replay=False`, FastStream's in-memory broker, implies keys in memory).

    `replay=False` skips waiting for the start-up replay (FastStream's in-memory broker has no
    offsets to wait for).
    """
    http_read = HttpReadSide(settings.store_url, service_key=settings.service_api_key)
    chosen = interviewer or choose_interviewer(settings)
    book, gate, outcomes, cancellations = SessionBook(), ReplayGate(), OutcomeHub(), Cancellations()
    context = ContextLoader(book, read or http_read)
    dispatcher = Dispatcher()
    ring = key_ring or (None if replay else MemoryKeyRing())
    privacy = Privacy(ring)  # without one, the lifespan starts the Kafka key ring

    @asynccontextmanager
    async def resources(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if read is None:
                await stack.enter_async_context(http_read)
            if ring is None:  # every key is read before the first message is
                await stack.enter_async_context(
                    following_keys(privacy, settings, client_id="interview-chat")
                )
            if interviewer is None and isinstance(chosen, ClosableInterviewer):
                stack.push_async_callback(chosen.aclose)
            stack.push_async_callback(dispatcher.drain)  # after the broker stopped consuming
            if replay:
                chat_topics = (topics.CHAT_MESSAGES, topics.CHAT_REPLIES)
                gate.target(await end_offsets(settings.kafka_bootstrap_servers, chat_topics))
            app.state.book = book
            app.state.context = context
            app.state.gate = gate
            yield

    broker = kafka_broker(settings, client_id="interview-chat")
    publisher = EventPublisher(broker, privacy=privacy)
    group = settings.consumer_group("chat")
    responder = Responder(
        interviewer=chosen,
        book=book,
        context=context,
        publisher=publisher,
        outcomes=outcomes,
        cancellations=cancellations,
        max_follow_ups=settings.interviewer_max_follow_ups,
        outcome_wait_s=settings.chat_outcome_wait_s,
    )
    processor = EventProcessor(
        publisher=publisher,
        group=group,
        max_attempts=settings.consumer_max_attempts,
        backoff_s=settings.consumer_retry_backoff_s,
    )
    register_handlers(
        broker,
        responder=responder,
        processor=processor,
        dispatcher=dispatcher,
        book=book,
        gate=gate,
        group=group,
        privacy=privacy,
    )
    follow_log(
        broker,
        book=book,
        cancellations=cancellations,
        outcomes=outcomes,
        gate=gate,
        privacy=privacy,
    )

    async def replayed() -> bool:
        return gate.done

    app = create_service_app(
        title="interview-chat",
        description="The AI interviewer: conducts interviews over chat, streaming its replies.",
        broker=broker,
        checks={"kafka": broker_check(broker), "conversations": replayed},
        resources=resources,
        settings=settings,
    )
    app.include_router(router)
    # The conversation state is for the gateway only: a service key, checked before routing.
    guard_internal_api(app, settings)
    return app


def main() -> None:
    """Run the chat service (`python -m interview_chat.main`)."""
    settings = ChatSettings()
    configure_logging(service="chat", level=settings.log_level, fmt=settings.log_format)
    with tracing("interview-chat"):  # before create_app: it picks the broker middleware
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
