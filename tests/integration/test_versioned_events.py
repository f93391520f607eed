"""A log written by an older producer is read through the upcasters, from a real broker."""

from __future__ import annotations

import json
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from interview_localinfra import ensure_topics
from interview_shared.domain import Rubric
from interview_shared.events import QuestionCreated, decode_event, encode_event
from interview_shared.topics import PartitionKey, Topic
from interview_store.memory import MemoryStore

pytestmark = pytest.mark.kafka


def _v1_question(question_id: uuid.UUID, **fields: object) -> bytes:
    """question.created as version 1 wrote it: no `version` bump, rubric optional."""
    payload = {
        "type": "question.created",
        "version": 1,
        "event_id": str(uuid.uuid4()),
        "occurred_at": "2025-03-01T10:00:00Z",
        "question_id": str(question_id),
        "text": "What is a mutex?",
        **fields,
    }
    return json.dumps(payload).encode()


async def _read_all(bootstrap: str, topic: str, count: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, 0)])
        await consumer.seek_to_beginning()
        values: list[bytes] = []
        while len(values) < count:
            batch = await consumer.getmany(timeout_ms=5000)
            assert batch, f"only {len(values)} of {count} records came back"
            values += [r.value for records in batch.values() for r in records if r.value]
        return values
    finally:
        await consumer.stop()


async def test_a_version_1_log_is_read_and_stored_as_version_2(kafka_bootstrap: str) -> None:
    topic = Topic(f"test.versions.{uuid.uuid4().hex[:12]}", PartitionKey.QUESTION_ID, 1)
    await ensure_topics(kafka_bootstrap, [topic])
    bare, ruled, current = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    rubric = {"version": "r5", "criteria": [{"name": "depth", "weight": 1.0}]}
    new = QuestionCreated(question_id=current, text="Q?", rubric=Rubric(version="r9"))
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for value in (_v1_question(bare), _v1_question(ruled, rubric=rubric), encode_event(new)):
            await producer.send_and_wait(topic.name, value)
    finally:
        await producer.stop()

    try:
        events = [decode_event(v) for v in await _read_all(kafka_bootstrap, topic.name, 3)]
    finally:
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        await admin.start()
        await admin.delete_topics([topic.name])
        await admin.close()

    assert [(e.type, e.version) for e in events] == [("question.created", 2)] * 3
    store = MemoryStore()
    await store.apply(events)
    versions = {q: (await store.get_question(q)) for q in (bare, ruled, current)}
    assert {q: s.rubric.version for q, s in versions.items() if s} == {
        bare: "v1",
        ruled: "r5",
        current: "r9",
    }
    stored_bare = versions[bare]
    assert stored_bare is not None
    assert stored_bare.rubric == Rubric()
