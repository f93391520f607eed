"""End-to-end throughput of the evaluator service against a raw Kafka relay, on one broker.

    uv run python -m interview_evaluator.bench_service [--answers N] [--batch-size B]
        [--concurrency C] [--bootstrap HOST:PORT]

Without `--bootstrap` a fresh local Kafka broker is started (`interview_localinfra.LocalKafka`)
and stopped at the end. The same N generated `answer.submitted` events (realistic texts from the
golden development split when it is found, else synthesised) are pushed through each worker, a
separate Python process started from scratch, so every one pays the same costs:

* relay: a bare aiokafka consume -> produce loop with the evaluator's batch shape (poll up to
  `--batch-size` records, EVALUATOR_BATCH_SIZE's default unless given, with a 10 ms batch
  timeout, produce one message per record, wait for the acknowledgements, then commit). The
  plumbing alone; no decode, no scoring.
* evaluator: the real service app (`create_app`) with the offline scorer, run with
  EVALUATOR_BATCH_SIZE=`--batch-size` (the same as the relay) and
  EVALUATOR_CONCURRENCY=`--concurrency`. It calls no other service; its CPU includes the
  report follower, which reads the answers and evaluations topics too.

Each measurement: start the worker, push a warm-up batch and wait for all of its outputs
(excluded: it covers process start, the group join and first-use costs), then time from the
first produce of the N events to the N-th output consumed. Inputs and outputs use topics of the
catalogue's partition counts. Every variant runs `--repeats` times, interleaved; the median is
reported with each run. Last, the offline scorer is timed in-process on the same answers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition
from interview_shared import topics
from interview_shared.embeddings import MiniLmEmbedder
from interview_shared.events import AnswerSubmitted, QuestionSnapshot, decode_event, encode_event

from interview_evaluator.agreement import default_golden_path, load_golden
from interview_evaluator.evaluation import evaluated_event, scoring_request
from interview_evaluator.offline_scorer import OfflineScorer
from interview_evaluator.semantic_scorer import OfflineKind, offline_scorer
from interview_evaluator.settings import EvaluatorSettings

RELAY_IN = topics.Topic("bench.relay.in.v1", topics.ANSWERS.key, topics.ANSWERS.partitions)
RELAY_OUT = topics.Topic(
    "bench.relay.out.v1", topics.EVALUATIONS.key, topics.EVALUATIONS.partitions
)
RELAY_GROUP = "bench-relay"
BATCH_TIMEOUT_MS = 10  # the evaluator subscriber's batch_timeout_ms (handlers.py)
ANSWERS_PER_INTERVIEW = 8
MIN_WORDS, MAX_WORDS = 10, 60

Message = tuple[bytes, bytes, list[tuple[str, bytes]]]  # value, key, headers


# ---------------------------------------------------------------------------------------------
# Load: realistic answer.submitted events.


@dataclass(frozen=True)
class Sample:
    question: str
    reference: str
    answer: str


_SYNTHETIC = (
    (
        "What is the role of a prototype program in problem solving?",
        "To simulate the behaviour of portions of the desired software product.",
    ),
    (
        "What is a pointer?",
        "A variable that contains the address in memory of another variable.",
    ),
    (
        "What is the main advantage of a doubly linked list over a basic linked list?",
        "All the deletion and insertion operations can be performed in constant time, including "
        "those operations performed before a given location in the list or at the end of it.",
    ),
)
_FILLER = (
    "the program uses memory to store each value so that later steps can find it quickly and "
    "it makes the code easier to test because we know what the result should be in advance"
).split()


def load_samples(golden: Path | None, seed: int) -> tuple[list[Sample], str]:
    """Answers of 10-60 words with their question and reference, and where they came from."""
    path = golden or default_golden_path()
    if path.exists():
        items = load_golden(path)
        samples = [
            Sample(i.question, i.reference_answer, i.answer)
            for i in items
            if MIN_WORDS <= len(i.answer.split()) <= MAX_WORDS
        ]
        if samples:
            return samples, f"golden split {path.name} ({len(samples)} answers of 10-60 words)"
    rng = random.Random(seed)
    samples = []
    for question, reference in _SYNTHETIC:
        words = reference.split()
        for _ in range(200):
            size = rng.randint(MIN_WORDS, MAX_WORDS)
            pool = words + _FILLER
            samples.append(Sample(question, reference, " ".join(rng.choices(pool, k=size))))
    return samples, f"synthesised ({len(samples)} answers of 10-60 words; golden file not found)"


def _vary(text: str, rng: random.Random) -> str:
    # Later passes over the samples drop one word and swap two, so texts do not repeat verbatim.
    words = text.split()
    if len(words) > MIN_WORDS:
        del words[rng.randrange(len(words))]
    i = rng.randrange(len(words) - 1)
    words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words)


def make_events(samples: Sequence[Sample], n: int, *, tag: str, seed: int) -> list[AnswerSubmitted]:
    """`n` answer.submitted events, eight answers per interview, correlation ids `tag-i`."""
    rng = random.Random(seed)
    question_ids: dict[str, uuid.UUID] = {}
    events = []
    interview_id = uuid.uuid4()
    for i in range(n):
        sample = samples[i % len(samples)]
        text = sample.answer if i < len(samples) else _vary(sample.answer, rng)
        if i % ANSWERS_PER_INTERVIEW == 0:
            interview_id = uuid.uuid4()
        question_id = question_ids.setdefault(sample.question, uuid.uuid4())
        events.append(
            AnswerSubmitted(
                answer_id=uuid.uuid4(),
                interview_id=interview_id,
                question_id=question_id,
                text=text,
                question=QuestionSnapshot(
                    question_id=question_id, text=sample.question, reference_answer=sample.reference
                ),
                correlation_id=f"{tag}-{i}",
            )
        )
    return events


def to_messages(events: Sequence[AnswerSubmitted]) -> list[Message]:
    """Each event as the bytes, key and headers the product's publisher would send."""
    return [
        (
            encode_event(e),
            e.key.encode(),
            [
                ("event_type", e.type.encode()),
                ("event_id", str(e.event_id).encode()),
                ("correlation_id", (e.correlation_id or "").encode()),
            ],
        )
        for e in events
    ]


