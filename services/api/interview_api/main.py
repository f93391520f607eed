"""Composition root of the gateway: the only module that builds real adapters."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from typing import Any, TypeVar

import uvicorn
from aiokafka.structs import ConsumerRecord
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.middlewares import AckPolicy
from interview_shared import topics
from interview_shared.batches import IDLE_WAIT_MS, prompt_batches
from interview_shared.blobs import BlobStore, FilesystemBlobStore
from interview_shared.events import EventEnvelope, OutcomeRecorded, decode_event
from interview_shared.keyring import KeyRing, MemoryKeyRing, Privacy
from interview_shared.keyring_kafka import following_keys
from interview_shared.logging import configure_logging, get_logger
from interview_shared.messaging import EventPublisher, RawPublisher
from interview_shared.outcomes import OutcomeHub
from interview_shared.read_client import HttpReadSide, ReadSide
from interview_shared.service import broker_check, create_service_app, kafka_broker
from interview_shared.telemetry import tracing
from pydantic import ValidationError

from interview_api.auth import TokenVerifier
from interview_api.chat_client import ChatSessions, HttpChatSessions
from interview_api.chat_routes import router as chat_router
from interview_api.commands import Commands
from interview_api.console import mount_console
from interview_api.cv_routes import router as cv_router
from interview_api.guards import BodyLimit, RateLimiter
from interview_api.idempotency import Idempotency
from interview_api.live import AppliedGate, LiveEvents
from interview_api.operator_routes import router as operator_router
from interview_api.projection import Projection
from interview_api.resume import KafkaMissedEvents, MissedEvents
from interview_api.review_routes import Reviews
from interview_api.review_routes import router as review_router
from interview_api.routes import router as api_router
from interview_api.settings import GatewaySettings
from interview_api.suggestions import router as suggestions_router
from interview_api.uploads import FORM_OVERHEAD

log = get_logger(__name__)
STREAMED = (topics.INTERVIEWS, topics.ANSWERS, topics.EVALUATIONS)
"""The topics of an interview's SSE stream (all keyed by interview id)."""
LIVE_TOPICS = (*STREAMED, topics.CHAT_REPLIES)
# The tails see every event of the cluster: one handler call per poll, not per message, keeps
# their cost off the requests that wait on them. A record is handed over as soon as it arrives.
TAIL_MAX_RECORDS = 1000
E = TypeVar("E")


def create_app(
    settings: GatewaySettings,
    *,
    read: ReadSide | None = None,
    publisher: RawPublisher | None = None,
    chat_sessions: ChatSessions | None = None,
    blobs: BlobStore | None = None,
    missed: MissedEvents | None = None,
    key_ring: KeyRing | None = None,
) -> FastAPI:
    """Build the gateway; the keyword arguments replace the real adapters (tests).

    A substituted `publisher` means no Kafka: the data keys are then kept in memory too.

    Raises ValueError without JWT_SECRET or JWT_JWKS_URL: the gateway is never open.
    """
    verifier = TokenVerifier(settings)
    live = LiveEvents()
    outcomes = OutcomeHub()
    gate = AppliedGate(live, outcomes, hold_s=settings.read_your_writes_timeout_s)
    http_read = HttpReadSide(settings.store_url, service_key=settings.service_api_key)
    read_side: ReadSide = read or http_read
    projection = Projection(read_side, size=settings.projection_size)
    ring = key_ring or (MemoryKeyRing() if publisher is not None else None)
    # Without a ring the lifespan starts the Kafka one; the gateway is the one that makes keys.
    privacy = Privacy(ring, creates_keys=True)

    @asynccontextmanager
    async def resources(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if read is None:
                await stack.enter_async_context(http_read)
            if ring is None:
                await stack.enter_async_context(
                    following_keys(privacy, settings, client_id="interview-gateway", writer=True)
                )
            app.state.chat_sessions = chat_sessions or await stack.enter_async_context(
                HttpChatSessions(settings.chat_url, service_key=settings.service_api_key)
            )
            app.state.read = read_side
            app.state.blobs = blobs or FilesystemBlobStore(settings.blob_dir)
            app.state.live = live
            app.state.projection = projection
            app.state.outcomes = outcomes
            app.state.settings = settings
            app.state.commands = Commands(
                projection=projection,
                outcomes=outcomes,
                publisher=EventPublisher(publisher or broker, privacy=privacy),
                keys=privacy.ring,
                wait_s=settings.read_your_writes_timeout_s,
                publish_timeout_s=settings.publish_timeout_s,
            )
            app.state.reviews = Reviews(commands=app.state.commands, read=read_side)
            sweeper = asyncio.create_task(_expire_held_frames(gate))
            stack.callback(sweeper.cancel)
            yield

    broker = kafka_broker(settings, client_id="interview-gateway")
    _tail_live_topics(broker, gate, privacy)
    _tail_outcomes(broker, outcomes, projection, gate)

    async def store_ready() -> bool:
        return await read_side.healthy()

    app = create_service_app(
        title="AI Interview Backend",
        description="The gateway: validates requests, publishes events to Kafka, streams results.",
        broker=broker,
        checks={"kafka": broker_check(broker), "store": store_ready},
        resources=resources,
        service="interview-api",
    )
    app.state.verifier = verifier
    app.state.missed = missed or KafkaMissedEvents(
        settings.kafka_bootstrap_servers, STREAMED, privacy=privacy
    )
    app.state.limiter = RateLimiter(settings.rate_limit_per_minute)
    app.include_router(api_router)
    app.include_router(suggestions_router)
    app.include_router(chat_router)
    app.include_router(cv_router)
    mount_console(app)
    app.include_router(operator_router)
    app.include_router(review_router)
    # Outermost last: CORS, then the body limit (before anything reads a body), then the
    # idempotency replay, then routing.
    app.add_middleware(Idempotency, verifier=verifier, ttl_s=settings.idempotency_ttl_s)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        # Uploads (recordings, CVs) have their own, larger limits, checked where they are read.
        multipart_max_bytes=max(settings.audio_max_bytes, settings.cv_max_bytes) + FORM_OVERHEAD,
    )
    if origins := [o.strip() for o in settings.cors_origins.split(",") if o.strip()]:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "Accept",
                "Idempotency-Key",
                "Last-Event-ID",
                "X-Correlation-ID",
                "X-Request-ID",
            ],
        )
    return app


