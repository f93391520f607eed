"""P2: the running system's evaluator process, CPU per message while it drains N answers
produced straight to the answers topic, against what the work itself costs, measured in the
same run: the raw aiokafka relay's CPU per message (`bench_service`'s relay worker, a process
of its own) plus the in-process decode + score + encode per answer with the scorer the service
runs (CPU time, like the other two, so a busy machine does not inflate the baseline).

The system's evaluator is the unmodified service with its real store beside it, so whatever it
asks the store per answer is in its bill; `make bench-evaluator` measures it over a stub instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaProducer
from interview_evaluator.bench_service import (
    OutputCounter,
    Sample,
    in_process,
    make_events,
    measure,
    timed_drain,
    to_messages,
    variants,
)
from interview_evaluator.settings import EvaluatorSettings
from interview_shared import topics

from interview_bench.system import BenchSystem

_DEFAULTS = EvaluatorSettings.model_fields


@dataclass(frozen=True)
class P2Result:
    """CPU per message of the evaluator, the relay and the in-process pipeline."""

    answers: int
    evaluator_cpu_ms: float
    evaluator_rate: float
    relay_cpu_ms: float
    relay_rate: float
    pipeline_ms: float

    @property
    def baseline_ms(self) -> float:
        """What one message must cost: relay plumbing plus decode + score + encode."""
        return self.relay_cpu_ms + self.pipeline_ms

    @property
    def ratio(self) -> float:
        """Evaluator CPU per message over the baseline."""
        return self.evaluator_cpu_ms / self.baseline_ms


class _Polled:
    """A Popen as `OutputCounter` watches it: `returncode` after a fresh poll."""

    def __init__(self, system: BenchSystem) -> None:
        self._system = system

    @property
    def returncode(self) -> int | None:
        assert self._system.group is not None
        return self._system.group.procs["evaluator"].poll()


async def p2(
    system: BenchSystem, samples: list[Sample], *, answers: int, warmup: int, logs: Path, seed: int
) -> P2Result:
    """Relay first (a process of its own), then the system's evaluator, then in-process."""
    bootstrap = system.bootstrap
    batch = int(_DEFAULTS["evaluator_batch_size"].default)
    concurrency = int(_DEFAULTS["evaluator_concurrency"].default)
    relay_variant = variants(bootstrap, batch, concurrency)[0]
    relay = await measure(
        bootstrap,
        relay_variant,
        warmup=to_messages(make_events(samples, warmup, tag="p2rw", seed=seed + 1)),
        load=to_messages(make_events(samples, answers, tag="p2r", seed=seed)),
        tags=("p2rw", "p2r"),
        log_path=logs / "relay.log",
    )
    await system.quiesce()
    load_events = make_events(samples, answers, tag="p2e", seed=seed)
    warm_events = make_events(samples, warmup, tag="p2ew", seed=seed + 1)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, linger_ms=5)
    await producer.start()
    try:
        async with OutputCounter(bootstrap, topics.EVALUATIONS) as outputs:
            drain = await timed_drain(
                producer,
                outputs,
                _Polled(system),
                pid=system.pid("evaluator"),
                topic=topics.ANSWERS.name,
                warmup=to_messages(warm_events),
                load=to_messages(load_events),
                tags=("p2ew", "p2e"),
            )
    finally:
        await producer.stop()
    local = in_process(load_events, warmup=warm_events)
    return P2Result(
        answers=answers,
        evaluator_cpu_ms=drain.cpu_s * 1000 / answers,
        evaluator_rate=answers / drain.total_s,
        relay_cpu_ms=relay.cpu_ms_per_msg,
        relay_rate=relay.rate,
        pipeline_ms=local.pipeline_cpu_ms,
    )