# ---------------------------------------------------------------------------------------------
# Workers (each runs in its own process: `--worker relay|evaluator`).


async def _until_terminated() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def relay_worker(bootstrap: str, batch_size: int) -> None:
    """Consume -> produce one per record -> wait for the acks -> commit, batch by batch."""
    consumer = AIOKafkaConsumer(
        RELAY_IN.name,
        bootstrap_servers=bootstrap,
        group_id=RELAY_GROUP,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await consumer.start()
    await producer.start()

    async def loop() -> None:
        while True:
            polled = await consumer.getmany(timeout_ms=BATCH_TIMEOUT_MS, max_records=batch_size)
            records = list(chain(*polled.values()))
            if not records:
                await asyncio.sleep(BATCH_TIMEOUT_MS / 1000)  # as FastStream's batch subscriber
                continue
            sent = [
                await producer.send(RELAY_OUT.name, r.value, key=r.key, headers=list(r.headers))
                for r in records
            ]
            await asyncio.gather(*sent)
            await consumer.commit()

    task = asyncio.create_task(loop())
    try:
        await _until_terminated()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await producer.stop()
        await consumer.stop()


async def evaluator_worker() -> None:
    """The real evaluator app, configured from the environment."""
    from interview_shared.logging import configure_logging

    from interview_evaluator.main import create_app

    settings = EvaluatorSettings()
    configure_logging(service="evaluator", level=settings.log_level, fmt=settings.log_format)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await _until_terminated()


# ---------------------------------------------------------------------------------------------
# Driver.


@dataclass(frozen=True)
class Variant:
    name: str
    in_topic: topics.Topic
    out_topic: topics.Topic
    command: tuple[str, ...]
    env: dict[str, str]
    ready_line: str = ""
    """Text the worker logs once started up (the evaluator's report follower caught up)."""


@dataclass(frozen=True)
class Run:
    variant: str
    answers: int
    produced_s: float
    total_s: float
    worker_cpu_s: float
    dead_letters: int

    @property
    def rate(self) -> float:
        return self.answers / self.total_s

    @property
    def cpu_share(self) -> float:
        """The worker's CPU time over the run's wall time (1.0 = one core busy throughout)."""
        return self.worker_cpu_s / self.total_s

    @property
    def cpu_ms_per_msg(self) -> float:
        return self.worker_cpu_s * 1000 / self.answers


def _closed_port() -> int:
    # A port nothing listens on: bound, then released. Connecting to it is refused at once.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _orphan_guard() -> list[str]:
    # SIGKILL the worker if this process dies, so no worker outlives a crashed benchmark.
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--"] if setpriv and sys.platform == "linux" else []


def variants(bootstrap: str, batch_size: int, concurrency: int) -> list[Variant]:
    """The relay baseline and the evaluator.

    The relay and the evaluators poll batches of the same size.
    """
    me = [sys.executable, "-m", "interview_evaluator.bench_service"]
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "OPENAI_API_KEY": "",  # the offline scorer, whatever the caller's environment holds
        "EVALUATOR_BATCH_SIZE": str(batch_size),
        "EVALUATOR_CONCURRENCY": str(concurrency),
        "EVALUATOR_PORT": str(_closed_port()),
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "json",
    }
    chosen = [
        Variant(
            "relay",
            RELAY_IN,
            RELAY_OUT,
            (*me, "--worker", "relay", "--bootstrap", bootstrap, "--batch-size", str(batch_size)),
            {},
        ),
        Variant(
            "evaluator",
            topics.ANSWERS,
            topics.EVALUATIONS,
            (*me, "--worker", "evaluator"),
            env,
            # Its report follower re-reads the log on start (earlier runs included): a one-off
            # rebuild, not a per-message cost, so the timing starts after it.
            ready_line="reports_caught_up",
        ),
    ]
    return chosen