async def _expire_held_frames(gate: AppliedGate) -> None:
    with suppress(asyncio.CancelledError):
        while True:
            await asyncio.sleep(0.5)
            gate.expire()


def _tail_outcomes(
    broker: KafkaBroker, outcomes: OutcomeHub, projection: Projection, gate: AppliedGate
) -> None:
    # No consumer group, from the latest offset: every replica sees every outcome and picks out
    # those of its own requests (a future per event id); it commits nothing, hence ACK_FIRST.
    subscriber = broker.subscriber(
        topics.OUTCOMES.name,
        auto_offset_reset="latest",
        ack_policy=AckPolicy.ACK_FIRST,
        batch=True,
        max_records=TAIL_MAX_RECORDS,
        batch_timeout_ms=IDLE_WAIT_MS,
        title="gateway-outcomes",
        description="Resolves waiting writes, feeds the projection and releases SSE frames.",
    )

    @prompt_batches(subscriber)
    async def follow(message: KafkaMessage) -> None:
        # Every replica sees every outcome of the cluster: decode only those it has a use for.
        def wanted(record: ConsumerRecord[Any, Any]) -> bool:
            subject, kind = _header(record, "subject_event_id"), _header(record, "subject_type")
            if (
                subject is None
                or kind is None
                or kind.startswith(("interview.", "question.", "candidate.erased"))
            ):
                return True
            return outcomes.awaits(subject) or gate.watched(_key(record))

        for outcome in _decoded(message, OutcomeRecorded, wanted):
            outcomes.seen(outcome)
            projection.observe(outcome)
            gate.outcome(outcome)


def _tail_live_topics(broker: KafkaBroker, gate: AppliedGate, privacy: Privacy) -> None:
    # No consumer group: every gateway replica sees every event (a broadcast) and commits
    # nothing, so ACK_FIRST is right here; SSE streams what happens from now on.
    subscriber = broker.subscriber(
        *(topic.name for topic in LIVE_TOPICS),
        auto_offset_reset="latest",
        ack_policy=AckPolicy.ACK_FIRST,
        batch=True,
        max_records=TAIL_MAX_RECORDS,
        batch_timeout_ms=IDLE_WAIT_MS,
        title="gateway-live-events",
        description="Fans live events out to SSE streams by aggregate id.",
    )

    @prompt_batches(subscriber)
    async def relay(message: KafkaMessage) -> None:
        # Only what an open stream watches is decoded (the owning consumers dead-letter poison).
        for event in _decoded(message, EventEnvelope, lambda record: gate.watched(_key(record))):
            key = event.key  # of the event as it is on the log: the stream's aggregate id
            opened, _ = await privacy.open(event)  # a client sees what was not erased
            gate.event(key, opened)  # type: ignore[arg-type]  # decoded: one of Event


def _records(message: KafkaMessage) -> Sequence[ConsumerRecord[Any, Any]]:
    records = message.raw_message  # a batch (FastStream's test broker hands it as a list)
    return records if isinstance(records, tuple | list) else (records,)


def _key(record: ConsumerRecord[Any, Any]) -> str:
    key: bytes | None = record.key
    return key.decode() if key else ""


def _header(record: ConsumerRecord[Any, Any], name: str) -> str | None:
    for header, value in record.headers or ():
        if header == name:
            return value.decode() if isinstance(value, bytes) else str(value)
    return None


def _decoded(
    message: KafkaMessage,
    kind: type[E],
    wanted: Callable[[ConsumerRecord[Any, Any]], bool] = lambda _: True,
) -> Iterator[E]:
    for record in _records(message):
        if not wanted(record):
            continue
        try:
            event = decode_event(record.value or b"")
        except ValidationError:
            continue
        if isinstance(event, kind):
            yield event


def main() -> None:
    """Run the gateway (`python -m interview_api.main`)."""
    settings = GatewaySettings()
    configure_logging(service="api", level=settings.log_level, fmt=settings.log_format)
    with tracing("interview-api"):  # before create_app: it picks the broker middleware
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
