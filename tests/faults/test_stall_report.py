"""The notes a scenario that lost answers gets: which consumer is behind, and each consumer
group's state and lag."""

from __future__ import annotations

import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from interview_faults.check import Tally
from interview_faults.ledger import Ledger
from interview_faults.result import Result
from interview_faults.stall import group_lines
from interview_faults.system import Infra
from interview_shared.topics import PartitionKey, Topic


async def test_a_group_behind_its_topic_is_noted_with_its_state_and_lag(
    fault_infra: Infra,
) -> None:
    bootstrap = fault_infra.bootstrap
    topic = Topic(f"faults-stall-{uuid.uuid4().hex[:8]}", PartitionKey.INTERVIEW_ID, partitions=2)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:  # the broker creates no topic by itself
        await admin.create_topics([NewTopic(topic.name, topic.partitions, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for partition, count in ((0, 5), (1, 2)):
            for _ in range(count):
                await producer.send_and_wait(topic.name, b"x", partition=partition)
    finally:
        await producer.stop()
    group_id = f"faults-{uuid.uuid4().hex[:8]}-evaluator"
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False
    )
    await consumer.start()
    try:  # the group read 3 of partition 0 and nothing of partition 1 before it left
        consumer.assign([TopicPartition(topic.name, 0)])
        await consumer.commit({TopicPartition(topic.name, 0): 3})
    finally:
        await consumer.stop()
    lines = await group_lines(bootstrap, {group_id: (topic,)})
    assert lines == ["group evaluator: Empty, 0 member(s), committed lag 4"]


def test_a_scenario_that_lost_answers_says_which_consumer_is_behind() -> None:
    ledger = Ledger()
    interview = uuid.uuid4()
    answers = [uuid.uuid4() for _ in range(4)]
    for answer in answers:
        ledger.acknowledge(answer, interview, sent_at=0.0)
    tally = Tally(scored={answers[0]})
    tally.log_ids[(answers[0], "semantic", "v1")].add(uuid.uuid4())
    tally.log_ids[(answers[1], "semantic", "v1")].add(uuid.uuid4())  # judged, not stored
    result = Result.of("R2", "postgres", ledger, tally, None)
    assert not result.passed
    assert "unscored 3: 1 judged on the log (store behind), 2 not (evaluator behind)" in (
        result.notes
    )
