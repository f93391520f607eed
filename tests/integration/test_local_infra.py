"""The test infrastructure itself: a real Kafka broker and a real PostgreSQL server work."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from interview_localinfra import LocalKafka, LocalPostgres, TopicMismatchError, ensure_topics
from interview_localinfra.containers import kafka_env_name
from interview_localinfra.topic_configs import TopicConfigError, describe_topic_configs
from interview_shared.topics import (
    ALL_TOPICS,
    COMPACTED,
    DEAD_LETTER,
    DOMAIN_TOPICS,
    INTERVIEWS,
    OUTCOMES,
    PartitionKey,
    Topic,
)


@pytest.fixture
async def admin(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaAdminClient]:
    client = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await client.start()
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def scratch_topic(admin: AIOKafkaAdminClient) -> AsyncIterator[str]:
    """A unique topic name, deleted after the test if it was created."""
    name = f"test.localinfra.{uuid.uuid4().hex[:12]}"
    yield name
    if name in await admin.list_topics():
        await admin.delete_topics([name])


def _partition_counts(described: list[dict[str, Any]]) -> dict[str, int]:
    return {t["topic"]: len(t["partitions"]) for t in described}


@pytest.mark.kafka
async def test_message_round_trips_through_the_broker(kafka_bootstrap: str) -> None:
    key, value = uuid.uuid4().bytes, b"hello kafka"
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        sent = await producer.send_and_wait(INTERVIEWS.name, value, key=key)
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap)
    await consumer.start()
    try:
        partition = TopicPartition(INTERVIEWS.name, sent.partition)
        consumer.assign([partition])
        consumer.seek(partition, sent.offset)
        record = await consumer.getone()
    finally:
        await consumer.stop()
    assert (record.key, record.value, record.offset) == (key, value, sent.offset)


@pytest.mark.kafka
async def test_consumer_group_commits_and_resumes(kafka_bootstrap: str) -> None:
    group, key = f"test-group-{uuid.uuid4().hex}", uuid.uuid4().bytes
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        sent = await producer.send_and_wait(DEAD_LETTER.name, b"first", key=key)
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        DEAD_LETTER.name,
        bootstrap_servers=kafka_bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        record = await consumer.getone()
        while record.key != key:  # other tests may have written to this topic earlier
            record = await consumer.getone()
        await consumer.commit()
        committed = await consumer.committed(TopicPartition(DEAD_LETTER.name, sent.partition))
    finally:
        await consumer.stop()
    assert committed == sent.offset + 1


@pytest.mark.kafka
async def test_catalogue_topics_exist_with_their_partition_counts(
    kafka_bootstrap: str, admin: AIOKafkaAdminClient
) -> None:
    counts = _partition_counts(await admin.describe_topics([t.name for t in ALL_TOPICS]))
    assert counts == {t.name: t.partitions for t in ALL_TOPICS}


@pytest.mark.kafka
async def test_ensure_topics_is_idempotent(
    kafka_bootstrap: str, admin: AIOKafkaAdminClient, scratch_topic: str
) -> None:
    topic = Topic(scratch_topic, PartitionKey.INTERVIEW_ID, partitions=2)
    assert await ensure_topics(kafka_bootstrap, [topic]) == [scratch_topic]
    assert await ensure_topics(kafka_bootstrap, [topic]) == []
    assert await ensure_topics(kafka_bootstrap) == []  # the session already made the catalogue
    assert _partition_counts(await admin.describe_topics([scratch_topic])) == {scratch_topic: 2}


@pytest.mark.kafka
async def test_catalogue_retention_is_what_the_broker_reports(
    kafka_bootstrap: str, admin: AIOKafkaAdminClient
) -> None:
    configs = await describe_topic_configs(admin, [t.name for t in ALL_TOPICS])
    for topic in DOMAIN_TOPICS:
        assert configs[topic.name]["retention.ms"] == "-1", topic.name
        assert configs[topic.name]["cleanup.policy"] == "delete", topic.name
    assert configs[DEAD_LETTER.name]["retention.ms"] == "-1"
    assert configs[OUTCOMES.name]["retention.ms"] == str(24 * 60 * 60 * 1000)


async def _configs_once_known(admin: AIOKafkaAdminClient, name: str) -> dict[str, dict[str, str]]:
    """A new topic's configs; the broker answers UNKNOWN_TOPIC until its metadata caught up."""
    for _ in range(100):
        with contextlib.suppress(TopicConfigError):
            return await describe_topic_configs(admin, [name])
        await asyncio.sleep(0.1)
    return await describe_topic_configs(admin, [name])


