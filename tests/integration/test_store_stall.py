"""A store consumer that stops receiving with records waiting is restarted and resumes where
its data ends (interview_shared.stall): the fault suite caught one, alive and polling, out of
its group after the broker's restarts, with nothing in the process that would resume it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from interview_shared import topics
from interview_shared.events import CandidateRegistered, encode_event
from interview_shared.stall import StallWatch
from interview_store.main import create_app
from interview_store.settings import StoreSettings
from support import (
    TEST_SERVICE_KEY,
    candidates_in_domain,
    commit_group_at_end,
    eventually,
    keep_offsets_at_end,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


@pytest.fixture
async def store_app(kafka_bootstrap: str, fresh_database: str) -> AsyncIterator[FastAPI]:
    """The PostgreSQL store in this process, starting at the end of the topics, restarting its
    consumer after 2 s without progress."""
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    await commit_group_at_end(kafka_bootstrap, f"{prefix}-store", *topics.DOMAIN_TOPICS)
    await keep_offsets_at_end(kafka_bootstrap, fresh_database, *topics.DOMAIN_TOPICS)
    settings = StoreSettings(
        kafka_bootstrap_servers=kafka_bootstrap,
        consumer_group_prefix=prefix,
        database_url=fresh_database,
        service_api_key=TEST_SERVICE_KEY,
        consumer_stall_restart_s=2.0,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


async def _register(bootstrap: str, domain: str, count: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        for i in range(count):
            event = CandidateRegistered(
                candidate_id=uuid.uuid4(),
                name=f"Stalled {i}",
                email=f"s{uuid.uuid4().hex}@{domain}",
            )
            await producer.send_and_wait(
                event.topic.name, encode_event(event), key=event.key.encode()
            )
    finally:
        await producer.stop()


async def test_a_consumer_that_receives_nothing_with_records_waiting_is_restarted(
    kafka_bootstrap: str, fresh_database: str, store_app: FastAPI
) -> None:
    watch: StallWatch = store_app.state.stall_watches["store-ingest"]
    domain = f"{uuid.uuid4().hex[:10]}.example.com"
    await _register(kafka_bootstrap, domain, 10)
    await eventually(lambda: _has(fresh_database, domain, 10), timeout_s=30)

    # The zombie: the consumer keeps polling and is handed nothing, logging nothing.
    stalled = watch.subscriber.consumer
    assert stalled is not None
    stalled.pause(*stalled.assignment())
    await _register(kafka_bootstrap, domain, 10)
    await asyncio.sleep(1.0)
    assert (
        await candidates_in_domain(fresh_database, domain) == 10
    )  # the pause holds: nothing flows

    await eventually(lambda: _has(fresh_database, domain, 20), timeout_s=30)
    assert watch.restarts == 1
    assert watch.subscriber.consumer is not stalled  # a new consumer, in the group again
    assert (
        await candidates_in_domain(fresh_database, domain) == 20
    )  # every record of the pause, once


async def test_an_idle_store_with_nothing_waiting_is_left_alone(store_app: FastAPI) -> None:
    watch: StallWatch = store_app.state.stall_watches["store-ingest"]
    before = watch.subscriber.consumer
    await asyncio.sleep(4.0)  # twice the stall time, nothing produced
    assert watch.restarts == 0
    assert watch.subscriber.consumer is before


async def _has(dsn: str, domain: str, count: int) -> bool:
    return await candidates_in_domain(dsn, domain) >= count