@contextlib.asynccontextmanager
async def worker(variant: Variant, log_path: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    """Run the variant's worker process; SIGTERM it (then SIGKILL) on the way out."""
    with log_path.open("ab") as log:
        proc = await asyncio.create_subprocess_exec(
            *_orphan_guard(),
            *variant.command,
            env={**os.environ, **variant.env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 20)
            except TimeoutError:
                proc.kill()
                await asyncio.wait_for(proc.wait(), 10)


class Running(Protocol):
    """A worker process as the output counter watches it: asyncio's, or a Popen (poll first)."""

    @property
    def returncode(self) -> int | None:
        """None while the process runs."""
        ...


class OutputCounter:
    """Reads a topic from its current end and counts records whose correlation id has a prefix."""

    def __init__(self, bootstrap: str, topic: topics.Topic) -> None:
        self._topic = topic
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=100
        )

    async def __aenter__(self) -> OutputCounter:
        await self._consumer.start()
        parts = [TopicPartition(self._topic.name, p) for p in range(self._topic.partitions)]
        self._consumer.assign(parts)
        await self._consumer.seek_to_end(*parts)
        for tp in parts:
            await self._consumer.position(tp)  # resolve "end" now, before anything is produced
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._consumer.stop()

    async def wait_for(self, prefix: str, count: int, *, timeout_s: float, proc: Running) -> None:
        """Return when `count` distinct records tagged `prefix-*` have been read."""
        seen: set[bytes] = set()
        wanted = prefix.encode() + b"-"
        deadline = time.monotonic() + timeout_s
        while len(seen) < count:
            if proc.returncode is not None:
                raise RuntimeError(f"the worker exited with {proc.returncode}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(seen)}/{count} outputs after {timeout_s:.0f}s")
            polled = await self._consumer.getmany(timeout_ms=100)
            for record in chain(*polled.values()):
                headers = dict(record.headers)
                tag = headers.get("correlation_id", b"")
                if tag.startswith(wanted):
                    seen.add(tag)


async def _end_offsets(bootstrap: str, topic: topics.Topic) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        parts = [TopicPartition(topic.name, p) for p in range(topic.partitions)]
        ends = await consumer.end_offsets(parts)
        return sum(ends.values())
    finally:
        await consumer.stop()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def produce(producer: AIOKafkaProducer, topic: str, messages: Sequence[Message]) -> None:
    sent = [await producer.send(topic, v, key=k, headers=h) for v, k, h in messages]
    await asyncio.gather(*sent)


async def _logged(log_path: Path, line: str, *, timeout_s: float) -> None:
    """Until the worker's log holds `line` (at once when `line` is empty)."""

    def seen() -> bool:
        return not line or line in log_path.read_text(errors="replace")

    async with asyncio.timeout(timeout_s):
        while not await asyncio.to_thread(seen):  # noqa: ASYNC110 - another process logs it
            await asyncio.sleep(0.05)


@dataclass(frozen=True)
class Drain:
    """One timed drain through a running worker: production time, total time, worker CPU."""

    produced_s: float
    total_s: float
    cpu_s: float


async def timed_drain(
    producer: AIOKafkaProducer,
    outputs: OutputCounter,
    proc: Running,
    *,
    pid: int,
    topic: str,
    warmup: Sequence[Message],
    load: Sequence[Message],
    tags: tuple[str, str],
    ready: Callable[[float], Awaitable[None]] | None = None,
) -> Drain:
    """Push `warmup` and wait for its outputs (untimed), and for `ready(timeout_s)` when given;
    then time `load` to its last output."""
    timeout_s = 60 + len(load) / 50
    await produce(producer, topic, warmup)
    await outputs.wait_for(tags[0], len(warmup), timeout_s=timeout_s, proc=proc)
    if ready is not None:
        await ready(timeout_s)
    cpu_before = cpu_seconds(pid)
    started = time.perf_counter()
    await produce(producer, topic, load)
    produced = time.perf_counter()
    await outputs.wait_for(tags[1], len(load), timeout_s=timeout_s, proc=proc)
    finished = time.perf_counter()
    return Drain(produced - started, finished - started, cpu_seconds(pid) - cpu_before)


async def measure(
    bootstrap: str,
    variant: Variant,
    *,
    warmup: Sequence[Message],
    load: Sequence[Message],
    tags: tuple[str, str],
    log_path: Path,
) -> Run:
    """One timed run of one variant (warm-up excluded); see the module docstring."""
    dead_before = await _end_offsets(bootstrap, topics.DEAD_LETTER)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, linger_ms=5)
    await producer.start()
    try:
        async with (
            OutputCounter(bootstrap, variant.out_topic) as outputs,
            worker(variant, log_path) as proc,
        ):
            drain = await timed_drain(
                producer,
                outputs,
                proc,
                pid=proc.pid,
                topic=variant.in_topic.name,
                warmup=warmup,
                load=load,
                tags=tags,
                ready=lambda timeout_s: _logged(log_path, variant.ready_line, timeout_s=timeout_s),
            )
    finally:
        await producer.stop()
    dead = await _end_offsets(bootstrap, topics.DEAD_LETTER) - dead_before
    return Run(variant.name, len(load), drain.produced_s, drain.total_s, drain.cpu_s, dead)