@pytest.mark.kafka
async def test_ensure_topics_fixes_the_retention_of_an_existing_topic(
    kafka_bootstrap: str, admin: AIOKafkaAdminClient, scratch_topic: str
) -> None:
    await admin.create_topics([NewTopic(scratch_topic, 2, 1)])  # the broker's 7-day default
    before = await _configs_once_known(admin, scratch_topic)
    assert before[scratch_topic]["retention.ms"] == "604800000"
    topic = Topic(scratch_topic, PartitionKey.CANDIDATE_ID, partitions=2, retention=COMPACTED)
    assert await ensure_topics(kafka_bootstrap, [topic]) == []
    after = (await describe_topic_configs(admin, [scratch_topic]))[scratch_topic]
    assert (after["retention.ms"], after["cleanup.policy"]) == ("-1", "compact")


@pytest.mark.kafka
async def test_ensure_topics_rejects_a_topic_with_other_partitions(
    kafka_bootstrap: str, admin: AIOKafkaAdminClient, scratch_topic: str
) -> None:
    await admin.create_topics([NewTopic(scratch_topic, 2, 1)])
    topic = Topic(scratch_topic, PartitionKey.INTERVIEW_ID, partitions=3)
    with pytest.raises(TopicMismatchError, match="has 2 partitions"):
        await ensure_topics(kafka_bootstrap, [topic])


@pytest.mark.kafka
async def test_local_kafka_restart_keeps_topics_and_stops() -> None:
    if shutil.which("java") is None and not os.environ.get("CI"):
        pytest.skip("needs Java 17+ for a private broker")  # in CI: fail, never skip
    kafka = LocalKafka()
    try:
        await kafka.start()
        await ensure_topics(kafka.bootstrap_servers, [DEAD_LETTER])
        pid = kafka.pid
        await kafka.stop()
        assert kafka.pid is None
        assert pid is not None
        assert not _process_alive(pid)
        await kafka.start()  # same ports, same data dir: no re-format
        assert kafka.format_seconds == 0.0
        assert await ensure_topics(kafka.bootstrap_servers, [DEAD_LETTER]) == []
        assert "Kafka Server started" in kafka.log_path.read_text()
    finally:
        await kafka.stop()
        kafka.cleanup()
    assert not kafka.workdir.exists()


def _process_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.postgres
async def test_postgres_round_trip(fresh_database: str) -> None:
    conn = await asyncpg.connect(fresh_database)
    try:
        assert (
            await conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0
        )
        await conn.execute("CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)")
        await conn.execute("INSERT INTO items VALUES ($1, $2)", 1, "one")
        assert await conn.fetchval("SELECT name FROM items WHERE id = 1") == "one"
    finally:
        await conn.close()


@pytest.mark.postgres
async def test_committed_rows_survive_a_crash_and_restart(
    restartable_postgres: LocalPostgres,
) -> None:
    pg = restartable_postgres
    conn = await asyncpg.connect(pg.dsn)
    try:
        await conn.execute("CREATE TABLE events (id int PRIMARY KEY)")
        await conn.executemany("INSERT INTO events VALUES ($1)", [(i,) for i in range(100)])
    finally:
        await conn.close()

    await pg.stop("immediate")  # a crash: no checkpoint, recovery must replay the WAL
    with pytest.raises(ConnectionRefusedError):
        await asyncpg.connect(pg.dsn, timeout=2)
    await pg.start()

    conn = await asyncpg.connect(pg.dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM events") == 100
    finally:
        await conn.close()


def test_container_env_names_follow_the_apache_kafka_image_convention() -> None:
    assert kafka_env_name("offsets.topic.replication.factor") == (
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"
    )
    assert kafka_env_name("a_b-c.d") == "KAFKA_A__B___C_D"
