"""What each Kafka consumer of this process believes: its group membership and, per partition,
where it reads.

A consumer that polls and gets nothing is invisible in a task dump: its loop sleeps between
empty polls exactly as an idle one does. Whether it still holds a membership, which partitions
it was given, and whether its position is behind the partition's end tell a stall from an idle
consumer. aiokafka exposes none of this publicly, so it is read from its internals, each with a
default: a diagnostic must not fail on the client's next release.
"""

from __future__ import annotations

import gc
from typing import Any

from aiokafka import AIOKafkaConsumer


def consumer_states() -> list[dict[str, Any]]:
    """Every live consumer's group, member, generation and per-partition read state."""
    return [
        _state(obj)
        for obj in gc.get_objects()
        # isinstance on every heap object is the cost of finding them without a registry;
        # this runs only when an operator (or the fault suite) asks for a dump.
        if isinstance(obj, AIOKafkaConsumer)
    ]


def _state(consumer: AIOKafkaConsumer) -> dict[str, Any]:
    coordinator = getattr(consumer, "_coordinator", None)
    fetcher = getattr(consumer, "_fetcher", None)
    heartbeat = getattr(coordinator, "_heartbeat_task", None)
    rejoin = getattr(coordinator, "_rejoin_needed_fut", None)
    return {
        "group": getattr(consumer, "_group_id", None),
        "closed": getattr(consumer, "_closed", None),
        "member": getattr(coordinator, "member_id", None),
        "generation": getattr(coordinator, "generation", None),
        "coordinator": getattr(coordinator, "coordinator_id", None),
        "heartbeating": heartbeat is not None and not heartbeat.done(),
        "rejoin_requested": rejoin is not None and rejoin.done(),
        "metadata_sync": _metadata_sync(getattr(consumer, "_client", None)),
        "fetches_in_flight_to": sorted(getattr(fetcher, "_in_flight", ()) or ()),
        "buffered": sorted(str(tp) for tp in (getattr(fetcher, "_records", None) or {})),
        "partitions": _partitions(consumer),
    }


def _metadata_sync(client: object) -> dict[str, Any]:
    """The client's metadata refresh: a coordinator lookup that fails waits for one."""
    task = getattr(client, "_sync_task", None)
    pending = getattr(client, "_md_update_fut", None)
    waiter = getattr(client, "_md_update_waiter", None)
    failed = task.exception() if task is not None and task.done() and not task.cancelled() else None
    return {
        "task_running": task is not None and not task.done(),
        "task_error": repr(failed) if failed is not None else None,
        "refresh_awaited": pending is not None and not pending.done(),
        "refresh_requested": waiter is not None and waiter.done(),
    }


def _partitions(consumer: AIOKafkaConsumer) -> list[dict[str, Any]]:
    subscription = getattr(getattr(consumer, "_subscription", None), "subscription", None)
    assignment = getattr(subscription, "assignment", None)
    if assignment is None:
        return []
    rows = []
    for tp in sorted(assignment.tps):
        state = assignment.state_value(tp)
        position = state.position if state.has_valid_position else None
        rows.append(
            {
                "partition": f"{tp.topic}:{tp.partition}",
                "status": getattr(getattr(state, "_status", None), "name", None),
                "position": position,
                "highwater": state.highwater,
                "paused": state.paused,
                "awaiting_reset": state.awaiting_reset,
            }
        )
    return rows
