"""Counts, from the topics themselves, which tagged requests became answers and which were
scored: `answer.submitted` on the answers topic and `answer.evaluated` on the evaluations topic,
matched by the correlation id the load generator set (headers only; nothing is decoded).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from itertools import chain

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition
from interview_shared import topics


class Tally:
    """`async with Tally(bootstrap, prefix)`: reads both topics from their current end."""

    def __init__(self, bootstrap: str, prefix: str) -> None:
        self._prefix = prefix.encode()
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=50
        )
        self.submitted: dict[bytes, float] = {}  # correlation id -> when it was read
        self.evaluated: dict[bytes, float] = {}  # correlation id -> first evaluation read
        self.evaluations: Counter[bytes] = Counter()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Tally:
        await self._consumer.start()
        parts = [
            TopicPartition(topic.name, p)
            for topic in (topics.ANSWERS, topics.EVALUATIONS)
            for p in range(topic.partitions)
        ]
        self._consumer.assign(parts)
        await self._consumer.seek_to_end(*parts)
        for tp in parts:
            await self._consumer.position(tp)  # resolve "end" now, before the load starts
        self._task = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()

    async def _read(self) -> None:
        while True:
            polled = await self._consumer.getmany(timeout_ms=100)
            now = time.perf_counter()
            for record in chain(*polled.values()):
                headers = dict(record.headers)
                tag = headers.get("correlation_id", b"")
                if not tag.startswith(self._prefix):
                    continue
                kind = headers.get("event_type", b"")
                if kind == b"answer.submitted":
                    self.submitted.setdefault(tag, now)
                elif kind == b"answer.evaluated":
                    self.evaluated.setdefault(tag, now)
                    self.evaluations[tag] += 1

    @property
    def lost(self) -> int:
        """Answers submitted but (so far) not scored."""
        return len(self.submitted.keys() - self.evaluated.keys())

    @property
    def duplicates(self) -> int:
        """Evaluations beyond the first for one answer (redeliveries that were scored again)."""
        return sum(n - 1 for n in self.evaluations.values())

    async def until_scored(self, *, at_least: int, timeout_s: float) -> bool:
        """Wait until `at_least` answers are submitted and every submitted one is scored."""
        deadline = time.monotonic() + timeout_s
        while len(self.submitted) < at_least or self.lost:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.1)
        return True
