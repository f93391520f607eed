"""The evaluator's producer: aiokafka directly, for the verdicts, reports and dead letters.

Measured under `make bench-evaluator`: FastStream's publish path (a publish command, its
middlewares and codec per message) cost more CPU per verdict than scoring the answer did. The
consumer side stays FastStream's (its ack policy commits after the batch); only sending is
done here, with the same guarantees as `kafka_broker`'s producer: idempotent, acks=all.
"""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaProducer
from interview_shared.telemetry import publish_span


class KafkaSender:
    """`messaging.RawPublisher` over one AIOKafkaProducer, opened and closed in the lifespan."""

    def __init__(self, bootstrap: str, *, client_id: str) -> None:
        self._bootstrap = bootstrap
        self._client_id = client_id
        self._started: AIOKafkaProducer | None = None

    async def start(self) -> None:
        """Connect (the producer is built here: aiokafka binds it to the running loop)."""
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            client_id=self._client_id,
            enable_idempotence=True,
            acks="all",
        )
        await producer.start()
        self._started = producer

    async def stop(self) -> None:
        """Flush what is pending and disconnect."""
        if self._started is not None:
            await self._started.stop()
            self._started = None

    @property
    def _producer(self) -> AIOKafkaProducer:
        if self._started is None:
            raise RuntimeError("the evaluator's producer is not started")
        return self._started

    async def publish(
        self,
        message: Any,
        topic: str = "",
        *,
        key: bytes | Any | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Send one record and wait for its acknowledgement. The record is appended to the
        producer's buffer before the first suspension, so concurrent publishes keep their
        call order (and share produce requests)."""
        with publish_span(topic) as traced:
            every = {**(headers or {}), **traced}
            acked = await self._producer.send(
                topic, message, key=key, headers=[(k, v.encode()) for k, v in every.items()]
            )
            await acked
