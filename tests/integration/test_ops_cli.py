"""The ops CLI as an operator runs it (`python -m interview_localinfra.ops`), on real Kafka."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from interview_localinfra.topics import ensure_topics
from interview_shared import topics
from interview_shared.messaging import DeadLetter

pytestmark = pytest.mark.kafka


async def ops(bootstrap: str, *args: str) -> list[list[str]]:
    """Run the CLI; the cells of every table row it printed (plus other lines, as one cell)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "interview_localinfra.ops",
        *args,
        "--bootstrap",
        bootstrap,
        env={**os.environ, "COLUMNS": "250"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    return [
        [cell.strip() for cell in line.strip("│").split("│")] for line in out.decode().splitlines()
    ]


@pytest.fixture
async def lagging_group(kafka_bootstrap: str) -> AsyncIterator[tuple[str, str]]:
    """(group, topic): a fresh topic with 5 records, the group having committed 2 of them."""
    topic, group = f"ops-{uuid.uuid4().hex[:8]}", f"ops-group-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:
            for i in range(5):
                await producer.send_and_wait(topic, str(i).encode(), partition=0)
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(
            bootstrap_servers=kafka_bootstrap, group_id=group, enable_auto_commit=False
        )
        await consumer.start()
        try:
            consumer.assign([TopicPartition(topic, 0)])
            await consumer.commit({TopicPartition(topic, 0): 2})
        finally:
            await consumer.stop()
        yield group, topic
    finally:
        await admin.delete_topics([topic])
        await admin.close()


async def test_topics_show_their_policies_from_the_broker(kafka_bootstrap: str) -> None:
    await ensure_topics(kafka_bootstrap)
    rows = await ops(kafka_bootstrap, "topics")
    answers = next(r for r in rows if r[0] == topics.ANSWERS.name)
    assert answers[1] == str(topics.ANSWERS.partitions)
    assert answers[3] == "delete"
    assert answers[4] == "forever"  # the catalogue's retention.ms=-1, as read back
    assert "answer.submitted" in answers[6]


async def test_groups_show_lag_per_partition(
    kafka_bootstrap: str, lagging_group: tuple[str, str]
) -> None:
    group, topic = lagging_group
    rows = await ops(kafka_bootstrap, "groups", "--group", group)
    assert [group, topic, "0", "2", "5", "3"] in rows
    assert any(r[0] == "total lag: 3 across 1 groups" for r in rows)


async def test_dead_letters_are_counted_and_inspected(kafka_bootstrap: str) -> None:
    await ensure_topics(kafka_bootstrap)
    group = f"ops-dlq-{uuid.uuid4().hex[:8]}"
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for offset, error in enumerate(("ValidationError", "ValidationError", "PermanentError")):
            letter = DeadLetter(
                consumer_group=group,
                original_topic=topics.ANSWERS.name,
                partition=0,
                offset=offset,
                key=None,
                value_base64="",
                value_preview="not json",
                error_type=error,
                error=f"poison number {offset}",
                attempts=1,
            )
            await producer.send_and_wait(topics.DEAD_LETTER.name, letter.model_dump_json().encode())
    finally:
        await producer.stop()

    counted = await ops(kafka_bootstrap, "dead-letters", "count", "--group", group)
    assert [group, topics.ANSWERS.name, "ValidationError", "2"] in counted
    assert [group, topics.ANSWERS.name, "PermanentError", "1"] in counted
    assert ["total: 3"] in counted

    inspected = await ops(
        kafka_bootstrap, "dead-letters", "inspect", "--group", group, "--limit", "1"
    )
    text = "\n".join(" ".join(r) for r in inspected)
    assert "poison number 2" in text
    assert "poison number 1" not in text, "--limit 1 shows only the newest"
