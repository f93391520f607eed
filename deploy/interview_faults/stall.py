"""Where a scenario that lost answers stopped: the state of the consumers behind them.

`Result.of` already notes how many unscored answers were judged on the log (the store is
behind) and how many were not (the evaluator is behind). Each group's state, members and lag
(its committed offsets against the ends of its topics) add whether that consumer is still in
its group and how far behind it stands. The lines go into the scenario's notes, so a failure
that does not come back is at least located.
"""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from interview_shared import topics
from interview_shared.topics import Topic

from interview_faults.system import System


async def consumer_groups(system: System) -> list[str]:
    """A note per consumer group of the system: its state, members and committed lag."""
    prefix = system.group.env["CONSUMER_GROUP_PREFIX"]
    groups: dict[str, tuple[Topic, ...]] = {f"{prefix}-evaluator": (topics.ANSWERS,)}
    if system.backend == "postgres":  # the memory store keeps no group
        groups[f"{prefix}-store"] = tuple(topics.DOMAIN_TOPICS)
    try:
        return [
            await group_line(system.infra.bootstrap, group_id, chosen)
            for group_id, chosen in groups.items()
        ]
    except Exception as exc:  # a report must not hide the failure it describes
        return [f"group state unavailable ({type(exc).__name__}: {exc})"]


async def group_line(bootstrap: str, group_id: str, chosen: tuple[Topic, ...]) -> str:
    """One group's note: its state, how many members it has and its committed lag."""
    partitions = [TopicPartition(t.name, p) for t in chosen for p in range(t.partitions)]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_consumer_groups([group_id])
        # DescribeGroups v0+: (error, group, state, protocol type, protocol, members, ...)
        _, _, state, _, _, members, *_ = described.groups[0]
        committed = await admin.list_consumer_group_offsets(group_id, partitions=partitions)
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    # A partition the group never committed reads as offset -1 (or is missing): all of it.
    lag = sum(ends[p] - max(0, committed[p].offset if p in committed else 0) for p in partitions)
    name = group_id.rsplit("-", 1)[-1]
    return f"group {name}: {state}, {len(members)} member(s), committed lag {lag}"
