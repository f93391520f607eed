"""Where a scenario that lost answers stopped: the state of the consumers behind them.

`Result.of` already notes how many unscored answers were judged on the log (the store is
behind) and how many were not (the evaluator is behind). Each group's state, members and lag
(its committed offsets against the ends of its topics) add whether that consumer is still in
its group and how far behind it stands. The lines go into the scenario's notes, so a failure
that does not come back is at least located.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AsyncExitStack

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from interview_shared.topics import Topic

from interview_faults.system import System, consumer_groups


async def group_notes(system: System) -> list[str]:
    """A note per consumer group of the system: its state, members and committed lag."""
    groups = consumer_groups(system.group.env["CONSUMER_GROUP_PREFIX"], system.backend)
    try:
        return await group_lines(system.infra.bootstrap, groups)
    except Exception as exc:  # a report must not hide the failure it describes
        return [f"group state unavailable ({type(exc).__name__}: {exc})"]


async def group_lines(bootstrap: str, groups: Mapping[str, tuple[Topic, ...]]) -> list[str]:
    """One note per group: its role, state, member count and committed lag."""
    async with AsyncExitStack() as stack:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        stack.push_async_callback(admin.close)
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        await consumer.start()
        stack.push_async_callback(consumer.stop)
        return [await _line(admin, consumer, g, chosen) for g, chosen in groups.items()]


async def _line(
    admin: AIOKafkaAdminClient, consumer: AIOKafkaConsumer, group_id: str, chosen: tuple[Topic, ...]
) -> str:
    partitions = [TopicPartition(t.name, p) for t in chosen for p in range(t.partitions)]
    (described,) = await admin.describe_consumer_groups([group_id])
    # DescribeGroups v0+: (error, group, state, protocol type, protocol, members, ...)
    _, _, state, _, _, members, *_ = described.groups[0]
    committed = await admin.list_consumer_group_offsets(group_id, partitions=partitions)
    ends = await consumer.end_offsets(partitions)
    # A partition the group never committed reads as offset -1 (or is missing): all of it.
    lag = sum(ends[p] - max(0, committed[p].offset if p in committed else 0) for p in partitions)
    role = group_id.rsplit("-", 1)[-1]
    return f"group {role}: {state}, {len(members)} member(s), committed lag {lag}"