@dataclass(frozen=True)
class InProcess:
    answers: int
    scorer_rate: float
    scorer_p50_ms: float
    scorer_p99_ms: float
    pipeline_rate: float
    pipeline_p50_ms: float
    pipeline_cpu_ms: float  # CPU time per answer: unlike wall time, not inflated by a busy machine


def in_process(
    events: Sequence[AnswerSubmitted],
    *,
    warmup: Sequence[AnswerSubmitted] = (),
    kind: OfflineKind | None = None,
) -> InProcess:
    """The service's offline scorer alone, and decode + score + encode, per answer, on one core.

    The scorer is the kind the service runs (`OFFLINE_SCORER`, the semantic one by default), new
    with an embedder of its own, and sees `warmup` then `events` once, as the service does: its
    embedding cache is then in the state the service's is, neither empty nor holding the load.
    """
    chosen = kind or EvaluatorSettings().offline_scorer
    raw = [encode_event(e) for e in events]
    pipeline_ns: list[int] = []
    scorer = _fresh(chosen, warmup)
    cpu_started = time.process_time()  # onnxruntime may run in threads of its own
    for value in raw:
        t = time.perf_counter_ns()
        event = decode_event(value)
        assert isinstance(event, AnswerSubmitted)
        encode_event(evaluated_event(event, scorer.score_sync(scoring_request(event))))
        pipeline_ns.append(time.perf_counter_ns() - t)
    pipeline_cpu_s = time.process_time() - cpu_started
    scorer = _fresh(chosen, warmup)
    score_ns: list[int] = []
    for request in [scoring_request(e) for e in events]:
        t = time.perf_counter_ns()
        scorer.score_sync(request)
        score_ns.append(time.perf_counter_ns() - t)
    cuts = statistics.quantiles(score_ns, n=100)
    return InProcess(
        answers=len(events),
        scorer_rate=len(score_ns) / (sum(score_ns) / 1e9),
        scorer_p50_ms=cuts[49] / 1e6,
        scorer_p99_ms=cuts[98] / 1e6,
        pipeline_rate=len(pipeline_ns) / (sum(pipeline_ns) / 1e9),
        pipeline_p50_ms=statistics.median(pipeline_ns) / 1e6,
        pipeline_cpu_ms=pipeline_cpu_s * 1000 / len(raw),
    )


