"""What the ops CLI reads from Kafka: topics with their policies, groups with lag, dead letters.

Kept apart from the CLI (ops.py) so the reading is tested on its own and the CLI only renders.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Final

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from interview_shared import topics
from interview_shared.lag import OffsetReader, PartitionLag
from interview_shared.messaging import DeadLetter
from pydantic import ValidationError

POLICY_KEYS: Final = ("cleanup.policy", "retention.ms", "retention.bytes", "min.insync.replicas")
_CATALOGUE: Final = {t.name: t for t in topics.ALL_TOPICS}


@dataclass(frozen=True)
class TopicInfo:
    """One topic: its partitions, records currently kept, policies and catalogue description."""

    name: str
    partitions: int
    records: int
    policies: dict[str, str]
    description: str


async def topic_infos(reader: OffsetReader, *, include_internal: bool = False) -> list[TopicInfo]:
    """Every topic on the cluster (catalogue topics first), with policies read from the broker."""
    names = [n for n in await reader.admin.list_topics() if include_internal or n[:2] != "__"]
    names.sort(key=lambda n: (n not in _CATALOGUE, n))
    partitions = await reader.partitions(names)
    start, end = await reader.log_offsets(partitions)
    policies = await _policies(reader, names)
    return [
        TopicInfo(
            name=name,
            partitions=sum(1 for tp in partitions if tp.topic == name),
            records=sum(end[tp] - start[tp] for tp in partitions if tp.topic == name),
            policies=policies.get(name, {}),
            description=_CATALOGUE[name].description if name in _CATALOGUE else "",
        )
        for name in names
    ]


async def _policies(reader: OffsetReader, names: list[str]) -> dict[str, dict[str, str]]:
    if not names:
        return {}
    resources = [ConfigResource(ConfigResourceType.TOPIC, name, None) for name in names]
    found: dict[str, dict[str, str]] = {}
    for response in await reader.admin.describe_configs(resources):
        for resource in response.to_object()["resources"]:
            entries = {e["config_names"]: e["config_value"] for e in resource["config_entries"]}
            found[resource["resource_name"]] = {k: entries.get(k, "") for k in POLICY_KEYS}
    return found


async def group_lags(
    reader: OffsetReader,
    *,
    only: str | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> list[PartitionLag]:
    """Lag of every consumer group (or just `only`) on every partition it has committed on.

    A group's topics are those it committed offsets for; all partitions of those topics are
    listed, so a partition the group never committed on shows its whole log as lag.
    """
    groups = [only] if only else sorted(g[0] for g in await reader.admin.list_consumer_groups())
    lags: list[PartitionLag] = []
    for group in groups:
        committed = await reader.admin.list_consumer_group_offsets(group)
        lags.extend(await reader.group_lag(group, sorted({tp.topic for tp in committed})))
        progress(group)
    return lags


@dataclass(frozen=True)
class Letter:
    """A dead letter with where it sits on the dead-letter topic; `letter` None if unreadable."""

    partition: int
    offset: int
    letter: DeadLetter | None
    raw: bytes


async def dead_letter_total(reader: OffsetReader) -> int:
    """How many records the dead-letter topic holds now (cheap: offsets only)."""
    partitions = await reader.partitions([topics.DEAD_LETTER.name])
    start, end = await reader.log_offsets(partitions)
    return sum(end[tp] - start[tp] for tp in partitions)


async def read_dead_letters(
    bootstrap_servers: str,
    partitions: list[TopicPartition],
    *,
    progress: Callable[[int], None] = lambda _: None,
) -> AsyncIterator[Letter]:
    """Every record now on `partitions` of the dead-letter topic, oldest first, then stop.

    Group-less and without commits: reading dead letters never moves anyone's offsets.
    """
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        remaining = [tp for tp in partitions if await consumer.position(tp) < end[tp]]
        while remaining:
            batches = await consumer.getmany(*remaining, timeout_ms=1000, max_records=500)
            for tp, records in batches.items():
                kept = [r for r in records if r.offset < end[tp]]  # what arrives now waits
                for record in kept:
                    yield _letter(record)
                progress(len(kept))
            remaining = [tp for tp in remaining if await consumer.position(tp) < end[tp]]
    finally:
        await consumer.stop()


def _letter(record: Any) -> Letter:
    raw: bytes = record.value or b""
    try:
        letter: DeadLetter | None = DeadLetter.model_validate_json(raw)
    except ValidationError:
        letter = None  # not written by our EventProcessor; still shown, as raw bytes
    return Letter(partition=record.partition, offset=record.offset, letter=letter, raw=raw)


def tally(letters: list[Letter]) -> Counter[tuple[str, str, str]]:
    """Dead letters counted by (consumer group, original topic, error type)."""
    return Counter(
        (lt.letter.consumer_group, lt.letter.original_topic, lt.letter.error_type)
        if lt.letter is not None
        else ("?", "?", "unreadable")
        for lt in letters
    )
