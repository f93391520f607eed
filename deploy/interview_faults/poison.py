"""R4: poison messages among good traffic, and what the dead-letter topic holds afterwards."""

from __future__ import annotations

import asyncio
import json
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from interview_shared import topics

from interview_faults.check import drain, latency_p99, log_tally, seek_to_start
from interview_faults.client import gateway_client
from interview_faults.load import AnswerStream, interviews_in_progress
from interview_faults.result import Result
from interview_faults.system import System

# p99 is compared with a clean run of the same stream, but never with less than this: below it
# the difference is scheduling noise of a loaded 2-core machine, not a blocked partition.
P99_FLOOR_S = 0.25
RATE = 20.0


def poison_values(marker: str, count: int) -> list[bytes]:
    """`count` records no consumer can use: bytes, broken JSON, an answer missing its fields."""
    kinds = [
        lambda i: f"\x00\xff not json {marker} {i}".encode("utf-8", "surrogateescape"),
        lambda i: f'{{"type": "answer.submitted", "marker": "{marker}-{i}"'.encode(),
        lambda i: json.dumps(
            {"type": "answer.submitted", "version": 1, "event_id": str(uuid.uuid4()), "n": i}
        ).encode(),
        lambda i: json.dumps(
            {"type": "answer.submitted", "version": 99, "marker": marker}
        ).encode(),
    ]
    return [kinds[i % len(kinds)](i) for i in range(count)]


async def inject(bootstrap: str, marker: str, count: int, *, over_s: float) -> None:
    """Produce `count` poison records to the answers topic, spread over `over_s` seconds."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        for i, value in enumerate(poison_values(marker, count)):
            key = f"{marker}-{i}".encode()  # spread over the partitions by key
            await producer.send_and_wait(topics.ANSWERS.name, value, key=key)
            await asyncio.sleep(over_s / count)
    finally:
        await producer.stop()


async def dead_letters(
    bootstrap: str, marker: str = "", *, group: str | None = None
) -> list[dict[str, object]]:
    """Every dead letter whose key starts with `marker` (and of `group`, when given)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    found = []
    try:
        partition = TopicPartition(topics.DEAD_LETTER.name, 0)
        consumer.assign([partition])
        end = (await consumer.end_offsets([partition]))[partition]
        await seek_to_start(consumer, [partition])
        async with asyncio.timeout(60):
            while await consumer.position(partition) < end:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    letters = (json.loads(r.value) for r in records if r.value)
                    found += [
                        x
                        for x in letters
                        if str(x.get("key") or "").startswith(marker)
                        and (group is None or x.get("consumer_group") == group)
                    ]
    finally:
        await consumer.stop()
    return found


async def r4_poison(system: System, *, count: int = 20, answers: int = 120) -> Result:
    """R4: `count` poison records among `answers` good ones; all dead-lettered after at most 3
    attempts by every consumer of the topic, good traffic's p99 at most 2x a clean run."""
    bootstrap = system.infra.bootstrap
    marker = f"poison-{uuid.uuid4().hex[:8]}"
    async with gateway_client(system.gateway_port, token=system.token) as api:
        targets = await interviews_in_progress(api, 6)
        clean = await AnswerStream(api, targets, rate_per_s=RATE).send(answers)
        clean_tally, _ = await drain(api, clean, timeout_s=120)
        stream = AnswerStream(api, targets, rate_per_s=RATE)
        poisoned, _ = await asyncio.gather(
            stream.send(answers), inject(bootstrap, marker, count, over_s=answers / RATE * 0.8)
        )
        tally, drained = await drain(api, poisoned, timeout_s=120)
    await log_tally(bootstrap, clean, clean_tally)
    await log_tally(bootstrap, poisoned, tally)
    result = Result.of("R4 20 poison messages", system.backend, poisoned, tally, drained)
    prefix = system.group.env["CONSUMER_GROUP_PREFIX"]
    letters = await dead_letters(bootstrap, marker)
    for role in ("store", "evaluator"):
        mine = [x for x in letters if x["consumer_group"] == f"{prefix}-{role}"]
        keys = {x["key"] for x in mine}
        worst = max((int(str(x["attempts"])) for x in mine), default=0)
        result.require(f"all {count} dead-lettered by the {role}", len(keys) == count)
        result.require(f"{role}: at most 3 attempts", worst <= 3)
        result.notes.append(f"{role} dead-lettered {len(keys)}/{count}, max attempts {worst}")
    p99_clean, p99 = latency_p99(clean, clean_tally), latency_p99(poisoned, tally)
    result.require("p99 at most 2x a clean run", p99 <= 2 * max(p99_clean, P99_FLOOR_S))
    result.notes.append(f"p99 {p99:.2f} s vs clean {p99_clean:.2f} s")
    return result
