"""Create the product's Kafka topics from the catalogue, idempotently."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from typing import Any, Final

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from interview_shared.topics import ALL_TOPICS, Topic

from interview_localinfra.topic_configs import apply_retention

# Kafka protocol error codes (org.apache.kafka.common.protocol.Errors).
_NO_ERROR: Final = 0
_TOPIC_ALREADY_EXISTS: Final = 36


class TopicCreationError(RuntimeError):
    """The broker refused to create a topic for a reason other than "it already exists"."""


class TopicMismatchError(RuntimeError):
    """A topic exists with a partition count other than the catalogue's.

    Raised rather than ignored: partition counts bound consumer parallelism and decide which
    partition a key lands on, so a silently different topic breaks ordering assumptions.
    """


def _new_topics(topics: Sequence[Topic], replication_factor: int) -> list[NewTopic]:
    return [
        NewTopic(t.name, t.partitions, replication_factor, topic_configs=t.retention.configs())
        for t in topics
    ]


def _created_names(topic_errors: Iterable[tuple[Any, ...]]) -> list[str]:
    """Names the broker created now; raise for any error except TOPIC_ALREADY_EXISTS.

    aiokafka reports per-topic errors in the response instead of raising.
    """
    created: list[str] = []
    for name, code, *rest in topic_errors:
        if code == _NO_ERROR:
            created.append(name)
        elif code != _TOPIC_ALREADY_EXISTS:
            message = rest[0] if rest else ""
            raise TopicCreationError(f"creating topic {name!r} failed: error {code} {message}")
    return created


def _partition_states(described: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """Topic name -> (partitions, partitions with a leader), for the topics the broker knows."""
    states: dict[str, tuple[int, int]] = {}
    for topic in described:
        if topic["error_code"] != _NO_ERROR:
            continue  # not (yet) in this broker's metadata cache
        partitions = topic["partitions"]
        led = sum(1 for p in partitions if p["error_code"] == _NO_ERROR and p["leader"] >= 0)
        states[topic["topic"]] = (len(partitions), led)
    return states


def _check_partition_counts(states: dict[str, tuple[int, int]], wanted: dict[str, int]) -> None:
    # A topic appears in metadata with all its partitions at once, so any difference is real.
    for name, (total, _) in states.items():
        if name in wanted and total != wanted[name]:
            raise TopicMismatchError(
                f"topic {name!r} has {total} partitions, the catalogue says {wanted[name]}"
            )


async def _wait_until_usable(
    admin: AIOKafkaAdminClient, topics: Sequence[Topic], within_s: float
) -> None:
    """Wait until every topic's partitions all have a leader, so producers can use them at once.

    CreateTopics returns when the controller has recorded the topic; the broker's metadata
    cache catches up a moment later. Also verifies partition counts of pre-existing topics.
    """
    wanted = {t.name: t.partitions for t in topics}
    deadline = time.monotonic() + within_s
    while True:
        states = _partition_states(await admin.describe_topics(list(wanted)))
        _check_partition_counts(states, wanted)
        pending = sorted(n for n, p in wanted.items() if states.get(n, (0, 0))[1] != p)
        if not pending:
            return
        if time.monotonic() >= deadline:
            raise TopicCreationError(f"topics without leaders after {within_s:.0f}s: {pending}")
        await asyncio.sleep(0.1)


async def ensure_topics(
    bootstrap: str,
    topics: Iterable[Topic] = ALL_TOPICS,
    *,
    replication_factor: int = 1,
    timeout_s: float = 30.0,
) -> list[str]:
    """Create any missing ``topics`` on the cluster at ``bootstrap``; return the names created.

    Each topic is created with its catalogue retention, and an existing topic whose configs say
    otherwise is altered to match. Safe to call repeatedly and concurrently. Returns only once
    every topic is usable;
    ``timeout_s`` bounds each broker request and the wait for partition leaders.
    """
    wanted = list(topics)
    if not wanted:
        return []
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000)
    )
    try:
        await admin.start()
        response = await admin.create_topics(_new_topics(wanted, replication_factor))
        created = _created_names(response.topic_errors)
        await _wait_until_usable(admin, wanted, timeout_s)
        await apply_retention(admin, wanted)
    finally:
        await admin.close()
    return created
