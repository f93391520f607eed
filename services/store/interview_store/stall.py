"""Restarts the store's consumer when it has stopped consuming while records wait for it.

The fault suite caught the PostgreSQL store, after the broker's restarts, alive and polling but
receiving nothing: out of its group on the broker, with no error, no rejoin and no log line, so
nothing in the process would ever have resumed it (other Kafka clients have had such "zombie"
consumers; its cause in aiokafka is not found yet). The evidence that matters is the store's
own: the offsets kept with its data do not move while its partitions' logs grow past them.
Then the subscriber is stopped and started again: a new consumer joins the group, and the
rebalance listener seeks each partition to its kept offset, so nothing is lost or applied twice.

Nothing here runs while a batch is being applied or while the database is down: a batch that
waits out an outage holds the kept offsets still on purpose.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, TopicPartition
from interview_shared.consumer_dump import consumer_states
from interview_shared.lag import OffsetReader
from interview_shared.logging import get_logger
from interview_shared.metrics import STORE_CONSUMER_RESTARTS

from interview_store.ingest import BatchIngestor

log = get_logger(__name__)


class RestartableSubscriber(Protocol):
    """The part of FastStream's Kafka subscriber the watch drives."""

    @property
    def consumer(self) -> AIOKafkaConsumer | None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class StallWatch:
    """Every `check_every_s`, compares the kept offsets of the consumer's partitions with their
    logs' ends; kept offsets behind and unchanged for `stall_after_s` restart the subscriber."""

    def __init__(
        self,
        *,
        subscriber: RestartableSubscriber,
        ingestor: BatchIngestor,
        bootstrap_servers: str,
        stall_after_s: float,
        check_every_s: float = 5.0,
        call_timeout_s: float = 10.0,
    ) -> None:
        self.subscriber = subscriber
        self._ingestor = ingestor
        self._bootstrap = bootstrap_servers
        self._stall_after_s = stall_after_s
        self._check_every_s = check_every_s
        self._call_timeout_s = call_timeout_s
        self._last: dict[tuple[str, int], int] | None = None
        self._unchanged_since = time.monotonic()
        self._stopped = False  # stopped for a restart, not started again yet
        self.restarts = 0

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Watch in the background while inside."""
        task = asyncio.create_task(self._loop())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self) -> None:
        while True:  # a broker outage must not end the watch: reconnect and look again
            try:
                async with OffsetReader(self._bootstrap, client_id="interview-store-watch") as r:
                    while True:
                        await asyncio.sleep(self._check_every_s)
                        await self.check(r)
            except Exception as exc:
                self._forget()
                log.warning("consumer_stall_watch_unmeasured", error=repr(exc))
                await asyncio.sleep(self._check_every_s)

    async def check(self, reader: OffsetReader) -> bool:
        """One look; whether it restarted the subscriber."""
        if self._stopped:  # the last restart's start failed (the broker away): try again
            await self._start()
            return True
        consumer = self.subscriber.consumer
        if consumer is None or self._ingestor.busy or not self._ingestor.database_available:
            self._forget()  # applying, or waiting out an outage: not a stall
            return False
        assigned = sorted(consumer.assignment())
        async with asyncio.timeout(self._call_timeout_s):
            kept = await self._ingestor.consumed_offsets()
            begin, end = await reader.log_offsets(assigned)
        applied = {(tp.topic, tp.partition): max(_next(kept, tp), begin[tp]) for tp in assigned}
        waiting = sum(max(end[tp] - applied[(tp.topic, tp.partition)], 0) for tp in assigned)
        now = time.monotonic()
        if waiting == 0 or applied != self._last or self._ingestor.busy:
            self._last = applied
            self._unchanged_since = now
            return False
        if now - self._unchanged_since < self._stall_after_s:
            return False
        await self._restart(waiting, now - self._unchanged_since)
        return True

    async def _restart(self, waiting: int, still_s: float) -> None:
        # The consumer's own view goes into the log: it is what will locate the cause.
        log.error(
            "consumer_stalled_restarting",
            records_waiting=waiting,
            unchanged_for_s=round(still_s, 1),
            consumers=consumer_states(),
        )
        STORE_CONSUMER_RESTARTS.inc()
        self.restarts += 1
        self._forget()
        self._stopped = True
        async with asyncio.timeout(self._call_timeout_s * 3):
            await self.subscriber.stop()
        await self._start()

    async def _start(self) -> None:
        async with asyncio.timeout(self._call_timeout_s * 3):
            await self.subscriber.start()
        self._stopped = False
        log.info("consumer_restarted", restarts=self.restarts)

    def _forget(self) -> None:
        self._last = None
        self._unchanged_since = time.monotonic()


def _next(kept: Mapping[tuple[str, int], Any], tp: TopicPartition) -> int:
    offset = kept.get((tp.topic, tp.partition))
    return 0 if offset is None else int(offset.next_offset)
