"""Rebuild planning and progress: where each partition starts, what counts as announced, and
the offsets the ingestor keeps with the data (memory store; PostgreSQL in tests/store)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
import structlog
from aiokafka import TopicPartition
from interview_shared.catchup import CatchUp, Replay
from interview_shared.events import CandidateRegistered, EventEnvelope, encode_event
from interview_shared.keyring import MemoryKeyRing, Privacy
from interview_store.ingest import BatchIngestor
from interview_store.memory import MemoryStore
from interview_store.port import KeptOffset
from interview_store.rebuild import SeekToKeptOffsets, plan
from support import consumer_record

TOPIC = "interview.candidates.v1"


@pytest.mark.parametrize(
    ("kept", "committed", "expected"),
    [
        # Empty database, no group: rebuild from the start, all of it announced before.
        (None, None, Replay(start=0, target=100, announced=100)),
        # Empty database, the group had read 60: announce what it had not.
        (None, 60, Replay(start=0, target=100, announced=60)),
        # Kept 80, group 80: resume at 80, announce from 80.
        (KeptOffset(80, 40), 80, Replay(start=80, target=100, announced=80)),
        # Crash between the database commit (80) and the group commit (70): re-apply 70..80
        # (idempotent) and announce it, since it may not have been.
        (KeptOffset(80, 0), 70, Replay(start=70, target=100, announced=70)),
        # A rebuild crashed half-way (group moved back to 30): its old announcements hold.
        (KeptOffset(30, 100), 30, Replay(start=30, target=100, announced=100)),
        # Kept offsets but no group (renamed): resume, and announce what is new.
        (KeptOffset(50, 10), None, Replay(start=50, target=100, announced=50)),
    ],
)
def test_plan(kept: KeptOffset | None, committed: int | None, expected: Replay) -> None:
    assert plan(kept=kept, committed=committed, begin=0, end=100) == expected


def test_plan_never_starts_before_the_log_start() -> None:
    assert plan(kept=None, committed=None, begin=7, end=9).start == 7


def record(offset: int, partition: int = 0, event: EventEnvelope | None = None) -> Any:
    value = encode_event(event) if event is not None else b"not json"
    return consumer_record(topic=TOPIC, partition=partition, offset=offset, value=value)


def test_progress_counts_records_from_each_start_to_its_target() -> None:
    catch_up = CatchUp.awaiting()
    assert not catch_up.done  # no partition assigned yet
    catch_up.track({(TOPIC, 0): Replay(10, 20, 20), (TOPIC, 1): Replay(0, 5, 5)})
    assert catch_up.progress() == {"applied": 0, "target": 15}
    catch_up.seen([record(10), record(11), record(0, partition=1)])
    assert catch_up.progress() == {"applied": 3, "target": 15}
    assert catch_up.replayed(record(19))
    assert not catch_up.replayed(record(20))
    catch_up.drop([(TOPIC, 1)])  # revoked: another replica replays it
    catch_up.seen([record(19)])
    assert catch_up.done
    assert catch_up.progress() == {"applied": 10, "target": 10}


def test_an_assignment_of_no_partitions_is_caught_up() -> None:
    catch_up = CatchUp.awaiting()
    catch_up.track({})
    assert catch_up.done


class Announcer:
    def __init__(self) -> None:
        self.announced: list[uuid.UUID] = []

    async def announce(self, store: Any, events: Any, results: Any) -> None:
        self.announced += [e.event_id for e in events]


class Processor:
    def __init__(self) -> None:
        self.dead: list[int] = []

    async def dead_letter(self, record: Any, error: Exception, *, attempts: int) -> None:
        self.dead.append(record.offset)


def ingestor(store: MemoryStore, announcer: Announcer, processor: Processor) -> BatchIngestor:
    ingest = BatchIngestor(
        processor=processor,  # type: ignore[arg-type]
        announcer=announcer,  # type: ignore[arg-type]
        privacy=Privacy(MemoryKeyRing()),
    )
    ingest.attach(store)
    return ingest


def candidate() -> CandidateRegistered:
    return CandidateRegistered(
        candidate_id=uuid.uuid4(), name="C", email=f"{uuid.uuid4().hex}@example.com"
    )


async def test_a_replay_keeps_offsets_and_announces_only_what_is_new() -> None:
    store, announcer, processor = MemoryStore(), Announcer(), Processor()
    ingest = ingestor(store, announcer, processor)
    ingest.catch_up = CatchUp.awaiting()
    ingest.catch_up.track({(TOPIC, 0): plan(kept=None, committed=2, begin=0, end=4)})
    events = [candidate() for _ in range(4)]
    await ingest.ingest([record(n, event=e) for n, e in enumerate(events)])
    assert announcer.announced == [events[2].event_id, events[3].event_id]
    assert await store.consumed_offsets() == {(TOPIC, 0): KeptOffset(4, 2)}
    assert ingest.catch_up.done
    assert ingest.report_progress() == {"applied": 4, "target": 4}


async def test_poison_keeps_its_offsets_and_is_dead_lettered_once() -> None:
    store, announcer, processor = MemoryStore(), Announcer(), Processor()
    ingest = ingestor(store, announcer, processor)
    ingest.catch_up.track({(TOPIC, 0): Replay(start=0, target=2, announced=1)})
    await ingest.ingest([record(0), record(1)])
    assert processor.dead == [1]  # offset 0 was dead-lettered in an earlier life
    assert await store.consumed_offsets() == {(TOPIC, 0): KeptOffset(2, 1)}
    assert announcer.announced == []


async def test_reply_deltas_are_skipped_by_header_and_their_offsets_kept() -> None:
    store, announcer, processor = MemoryStore(), Announcer(), Processor()
    ingest = ingestor(store, announcer, processor)
    ingest.catch_up.track({(TOPIC, 0): Replay(start=0, target=0, announced=0)})
    event = candidate()
    # The body is not an event: had the ingestor decoded it, it would be dead-lettered.
    delta = consumer_record(
        topic=TOPIC, offset=1, value=b"not json", headers=(("event_type", b"chat.reply.delta"),)
    )
    await ingest.ingest([record(0, event=event), delta])
    assert processor.dead == []
    assert announcer.announced == [event.event_id]
    assert await store.consumed_offsets() == {(TOPIC, 0): KeptOffset(2, 0)}


async def test_kept_offsets_never_move_back() -> None:
    store = MemoryStore()
    await store.apply([], offsets={(TOPIC, 0): KeptOffset(9, 5)})
    await store.apply([], offsets={(TOPIC, 0): KeptOffset(3, 7)})  # a former owner, late
    assert await store.consumed_offsets() == {(TOPIC, 0): KeptOffset(9, 7)}


class StallingConsumer:
    """A consumer whose first `committed` never answers (a group coordinator lost mid-call)."""

    def __init__(self) -> None:
        self.committed_calls = 0
        self.seeks: dict[TopicPartition, int] = {}

    async def committed(self, tp: TopicPartition) -> int | None:
        self.committed_calls += 1
        if self.committed_calls == 1:
            await asyncio.Event().wait()
        return 3

    async def beginning_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        return dict.fromkeys(tps, 0)

    async def end_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        return dict.fromkeys(tps, 5)

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.seeks[tp] = offset


async def test_an_assignment_whose_seek_hangs_is_tried_again_and_completes() -> None:
    ingest = ingestor(MemoryStore(), Announcer(), Processor())
    consumer = StallingConsumer()
    listener = SeekToKeptOffsets(ingest, attempt_timeout_s=0.05)
    listener.consumer = lambda: consumer
    tp = TopicPartition(TOPIC, 0)

    with structlog.testing.capture_logs() as logs:
        async with asyncio.timeout(5):  # without a bound per attempt this waits forever
            await listener.on_partitions_assigned([tp])

    assert consumer.committed_calls == 2
    assert consumer.seeks == {tp: 0}  # nothing kept in memory: rebuild from the start
    assert [e["event"] for e in logs if e["log_level"] == "error"] == [
        "seek_to_kept_offsets_failed"
    ]
