"""Batch subscribers that hand records over as they arrive and sleep nothing after an idle poll."""

from __future__ import annotations

import asyncio
import types
from typing import Any

import pytest
from aiokafka.structs import TopicPartition
from faststream.kafka import KafkaBroker
from faststream.kafka.subscriber import usecase as faststream_usecase
from faststream.kafka.subscriber.usecase import BatchSubscriber
from interview_shared import batches
from interview_shared.batches import IDLE_WAIT_MS, PromptBatchSubscriber, prompt_batches


class Consumer:
    """`getmany` as aiokafka's: records at once if buffered, else {} once the wait is over
    (or sooner when `early`, as when the consumer is closing)."""

    def __init__(self, polls: list[dict[TopicPartition, list[str]]], *, early: bool = False):
        self.polls = polls
        self.early = early
        self.calls: list[tuple[int, int | None]] = []

    async def getmany(self, *, timeout_ms: int, max_records: int | None) -> Any:
        self.calls.append((timeout_ms, max_records))
        polled = self.polls.pop(0) if self.polls else {}
        if not polled and not self.early:
            await asyncio.sleep(timeout_ms / 1000)
        return polled


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The subscriber's own sleeps, ours or FastStream's (the consumer's waits not counted)."""
    taken: list[float] = []

    async def sleep(seconds: float) -> None:
        taken.append(seconds)

    monkeypatch.setattr(batches, "asyncio", types.SimpleNamespace(sleep=sleep))
    monkeypatch.setattr(faststream_usecase, "anyio", types.SimpleNamespace(sleep=sleep))
    return taken


def _subscriber(timeout_ms: int = 40) -> BatchSubscriber:
    broker = KafkaBroker()
    subscriber = broker.subscriber("t", batch=True, max_records=7, batch_timeout_ms=timeout_ms)
    return prompt_batches(subscriber)


def test_a_batch_subscriber_becomes_a_prompt_one_and_keeps_its_settings() -> None:
    subscriber = _subscriber(IDLE_WAIT_MS)
    assert type(subscriber) is PromptBatchSubscriber
    assert (subscriber.batch_timeout_ms, subscriber.max_records) == (IDLE_WAIT_MS, 7)


def test_anything_but_a_batch_subscriber_is_refused() -> None:
    with pytest.raises(TypeError, match="not a FastStream batch subscriber"):
        prompt_batches(KafkaBroker().subscriber("t"))  # type: ignore[type-var]  # the point


async def test_buffered_records_are_handed_over_in_one_tuple(sleeps: list[float]) -> None:
    a, b = TopicPartition("t", 0), TopicPartition("t", 1)
    consumer = Consumer([{a: ["r1", "r2"], b: ["r3"]}])
    got = await _subscriber().get_msg(consumer)
    assert got == ("r1", "r2", "r3")
    assert consumer.calls == [(40, 7)]
    assert sleeps == []


async def test_an_idle_poll_is_the_only_wait(sleeps: list[float]) -> None:
    # FastStream's own batch subscriber sleeps batch_timeout_ms again here: a record arriving
    # during that sleep waited for it, and short timeouts made idle consumers spin.
    consumer = Consumer([])
    assert await _subscriber().get_msg(consumer) == ()
    assert sleeps == []


async def test_a_poll_back_early_and_empty_never_spins(sleeps: list[float]) -> None:
    consumer = Consumer([], early=True)
    assert await _subscriber().get_msg(consumer) == ()
    (slept,) = sleeps  # the rest of the 40 ms it did not wait
    assert 0.02 < slept <= 0.04
