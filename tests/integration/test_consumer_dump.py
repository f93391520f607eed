"""The dump's consumer states (interview_shared.consumer_dump) on a real broker: a member of its
group, reading each partition at its end once it has consumed everything."""

from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaConsumer
from interview_shared.consumer_dump import consumer_states

pytestmark = pytest.mark.kafka


async def test_a_caught_up_member_reports_its_membership_and_positions_at_the_end(
    kafka_bootstrap: str, topic: str
) -> None:
    group = f"dump-{uuid.uuid4().hex[:8]}"
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka_bootstrap, group_id=group, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        consumed = 0
        while consumed < 7:  # the fixture's 5 + 2 records
            batches = await consumer.getmany(timeout_ms=1000)
            consumed += sum(len(records) for records in batches.values())

        [state] = [s for s in consumer_states() if s["group"] == group]
    finally:
        await consumer.stop()

    assert state["member"]
    assert state["generation"] >= 1
    assert state["heartbeating"] is True
    assert state["coordinator"] is not None
    assert [(p["partition"], p["status"], p["position"]) for p in state["partitions"]] == [
        (f"{topic}:0", "CONSUMING", 5),
        (f"{topic}:1", "CONSUMING", 2),
    ]
    assert [p["highwater"] for p in state["partitions"]] == [5, 2]
    assert state["metadata_sync"]["task_running"] is True
    assert state["metadata_sync"]["task_error"] is None
