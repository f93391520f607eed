"""The key ring on a compacted Kafka topic (`interview.keys.v1`), one record per candidate.

Every service follows the whole topic from the beginning without a consumer group, so each
replica holds every key that exists and learns of an erasure (a tombstone) as soon as the
broker has it. A reader that meets an unknown subject first reads the topic up to its current
end (a read barrier): a writer puts a candidate's key on this topic, acknowledged, before any
event sealed with it, so after the barrier a missing key is a destroyed one.

Keys are wrapped (AES-256-GCM) with a key-encryption key derived from `PII_MASTER_KEY`, which
lives only in the services' secrets, so the topic's files and backups alone open nothing. A
tombstone leaves the record to compaction (`topics.SHREDDING` bounds how long that takes).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from cachetools import LRUCache
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from interview_shared import pii, topics
from interview_shared.keyring import KeyDestroyedError, Privacy
from interview_shared.logging import get_logger
from interview_shared.settings import ServiceSettings

log = get_logger(__name__)


class KeyWrapper:
    """Wraps data keys with the key-encryption key (or, without a master key, does not)."""

    def __init__(self, master_key: str | None) -> None:
        self._kek: bytes | None = None
        self.fingerprint: str | None = None
        if master_key:
            self._kek = HKDF(
                algorithm=hashes.SHA256(), length=32, salt=None, info=b"interview-kek-v1"
            ).derive(master_key.encode())
            self.fingerprint = hashlib.sha256(self._kek).hexdigest()[:16]

    def wrap(self, subject: uuid.UUID, key: bytes) -> dict[str, Any]:
        """The record value that keeps `key`."""
        value: dict[str, Any] = {"subject": str(subject), "kek": self.fingerprint}
        if self._kek is None:
            return {**value, "key": base64.b64encode(key).decode()}
        nonce = os.urandom(12)
        wrapped = AESGCM(self._kek).encrypt(nonce, key, subject.bytes)
        return {**value, "wrapped": base64.b64encode(nonce + wrapped).decode()}

    def unwrap(self, subject: uuid.UUID, value: dict[str, Any]) -> bytes | None:
        """The data key in a record value, or None if this wrapper cannot open it."""
        if "key" in value:
            return base64.b64decode(value["key"])
        if self._kek is None or value.get("kek") != self.fingerprint:
            log.error("data_key_unreadable", subject=str(subject), kek=value.get("kek"))
            return None
        raw = base64.b64decode(value["wrapped"])
        return AESGCM(self._kek).decrypt(raw[:12], raw[12:], subject.bytes)


class KafkaKeyRing:
    """Keys by candidate, followed from `interview.keys.v1`; writes are acknowledged by all ISR."""

    def __init__(
        self, bootstrap: str, *, master_key: str | None, client_id: str, writer: bool = False
    ) -> None:
        self._bootstrap = bootstrap
        self._client_id = client_id
        self._wrapper = KeyWrapper(master_key)
        self._writer = writer
        self._keys: dict[uuid.UUID, bytes] = {}
        self._destroyed: set[uuid.UUID] = set()
        self._absent: LRUCache[uuid.UUID, bool] = LRUCache(100_000)
        self._positions: dict[TopicPartition, int] = {}
        self._moved = asyncio.Condition()
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._follow: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Read every key there is, then follow the topic."""
        if self._wrapper.fingerprint is None:
            log.warning("pii_master_key_unset", detail="data keys are kept unwrapped")
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            client_id=f"{self._client_id}-keys",
            enable_auto_commit=False,
        )
        await consumer.start()
        self._consumer = consumer
        parts = [TopicPartition(topics.KEYS.name, p) for p in range(topics.KEYS.partitions)]
        consumer.assign(parts)
        for tp in parts:  # explicit offsets: seek_to_beginning is lazy
            consumer.seek(tp, 0)
            self._positions[tp] = 0
        if self._writer:
            self._producer = AIOKafkaProducer(
                bootstrap_servers=self._bootstrap,
                client_id=f"{self._client_id}-keys",
                acks="all",
                enable_idempotence=True,
            )
            await self._producer.start()
        self._follow = asyncio.create_task(self._run(), name="keyring-follow")
        await self.barrier()

    async def stop(self) -> None:
        """Stop following and close the clients."""
        if self._follow is not None:
            self._follow.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follow
        if self._producer is not None:
            await self._producer.stop()
        if self._consumer is not None:
            await self._consumer.stop()

    async def key(self, subject: uuid.UUID) -> bytes | None:
        """The subject's key; an unknown subject is looked for up to the topic's end first."""
        if (found := self._keys.get(subject)) is not None:
            return found
        if subject in self._destroyed or subject in self._absent:
            return None
        await self.barrier()
        found = self._keys.get(subject)
        if found is None and subject not in self._destroyed:
            self._absent[subject] = True
        return found

    async def create(self, subject: uuid.UUID) -> bytes:
        """The subject's key, made and acknowledged on the topic first if it has none."""
        if (found := await self.key(subject)) is not None:
            return found
        if subject in self._destroyed:
            raise KeyDestroyedError(subject)
        key = pii.new_data_key()
        value = json.dumps(
            {**self._wrapper.wrap(subject, key), "created_at": datetime.now(UTC).isoformat()}
        )
        await self._send(subject, value.encode())
        self._absent.pop(subject, None)
        return self._keys.setdefault(subject, key)

    async def destroy(self, subject: uuid.UUID) -> None:
        """Put the subject's tombstone on the topic (acknowledged) and forget the key."""
        await self._send(subject, None)
        self._forget(subject)

    def erased(self, subject: uuid.UUID) -> bool:
        """Whether a tombstone of the subject has been read (or written) here."""
        return subject in self._destroyed

    async def barrier(self) -> None:
        """Return once every record on the topic when called has been read."""
        consumer = self._consumer
        if consumer is None:
            raise RuntimeError("the key ring is not started")
        ends = await consumer.end_offsets(list(self._positions))
        async with self._moved:
            await self._moved.wait_for(
                lambda: all(self._positions[tp] >= end for tp, end in ends.items())
            )

    async def _send(self, subject: uuid.UUID, value: bytes | None) -> None:
        if self._producer is None:
            raise RuntimeError("this key ring does not write")
        await self._producer.send_and_wait(topics.KEYS.name, value=value, key=str(subject).encode())

    async def _run(self) -> None:
        consumer = self._consumer
        assert consumer is not None
        while True:
            try:
                batches = await consumer.getmany(timeout_ms=200, max_records=1000)
                for records in batches.values():
                    for record in records:
                        self._apply(record.key, record.value)
                positions = {tp: await consumer.position(tp) for tp in self._positions}
            except asyncio.CancelledError:
                raise
            except Exception:  # the broker away: keep what is known, try again
                log.exception("keyring_follow_failed")
                await asyncio.sleep(1.0)
                continue
            async with self._moved:
                self._positions.update(positions)
                self._moved.notify_all()

    def _apply(self, raw_key: bytes | None, raw_value: bytes | None) -> None:
        try:
            subject = uuid.UUID((raw_key or b"").decode())
        except ValueError:
            log.warning("keyring_record_without_subject")
            return
        if raw_value is None:
            self._forget(subject)
            return
        if subject in self._destroyed:
            return  # a key record read after its tombstone cannot be one it replaced
        key = self._wrapper.unwrap(subject, json.loads(raw_value))
        if key is not None:
            self._keys[subject] = key
            self._absent.pop(subject, None)

    def _forget(self, subject: uuid.UUID) -> None:
        self._keys.pop(subject, None)
        self._destroyed.add(subject)


def kafka_key_ring(
    settings: ServiceSettings, *, client_id: str, writer: bool = False
) -> KafkaKeyRing:
    """The key ring a service's settings describe (`writer`: it creates and destroys keys)."""
    master = settings.pii_master_key
    return KafkaKeyRing(
        settings.kafka_bootstrap_servers,
        master_key=master.get_secret_value() if master is not None else None,
        client_id=client_id,
        writer=writer,
    )


@asynccontextmanager
async def following_keys(
    privacy: Privacy, settings: ServiceSettings, *, client_id: str, writer: bool = False
) -> AsyncIterator[KafkaKeyRing]:
    """Start the settings' key ring (every key read), hand it to `privacy`, stop it after."""
    ring = kafka_key_ring(settings, client_id=client_id, writer=writer)
    await ring.start()
    privacy.ring = ring
    try:
        yield ring
    finally:
        await ring.stop()
