"""Replay throughput and its effect on live scoring, on one broker, in one evaluator process.

    uv run python -m interview_evaluator.bench_replay [--answers N] [--live M] [--rate R]
        [--bootstrap HOST:PORT]

Without `--bootstrap` a fresh local Kafka broker is started and stopped at the end. N answers are
produced to the answers topic, then, in the same run and process (a replay runs inside the
evaluator, next to its live consumer):

* live drain: the evaluator's live path (a consumer group on the answers topic, polled in
  batches of 100, `AnswerEvaluator` with the offline scorer, publish, commit) works through the
  N answers; events/s.
* replay: `run_replay` over the same N answers with a new rubric version (so none is skipped),
  reading the log with assigned partitions; events/s. Target: >= 0.8x the live drain.
* live latency: M answers are produced at R/s while the live path runs, once idle and once while
  a replay of the N answers runs; latency is from an answer's `occurred_at` to its verdict's
  acknowledgement. Target: p99 during a replay <= 2x idle.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer
from faststream.kafka import KafkaBroker
from interview_shared import topics
from interview_shared.domain import Rubric
from interview_shared.events import AnswerSubmitted, decode_event, encode_event
from interview_shared.messaging import EventPublisher

from interview_evaluator.bench_service import load_samples, make_events
from interview_evaluator.evaluation import AnswerEvaluator
from interview_evaluator.offline_scorer import OfflineScorer
from interview_evaluator.priority import LiveFirst
from interview_evaluator.replay import submitted_answers
from interview_evaluator.replay_run import ReplayRequest, ReplayScope, read_context, run_replay


async def _produce(broker: KafkaBroker, events: Sequence[AnswerSubmitted], rate: float) -> None:
    gap = 1 / rate if rate else 0.0
    for event in events:
        fresh = event.model_copy(update={"occurred_at": datetime.now(UTC)})
        await broker.publish(encode_event(fresh), topic=event.topic.name, key=event.key.encode())
        if gap:
            await asyncio.sleep(gap)


class LiveLoop:
    """The evaluator's live path in this process: group consumer -> score -> publish -> commit."""

    def __init__(self, bootstrap: str, publisher: EventPublisher, priority: LiveFirst) -> None:
        self._bootstrap = bootstrap
        self._evaluator = AnswerEvaluator(
            scorer=OfflineScorer(), publisher=publisher, priority=priority
        )
        self.done = 0
        self.joined = asyncio.Event()
        """Set once the group has assigned partitions: a trickle produced earlier would time
        the group join, not scoring."""
        self.latencies: dict[str, float] = {}
        """correlation id -> seconds from occurred_at to the verdict's acknowledgement."""

    async def run(self, group: str) -> None:
        consumer = AIOKafkaConsumer(
            topics.ANSWERS.name,
            bootstrap_servers=self._bootstrap,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        try:
            while True:
                batch = await consumer.getmany(timeout_ms=10, max_records=100)
                if consumer.assignment():
                    self.joined.set()
                for records in batch.values():
                    for record in records:
                        await self._one(record.value or b"")
                if batch:
                    await consumer.commit()
        finally:
            await consumer.stop()

    async def _one(self, value: bytes) -> None:
        event = decode_event(value)
        if not isinstance(event, AnswerSubmitted):
            return
        await self._evaluator.evaluate(event)
        self.done += 1
        if event.correlation_id:
            delay = (datetime.now(UTC) - event.occurred_at).total_seconds()
            self.latencies[event.correlation_id] = delay


@contextlib.asynccontextmanager
async def running(loop: LiveLoop, group: str) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(loop.run(group))
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _until(predicate: object, timeout_s: float = 600) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError("the benchmark did not finish in time")
        await asyncio.sleep(0.01)


async def _replay(
    bootstrap: str, publisher: EventPublisher, since: datetime, n: int, priority: LiveFirst
) -> float:
    version = f"bench-{uuid.uuid4().hex[:6]}"
    context = await read_context(bootstrap, since=since, candidates=False)
    request = ReplayRequest(
        replay_id=uuid.uuid4(), scope=ReplayScope(since=since), rubric=Rubric(version=version)
    )
    started = time.perf_counter()
    done = await run_replay(
        submitted_answers(bootstrap, since=since),
        request,
        context=context,
        scorer=OfflineScorer(),
        publisher=publisher,
        priority=priority,
    )
    assert done.evaluated >= n, done
    return done.evaluated / (time.perf_counter() - started)


def _p99(values: Sequence[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


async def bench(args: argparse.Namespace) -> None:
    """Run the three measurements and print them with their ratios."""
    from interview_localinfra import LocalKafka, ensure_topics

    async with contextlib.AsyncExitStack() as stack:
        bootstrap = args.bootstrap
        if not bootstrap:
            bootstrap = (await stack.enter_async_context(LocalKafka())).bootstrap_servers
        await ensure_topics(bootstrap)
        broker = await stack.enter_async_context(KafkaBroker(bootstrap, enable_idempotence=True))
        await broker.start()
        publisher = EventPublisher(broker)
        priority = LiveFirst()  # one evaluator process: its live path and replays share it
        samples, origin = load_samples(None, seed=7)
        since = datetime.now(UTC)
        await _produce(broker, make_events(samples, args.answers, tag="backlog", seed=1), 0)

        live = LiveLoop(bootstrap, publisher, priority)
        started = time.perf_counter()
        async with running(live, f"bench-live-{uuid.uuid4().hex[:6]}"):
            await _until(lambda: live.done >= args.answers)
        drain = args.answers / (time.perf_counter() - started)
        replay = await _replay(bootstrap, publisher, since, args.answers, priority)

        p99s = []
        for during in (False, True):
            loop = LiveLoop(bootstrap, publisher, priority)
            trickle = make_events(samples, args.live, tag=f"live-{during}", seed=2)
            group = f"bench-trickle-{uuid.uuid4().hex[:6]}"
            await _commit_at_end(bootstrap, group)
            async with running(loop, group):
                await asyncio.wait_for(loop.joined.wait(), 60)
                side = asyncio.create_task(
                    _replay(bootstrap, publisher, since, args.answers, priority)
                    if during
                    else asyncio.sleep(0)
                )
                await _produce(broker, trickle, args.rate)
                await _until(lambda lp=loop: len(lp.latencies) >= args.live)
                await side
            p99s.append(_p99(list(loop.latencies.values())))
            cuts = statistics.quantiles(loop.latencies.values(), n=100)
            print(
                f"live latency {'during a replay' if during else 'idle'}: p50 {cuts[49] * 1000:.1f}"
                f" p90 {cuts[89] * 1000:.1f} p99 {cuts[98] * 1000:.1f} ms"
                f" (n={len(loop.latencies)})"
            )

    print(f"answers: {args.answers} backlog ({origin}); live trickle {args.live} at {args.rate}/s")
    print(f"live drain   {drain:8.0f} answers/s")
    print(f"replay       {replay:8.0f} answers/s   ratio {replay / drain:.2f}x (target >= 0.8x)")
    print(f"live p99 idle          {p99s[0] * 1000:7.1f} ms")
    print(
        f"live p99 during replay {p99s[1] * 1000:7.1f} ms   ratio {p99s[1] / p99s[0]:.2f}x "
        "(target <= 2x)"
    )


async def _commit_at_end(bootstrap: str, group: str) -> None:
    """Start a group at the log's end, so the trickle measures only its own answers."""
    from aiokafka import TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    await consumer.start()
    try:
        parts = [TopicPartition(topics.ANSWERS.name, p) for p in range(topics.ANSWERS.partitions)]
        consumer.assign(parts)
        await consumer.commit(dict(await consumer.end_offsets(parts)))
    finally:
        await consumer.stop()


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point (`python -m interview_evaluator.bench_replay`)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--answers", type=int, default=5000)
    parser.add_argument("--live", type=int, default=300)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--bootstrap", default="")
    asyncio.run(bench(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
