"""Restarts a subscriber whose Kafka consumer has silently stopped consuming.

The fault suite caught consumers, after the broker's restarts, alive and polling but receiving
nothing, with no error and no rejoin, so nothing in the process would ever have resumed them.
A task and consumer dump of one (the evaluator's, `task_dump`) located it in aiokafka 0.14: the
group coordinator's lookup waits on a metadata refresh that never completes, while holding the
lock that the heartbeat and every offset commit wait on; the broker drops the member and the
consumer waits forever. Other Kafka clients have had such "zombie" consumers too.

Two signs, each held for `stall_after_s`, stop and start the subscriber again (a new consumer,
a new client, a fresh join; what was not committed is redelivered, and consumers are
idempotent):

* the consumer's group coordinator stays unknown (any group consumer);
* the service's own progress (`ProgressCheck`: the PostgreSQL store's kept offsets) stays put
  while records wait for it, and the service says it is not busy on purpose.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from aiokafka import AIOKafkaConsumer

from interview_shared.background import in_background
from interview_shared.consumer_dump import consumer_states
from interview_shared.lag import OffsetReader
from interview_shared.logging import get_logger
from interview_shared.metrics import CONSUMER_RESTARTS

log = get_logger(__name__)


class RestartableSubscriber(Protocol):
    """The part of FastStream's Kafka subscriber the watch drives."""

    @property
    def consumer(self) -> AIOKafkaConsumer | None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass(frozen=True)
class Progress:
    """How far a service has got on its consumer's partitions, and what waits beyond."""

    applied: Mapping[tuple[str, int], int]
    waiting: int


ProgressCheck = Callable[[OffsetReader, AIOKafkaConsumer], Awaitable[Progress | None]]
"""The service's progress on the consumer's partitions; None: busy on purpose, not a stall."""


class StallWatch:
    """Every `check_every_s` looks at one subscriber's consumer; a stall held for
    `stall_after_s` restarts the subscriber."""

    def __init__(
        self,
        *,
        subscriber: RestartableSubscriber,
        name: str,
        bootstrap_servers: str,
        stall_after_s: float,
        progress: ProgressCheck | None = None,
        check_every_s: float = 5.0,
        call_timeout_s: float = 10.0,
        stop_timeout_s: float = 30.0,
    ) -> None:
        self.subscriber = subscriber
        self._name = name
        self._bootstrap = bootstrap_servers
        self._stall_after_s = stall_after_s
        self._progress = progress
        self._check_every_s = check_every_s
        self._call_timeout_s = call_timeout_s
        self._stop_timeout_s = stop_timeout_s
        self._last: Mapping[tuple[str, int], int] | None = None
        self._still_since = time.monotonic()
        self._lost_coordinator_since: float | None = None
        self._stopped = False  # stopped for a restart, not started again yet
        self.restarts = 0

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Watch in the background while inside."""
        async with in_background(self._loop(), name=f"stall-watch-{self._name}"):
            yield

    async def _loop(self) -> None:
        while True:  # a broker outage must not end the watch: reconnect and look again
            try:
                async with contextlib.AsyncExitStack() as stack:
                    reader = None
                    if self._progress is not None:
                        reader = OffsetReader(self._bootstrap, client_id="interview-stall-watch")
                        await stack.enter_async_context(reader)
                    while True:
                        await asyncio.sleep(self._check_every_s)
                        await self.check(reader)
            except Exception as exc:
                self._forget_progress()
                log.warning("stall_watch_unmeasured", subscriber=self._name, error=repr(exc))
                await asyncio.sleep(self._check_every_s)

    async def check(self, reader: OffsetReader | None) -> bool:
        """One look; whether it (re)started the subscriber."""
        if self._stopped:  # the last restart's start failed (the broker away): try again
            await self._start()
            return True
        consumer = self.subscriber.consumer
        if consumer is None:
            return False
        now = time.monotonic()
        reason = self._coordinator_lost(consumer, now)
        if reason is None and self._progress is not None and reader is not None:
            reason = await self._progress_stalled(reader, consumer, now)
        if reason is None:
            return False
        await self._restart(reason)
        return True

    def _coordinator_lost(self, consumer: AIOKafkaConsumer, now: float) -> str | None:
        # aiokafka's internals, read defensively: a group-less consumer has no coordinator id.
        coordinator = getattr(consumer, "_coordinator", None)
        if coordinator is None or not hasattr(coordinator, "coordinator_id"):
            return None
        if coordinator.coordinator_id is not None:
            self._lost_coordinator_since = None
            return None
        if self._lost_coordinator_since is None:
            self._lost_coordinator_since = now
        lost_s = now - self._lost_coordinator_since
        return (
            f"group coordinator unknown for {lost_s:.0f} s"
            if lost_s >= self._stall_after_s
            else None
        )

    async def _progress_stalled(
        self, reader: OffsetReader, consumer: AIOKafkaConsumer, now: float
    ) -> str | None:
        assert self._progress is not None
        async with asyncio.timeout(self._call_timeout_s):
            progress = await self._progress(reader, consumer)
        if progress is None or progress.waiting == 0 or progress.applied != self._last:
            self._last = None if progress is None else progress.applied
            self._still_since = now
            return None
        still_s = now - self._still_since
        if still_s < self._stall_after_s:
            return None
        return f"{progress.waiting} records waiting, nothing applied for {still_s:.0f} s"

    async def _restart(self, reason: str) -> None:
        # The consumer's own view goes into the log: it is what locates the cause.
        log.error(
            "consumer_stalled_restarting",
            subscriber=self._name,
            reason=reason,
            consumers=consumer_states(),
        )
        CONSUMER_RESTARTS.labels(self._name).inc()
        self.restarts += 1
        self._forget_progress()
        self._lost_coordinator_since = None
        self._stopped = True
        try:
            async with asyncio.timeout(self._stop_timeout_s):
                await self.subscriber.stop()
        except TimeoutError:
            # A wedged coordinator cannot close (its close waits on the lookup that hangs):
            # the old consumer is left behind, and a new one takes its partitions.
            log.warning("stalled_consumer_not_stopped", subscriber=self._name)
        await self._start()

    async def _start(self) -> None:
        async with asyncio.timeout(self._call_timeout_s * 3):
            await self.subscriber.start()
        self._stopped = False
        log.info("consumer_restarted", subscriber=self._name, restarts=self.restarts)

    def _forget_progress(self) -> None:
        self._last = None
        self._still_since = time.monotonic()
