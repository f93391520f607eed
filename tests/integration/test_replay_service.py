"""A replay asked for on the log is run by the evaluator's replay handler, against real Kafka."""

from __future__ import annotations

import asyncio
import functools
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from faststream.kafka import KafkaBroker
from interview_evaluator.offline_scorer import OfflineScorer
from interview_evaluator.replay_service import ReplayRunner, register_replay_handler
from interview_shared import topics
from interview_shared.events import (
    InterviewCreated,
    ReplayFinished,
    ReplayRequested,
    ReplayScope,
)
from interview_shared.messaging import EventPublisher
from support import commit_group_at_end, matching, tail
from test_rescore import answer, publish, verdicts_for

pytestmark = [pytest.mark.kafka]


def _finished(value: dict[str, object], replay_id: str) -> bool:
    return value["type"] == "replay.finished" and value["replay_id"] == replay_id


async def test_a_requested_replay_runs_reports_and_is_idempotent(kafka_bootstrap: str) -> None:
    start = datetime.now(UTC) - timedelta(seconds=1)
    interview_id = uuid.uuid4()
    # The interview's creation says which organisation it is in: a replay judges only its own.
    created = InterviewCreated(
        interview_id=interview_id, candidate_id=uuid.uuid4(), title="T", question_ids=()
    )
    elsewhere = InterviewCreated(
        interview_id=uuid.uuid4(), candidate_id=uuid.uuid4(), title="T", question_ids=(),
        org_id="globex",
    )  # fmt: skip
    answers = [answer(interview_id, f"Answer {n}.") for n in range(3)]
    await publish(
        kafka_bootstrap, created, elsewhere, *answers, answer(elsewhere.interview_id, "Theirs.")
    )
    group = f"test-replays-{uuid.uuid4().hex[:8]}"
    await commit_group_at_end(kafka_bootstrap, group, topics.REPLAYS)
    scope = ReplayScope(since=start, interview_ids=(interview_id, elsewhere.interview_id))
    requests = [
        ReplayRequested(replay_id=uuid.uuid4(), scope=scope),
        ReplayRequested(replay_id=uuid.uuid4(), scope=scope),
        ReplayRequested(replay_id=uuid.uuid4(), scope=scope, scorer="gpt-judge"),
    ]

    broker = KafkaBroker(kafka_bootstrap)
    publisher = EventPublisher(broker)
    runner = ReplayRunner(
        bootstrap=kafka_bootstrap,
        scorer=OfflineScorer(),
        publisher=publisher,
        report_every_s=0.05,
    )
    register_replay_handler(broker, runner, group=group)
    async with tail(kafka_bootstrap, topics.REPLAYS) as replays, broker:
        await broker.start()
        finished: list[ReplayFinished] = []
        for request in requests:  # one after the other: the second sees the first's verdicts
            await publisher.publish(request)
            is_done = functools.partial(_finished, replay_id=str(request.replay_id))
            [done] = await matching(replays, is_done, timeout_s=60)
            finished.append(ReplayFinished.model_validate(done))
        # A new group reads the topic from the start: a request that already ran is not rerun.
        again = await runner.run(requests[0], at=await position(kafka_bootstrap, requests[0]))
        await runner.stop()

    first, second, refused = finished
    assert (first.status, first.evaluated, first.skipped) == ("completed", 3, 0)
    assert (second.status, second.evaluated, second.skipped) == ("completed", 0, 3)
    assert refused.status == "failed"
    assert refused.reason is not None
    assert refused.reason.startswith("scorer_unavailable")
    assert len(await verdicts_for(kafka_bootstrap, interview_id, start)) == 3
    assert again is None


async def position(bootstrap: str, request: ReplayRequested) -> tuple[int, int]:
    """Where `request` sits on the replays topic: (partition, offset)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [
            TopicPartition(topics.REPLAYS.name, p) for p in range(topics.REPLAYS.partitions)
        ]
        consumer.assign(partitions)
        for tp, offset in (await consumer.beginning_offsets(partitions)).items():
            consumer.seek(tp, offset)
        async with asyncio.timeout(30):
            while True:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    for r in records:
                        if r.value and json.loads(r.value).get("event_id") == str(request.event_id):
                            return r.partition, r.offset
    finally:
        await consumer.stop()
