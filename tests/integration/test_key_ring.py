"""The key ring on real Kafka: every replica reads every key, an erasure reaches all of them.

Keys are written (acknowledged) before any event sealed with them, so a reader that meets an
unknown subject reads the keys topic to its end and finds the key; once a tombstone is on the
topic no reader, running or started later, can open that candidate's data again.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from interview_shared import pii
from interview_shared.keyring import KeyDestroyedError
from interview_shared.keyring_kafka import KafkaKeyRing

pytestmark = [pytest.mark.kafka]

MASTER = "integration-test-master-key-of-some-length"


@asynccontextmanager
async def ring(bootstrap: str, *, writer: bool = False) -> AsyncIterator[KafkaKeyRing]:
    keys = KafkaKeyRing(bootstrap, master_key=MASTER, client_id="test-keys", writer=writer)
    await keys.start()
    try:
        yield keys
    finally:
        await keys.stop()


async def test_a_key_written_by_one_replica_opens_on_another_until_it_is_destroyed(
    kafka_bootstrap: str,
) -> None:
    ada = uuid.uuid4()
    async with ring(kafka_bootstrap, writer=True) as gateway, ring(kafka_bootstrap) as store:
        key = await gateway.create(ada)
        assert await gateway.create(ada) == key  # a retried registration keeps the key
        token = pii.seal("Ada", key=key, subject=ada, field="name")

        # The store started before the key existed: its first lookup reads to the end.
        assert pii.unseal(token, key=await store.key(ada), field="name") == "Ada"

        await gateway.destroy(ada)
        await store.barrier()
        assert await store.key(ada) is None
        assert store.erased(ada)
        with pytest.raises(KeyDestroyedError):
            await gateway.create(ada)

    async with ring(kafka_bootstrap) as rebuilt:  # a reader started after the erasure
        assert await rebuilt.key(ada) is None
        assert rebuilt.erased(ada)


async def test_an_unknown_subject_has_no_key_and_costs_one_read_to_the_end(
    kafka_bootstrap: str,
) -> None:
    async with ring(kafka_bootstrap) as reader:
        nobody = uuid.uuid4()
        assert await reader.key(nobody) is None
        assert await reader.key(nobody) is None  # remembered: no second barrier
        assert not reader.erased(nobody)


async def test_a_reader_without_the_master_key_opens_nothing(kafka_bootstrap: str) -> None:
    ada = uuid.uuid4()
    async with ring(kafka_bootstrap, writer=True) as gateway:
        await gateway.create(ada)
    other = KafkaKeyRing(kafka_bootstrap, master_key="another-master-key-entirely!", client_id="x")
    await other.start()
    try:
        assert await other.key(ada) is None
    finally:
        await other.stop()