def _fresh(kind: OfflineKind, warmup: Sequence[AnswerSubmitted]) -> OfflineScorer:
    scorer = offline_scorer(kind, embedder=MiniLmEmbedder())
    for event in warmup:
        scorer.score_sync(scoring_request(event))
    return scorer


def report(
    runs: Sequence[Run],
    local: InProcess,
    *,
    answers: int,
    source: str,
    batch_size: int,
    concurrency: int,
) -> str:
    """The result table as Markdown."""
    by_variant: dict[str, list[Run]] = {}
    for run in runs:
        by_variant.setdefault(run.variant, []).append(run)
    relay = statistics.median(r.rate for r in by_variant["relay"])
    lines = [
        f"answers per run: {answers}; partitions in/out: {topics.ANSWERS.partitions}/"
        f"{topics.EVALUATIONS.partitions}; batch size (relay and evaluator): {batch_size}; "
        f"evaluator scoring concurrency: {concurrency}; cores: {os.cpu_count()}; texts: {source}",
        "",
        "| Worker | Runs (msgs/s) | Median msgs/s | vs relay | Worker CPU ms/msg | Worker CPU "
        "busy | Dead letters |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, group in by_variant.items():
        median = statistics.median(r.rate for r in group)
        lines.append(
            f"| {name} | {', '.join(f'{r.rate:,.0f}' for r in group)} | {median:,.0f} | "
            f"{median / relay:.2f}x | "
            f"{statistics.median(r.cpu_ms_per_msg for r in group):.2f} | "
            f"{statistics.median(r.cpu_share for r in group):.0%} | "
            f"{sum(r.dead_letters for r in group)} |"
        )
    lines += [
        "",
        f"Offline scorer in-process ({local.answers} answers, one core, after a warm-up pass): "
        f"p50 {local.scorer_p50_ms:.2f} ms, p99 {local.scorer_p99_ms:.2f} ms, "
        f"{local.scorer_rate:,.0f} answers/s; decode + score + encode: "
        f"p50 {local.pipeline_p50_ms:.2f} ms, {local.pipeline_rate:,.0f} answers/s.",
    ]
    relay_cpu = statistics.median(r.cpu_ms_per_msg for r in by_variant["relay"])
    service_cpu = statistics.median(r.cpu_ms_per_msg for r in by_variant["evaluator"])
    work = relay_cpu + local.pipeline_p50_ms
    lines.append(
        f"P2: evaluator CPU {service_cpu:.2f} ms/msg vs the work itself, relay "
        f"{relay_cpu:.2f} + decode-score-encode p50 {local.pipeline_p50_ms:.2f} = {work:.2f} "
        f"ms: {service_cpu / work:.2f}x (target <= 1.5x)."
    )
    return "\n".join(lines)


async def bench(args: argparse.Namespace) -> None:
    """Start (or reuse) a broker, run every variant `repeats` times, print the table."""
    from interview_localinfra import LocalKafka, ensure_topics

    samples, source = load_samples(args.golden, args.seed)
    async with contextlib.AsyncExitStack() as stack:
        bootstrap: str = args.bootstrap
        if not bootstrap:
            kafka = await stack.enter_async_context(LocalKafka())
            bootstrap = kafka.bootstrap_servers
        await ensure_topics(bootstrap, (*topics.ALL_TOPICS, RELAY_IN, RELAY_OUT))
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-eval-")))
        runs: list[Run] = []
        measured: list[AnswerSubmitted] = []
        warmed: list[AnswerSubmitted] = []
        print(
            f"batch size (relay and evaluator): {args.batch_size}; "
            f"evaluator scoring concurrency: {args.concurrency}",
            flush=True,
        )
        for repeat in range(args.repeats):
            for index, variant in enumerate(variants(bootstrap, args.batch_size, args.concurrency)):
                # Fresh ids per run (the evaluator skips answers it has already judged), the
                # same texts for every variant.
                seed = args.seed + repeat
                tags = (f"w{repeat}.{index}", f"m{repeat}.{index}")
                warm = make_events(samples, args.warmup, tag=tags[0], seed=seed + 1000)
                load = make_events(samples, args.answers, tag=tags[1], seed=seed)
                if not measured:
                    measured, warmed = load, warm
                log_path = workdir / f"worker-{repeat}-{index}.log"
                try:
                    run = await measure(
                        bootstrap,
                        variant,
                        warmup=to_messages(warm),
                        load=to_messages(load),
                        tags=tags,
                        log_path=log_path,
                    )
                except (TimeoutError, RuntimeError) as exc:
                    tail = log_path.read_text(errors="replace").splitlines()[-20:]
                    raise SystemExit(f"{variant.name}: {exc}\n" + "\n".join(tail)) from exc
                print(
                    f"run {repeat + 1} {variant.name}: {run.rate:,.0f} msgs/s "
                    f"({run.answers} in {run.total_s:.2f}s; worker CPU {run.cpu_share:.0%} "
                    f"of one core, {run.cpu_ms_per_msg:.2f} ms/msg)",
                    flush=True,
                )
                runs.append(run)
    print()
    print(
        report(
            runs,
            in_process(measured, warmup=warmed),
            answers=args.answers,
            source=source,
            batch_size=args.batch_size,
            concurrency=args.concurrency,
        )
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line and run the benchmark (or one worker)."""
    parser = argparse.ArgumentParser(prog="python -m interview_evaluator.bench_service")
    parser.add_argument("--answers", type=int, default=5000, help="answers per timed run")
    parser.add_argument("--bootstrap", default="", help="use this broker (default: start one)")
    parser.add_argument("--warmup", type=int, default=200, help="untimed answers before each run")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each worker")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=EvaluatorSettings.model_fields["evaluator_batch_size"].default,
        help="records per polled batch, for the relay and the evaluator alike",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=EvaluatorSettings.model_fields["evaluator_concurrency"].default,
        help="the evaluator's concurrent scorer calls (EVALUATOR_CONCURRENCY)",
    )
    parser.add_argument("--golden", type=Path, default=None, help="golden JSONL for answer texts")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--worker", choices=("relay", "evaluator"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker == "relay":
        asyncio.run(relay_worker(args.bootstrap, args.batch_size))
    elif args.worker == "evaluator":
        asyncio.run(evaluator_worker())
    else:
        asyncio.run(bench(args))


if __name__ == "__main__":
    main()
