"""Batch subscribers that hand records over as they arrive and sleep nothing when idle.

FastStream's batch subscriber polls with `getmany(timeout_ms=batch_timeout_ms)` and, when the
poll comes back empty, sleeps `batch_timeout_ms` more before polling again. aiokafka's
`getmany` already returns as soon as any record is buffered, so that sleep buys nothing: it
adds up to `batch_timeout_ms` to a record that lands during it, and it forces a short timeout
on every low-latency consumer (the gateway's tails used 5 ms), which then wakes ~100 times a
second per subscriber with nothing to do: most of the services' CPU at idle.

`prompt_batches` turns a FastStream batch subscriber into one whose empty poll is the only
wait: `batch_timeout_ms` long (`IDLE_WAIT_MS`, a second, for the gateway's tails), returned
from the moment a record arrives. Stopping the subscriber cancels its loop, so a long wait
never delays shutdown.

Only the gateway's tails use it: a request or an SSE frame waits on them. The evaluator and
the store keep FastStream's loop, whose sleep lets a few records gather into one batch (one
commit, one transaction); at P5's load the benchmark could not tell the two apart within its
run-to-run spread, so the change was not made where it could cost throughput.
"""

from __future__ import annotations

import asyncio
import time
from itertools import chain
from typing import TYPE_CHECKING, Any, TypeVar

from faststream.kafka.subscriber.usecase import BatchSubscriber

if TYPE_CHECKING:
    from aiokafka import AIOKafkaConsumer
    from aiokafka.structs import ConsumerRecord

__all__ = ["IDLE_WAIT_MS", "PromptBatchSubscriber", "prompt_batches"]

IDLE_WAIT_MS = 1000
"""The longest an empty poll waits; a record that arrives meanwhile ends it at once."""

S = TypeVar("S", bound=BatchSubscriber)


class PromptBatchSubscriber(BatchSubscriber):
    """FastStream's batch subscriber without the sleep after an empty poll."""

    __slots__ = ()  # the same layout as its base, so a subscriber's class can be swapped

    async def get_msg(self, consumer: AIOKafkaConsumer) -> tuple[ConsumerRecord[Any, Any], ...]:
        """Whatever is buffered (at most `max_records`), waiting up to `batch_timeout_ms`."""
        began = time.monotonic()
        polled = await consumer.getmany(
            timeout_ms=self.batch_timeout_ms, max_records=self.max_records
        )
        if polled:
            return tuple(chain(*polled.values()))
        # aiokafka comes back empty before the timeout only when the consumer is closing (the
        # next poll raises and ends the loop); should that ever change, never spin.
        left = self.batch_timeout_ms / 1000 - (time.monotonic() - began)
        if left > self.batch_timeout_ms / 2000:
            await asyncio.sleep(left)
        return ()


def prompt_batches(subscriber: S) -> S:
    """The same subscriber, polling as `PromptBatchSubscriber` does (before it starts)."""
    if type(subscriber) is not BatchSubscriber:
        # A FastStream release that builds batch subscribers differently must fail here, at
        # start-up and in the tests, rather than keep its sleep silently.
        raise TypeError(f"not a FastStream batch subscriber: {type(subscriber).__name__}")
    subscriber.__class__ = PromptBatchSubscriber  # type: ignore[assignment]  # same layout
    return subscriber
