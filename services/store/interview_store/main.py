"""Composition root of the store service: the only module that builds real adapters."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import uvicorn
from fastapi import FastAPI
from interview_shared import topics
from interview_shared.auth import guard_internal_api
from interview_shared.catchup import CatchUp, end_offsets
from interview_shared.keyring import KeyRing, Privacy
from interview_shared.keyring_kafka import following_keys
from interview_shared.logging import configure_logging, get_logger
from interview_shared.messaging import EventProcessor, EventPublisher
from interview_shared.service import broker_check, create_service_app, kafka_broker
from interview_shared.telemetry import tracing

from interview_store.backend import open_store, select_backend
from interview_store.handlers import register_handlers
from interview_store.ingest import BatchIngestor
from interview_store.outcomes import OutcomeAnnouncer
from interview_store.port import Store
from interview_store.progress import kept_offsets_progress
from interview_store.rebuild import plan
from interview_store.routes import router as read_api
from interview_store.settings import StoreSettings

log = get_logger(__name__)


def create_app(
    settings: StoreSettings, *, store: Store | None = None, key_ring: KeyRing | None = None
) -> FastAPI:
    """Build the store service; `store` and `key_ring` replace the real adapters (tests)."""
    group = settings.consumer_group("store")
    privacy = Privacy(key_ring)
    opened: list[Store] = []
    durable = (store.backend if store else select_backend(settings)) != "memory"

    @asynccontextmanager
    async def resources(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if key_ring is None:  # every key is read before the first event is
                await stack.enter_async_context(
                    following_keys(privacy, settings, client_id="interview-store")
                )
            active = store or await open_store(settings)
            if store is None:
                stack.push_async_callback(active.close)
            opened.append(active)
            ingestor.attach(active)
            if not durable:
                # Nothing kept, no group: the memory store replays every partition from offset
                # 0 and is ready once it reaches today's end of the log (a PostgreSQL store
                # plans each partition the same way, from its kept offsets, when assigned).
                ends = await end_offsets(settings.kafka_bootstrap_servers, topics.DOMAIN_TOPICS)
                ingestor.catch_up.track(
                    {
                        tp: plan(kept=None, committed=None, begin=0, end=end)
                        for tp, end in ends.items()
                    }
                )
                ingestor.report_progress()
            app.state.store = active
            yield

    broker = kafka_broker(settings, client_id="interview-store")
    publisher = EventPublisher(broker)
    ingestor = BatchIngestor(
        processor=EventProcessor(publisher=publisher, group=group),
        privacy=privacy,
        announcer=OutcomeAnnouncer(publisher),
        outage_deadline_s=settings.outage_deadline_s,
    )
    # Not caught up until the partitions are known: the group's first assignment (PostgreSQL)
    # or the end offsets read in the lifespan (memory).
    ingestor.catch_up = CatchUp.awaiting()
    subscriber = register_handlers(
        broker,
        ingestor=ingestor,
        group=group,
        durable=durable,
        max_records=settings.batch_max_records,
        batch_timeout_ms=settings.batch_timeout_ms,
    )

    async def store_ready() -> bool:
        if not (opened and ingestor.database_available):
            return False
        return await opened[0].healthy()

    async def rebuilt() -> bool:
        return ingestor.catch_up.done

    app = create_service_app(
        title="interview-store",
        description="Persists every domain event and serves the read side.",
        broker=broker,
        checks={"kafka": broker_check(broker), "store": store_ready, "rebuild": rebuilt},
        resources=resources,
        settings=settings,
        ready_details=lambda: {"rebuild": ingestor.report_progress()},
        # Only the PostgreSQL store consumes in a group (the memory store assigns itself its
        # partitions): its watch also reads progress from the offsets kept with its data.
        progress={subscriber: kept_offsets_progress(ingestor)},
    )
    app.include_router(read_api)
    # The read API is for services only: a service key, checked before routing, or a 401.
    guard_internal_api(app, settings)
    return app


def main() -> None:
    """Run the store service (`python -m interview_store.main`)."""
    settings = StoreSettings()
    configure_logging(service="store", level=settings.log_level, fmt=settings.log_format)
    with tracing("interview-store"):  # before create_app: it picks the broker middleware
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
