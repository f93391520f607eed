"""The ledger check: every acknowledged answer scored, and scored once.

Two views are counted. The store's (what a user reads through the gateway): one evaluation per
(answer, scorer, rubric version). The log's: distinct evaluation ids per such key on the
evaluations topic; a redelivered verdict repeats its id (ids.py), so a second id would be a
second judgement the store merely happened to keep apart.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from interview_shared import topics

from interview_faults.ledger import Ledger

Key = tuple[uuid.UUID, str, str]
"""(answer id, scorer, rubric version)."""


@dataclass
class Tally:
    """What the store and the log hold for a ledger's answers."""

    scored: set[uuid.UUID] = field(default_factory=set)
    store_rows: dict[Key, int] = field(default_factory=lambda: defaultdict(int))
    log_ids: dict[Key, set[uuid.UUID]] = field(default_factory=lambda: defaultdict(set))
    scored_at: dict[uuid.UUID, float] = field(default_factory=dict)
    """Answer id -> wall time its first verdict reached the log (record timestamp)."""

    def duplicates(self) -> int:
        """Evaluations beyond one per key, in the store or (as distinct ids) on the log."""
        in_store = sum(n - 1 for n in self.store_rows.values() if n > 1)
        on_log = sum(len(ids) - 1 for ids in self.log_ids.values() if len(ids) > 1)
        return in_store + on_log

    def lost(self, ledger: Ledger) -> int:
        """Acknowledged answers the store shows no evaluation for."""
        return len(set(ledger.acknowledged) - self.scored)


async def _evaluations(api: httpx.AsyncClient, interview_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every evaluation of one interview, through the gateway's listing."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"interview_id": str(interview_id), "limit": 100}
        if cursor:
            params["cursor"] = cursor
        response = await api.get("/evaluations", params=params)
        response.raise_for_status()
        page = response.json()
        items += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return items


async def store_tally(api: httpx.AsyncClient, ledger: Ledger, tally: Tally) -> None:
    """Fill `tally` with the store's evaluations of the ledger's answers."""
    tally.scored.clear()
    tally.store_rows.clear()
    for interview_id in ledger.interviews():
        for item in await _evaluations(api, interview_id):
            answer_id = uuid.UUID(item["answer_id"])
            if answer_id not in ledger.acknowledged:
                continue
            lineage = item["lineage"]
            tally.scored.add(answer_id)
            tally.store_rows[(answer_id, lineage["scorer"], lineage["rubric_version"])] += 1


async def drain(
    api: httpx.AsyncClient, ledger: Ledger, *, timeout_s: float, interval_s: float = 1.0
) -> tuple[Tally, float | None]:
    """Wait until every acknowledged answer is scored; (the tally, seconds it took or None)."""
    began = time.monotonic()
    tally = Tally()
    while True:
        try:
            await store_tally(api, ledger, tally)
        except httpx.HTTPError:
            pass  # the gateway or the store is still coming back: ask again
        else:
            if not tally.lost(ledger):
                return tally, time.monotonic() - began
        if time.monotonic() - began > timeout_s:
            return tally, None
        await asyncio.sleep(interval_s)


async def seek_to_start(consumer: AIOKafkaConsumer, partitions: list[TopicPartition]) -> None:
    """Position `partitions` at their first offsets, now (aiokafka's seek_to_beginning is
    resolved lazily: `position()` right after it can report the end)."""
    for partition, offset in (await consumer.beginning_offsets(partitions)).items():
        consumer.seek(partition, offset)


async def log_tally(bootstrap: str, ledger: Ledger, tally: Tally) -> None:
    """Fill `tally` with the verdicts on the evaluations topic about the ledger's answers."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        topic = topics.EVALUATIONS
        partitions = [TopicPartition(topic.name, p) for p in range(topic.partitions)]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await seek_to_start(consumer, partitions)
        async with asyncio.timeout(120):
            while [p for p in partitions if await consumer.position(p) < ends[p]]:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    for record in records:
                        _count_verdict(record.value, record.timestamp, ledger, tally)
    finally:
        await consumer.stop()


def _count_verdict(value: bytes | None, timestamp_ms: int, ledger: Ledger, tally: Tally) -> None:
    try:
        event = json.loads(value or b"{}")
    except ValueError:
        return
    if not isinstance(event, dict) or event.get("type") != "answer.evaluated":
        return
    answer_id = uuid.UUID(event["answer_id"])
    if answer_id not in ledger.acknowledged:
        return
    lineage = event["lineage"]
    key = (answer_id, lineage["scorer"], lineage["rubric_version"])
    tally.log_ids[key].add(uuid.UUID(event["evaluation_id"]))
    first = tally.scored_at.get(answer_id)
    tally.scored_at[answer_id] = min(first or timestamp_ms / 1000, timestamp_ms / 1000)


def latency_p99(ledger: Ledger, tally: Tally, answers: set[uuid.UUID] | None = None) -> float:
    """p99 seconds from the start of an answer's POST to its first verdict on the log (from the
    request, not the acknowledgement: the gateway acknowledges only once the store has the
    answer, by when the verdict is often on the log already)."""
    chosen = answers if answers is not None else set(ledger.acknowledged)
    waits = sorted(tally.scored_at[a] - ledger.sent[a] for a in chosen if a in tally.scored_at)
    if not waits:
        return float("nan")
    return waits[min(len(waits) - 1, round(0.99 * (len(waits) - 1)))]
