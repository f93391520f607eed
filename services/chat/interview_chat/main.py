"""Composition root of the chat service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import uvicorn
from fastapi import FastAPI
from interview_shared.logging import configure_logging
from interview_shared.messaging import EventProcessor, EventPublisher
from interview_shared.read_client import HttpReadSide
from interview_shared.service import broker_check, create_service_app, kafka_broker
from interview_shared.telemetry import tracing

from interview_chat.handlers import register_handlers
from interview_chat.interviewer import Interviewer, OfflineInterviewer
from interview_chat.responder import ChatReads, Responder
from interview_chat.settings import ChatSettings


def create_app(
    settings: ChatSettings, *, interviewer: Interviewer | None = None, read: ChatReads | None = None
) -> FastAPI:
    """Build the chat service; `interviewer` and `read` replace the real adapters (tests)."""
    http_read = HttpReadSide(settings.store_url)

    @asynccontextmanager
    async def resources(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if read is None:
                await stack.enter_async_context(http_read)
            yield

    broker = kafka_broker(settings, client_id="interview-chat")
    publisher = EventPublisher(broker)
    register_handlers(
        broker,
        responder=Responder(
            interviewer=interviewer or OfflineInterviewer(),
            read=read or http_read,
            publisher=publisher,
        ),
        processor=EventProcessor(
            publisher=publisher,
            group=settings.consumer_group("chat"),
            max_attempts=settings.consumer_max_attempts,
            backoff_s=settings.consumer_retry_backoff_s,
        ),
        group=settings.consumer_group("chat"),
    )
    return create_service_app(
        title="interview-chat",
        description="The AI interviewer: streams replies to chat messages.",
        broker=broker,
        checks={"kafka": broker_check(broker)},
        resources=resources,
        settings=settings,
    )


def main() -> None:
    """Run the chat service (`python -m interview_chat.main`)."""
    settings = ChatSettings()
    configure_logging(service="chat", level=settings.log_level, fmt=settings.log_format)
    with tracing("interview-chat"):  # before create_app: it picks the broker middleware
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
