"""`make bench`: the whole system under load, each figure a ratio to a baseline measured in the
same run (issue 7's P1, P2, P4, P5, and CPU per answer of every service).

    uv run python -m interview_bench [--backend memory|postgres]... [--scenario p1|p2|p4|p5]...
        [--p1-seconds 10] [--p2-answers 5000] [--p4-seconds 60] [--p5-rate 50] [--p5-seconds 20]
        [--quick] [--json] [--keep-logs DIR]

For each backend: a fresh Kafka broker (and PostgreSQL for `postgres`), the four services as
processes on free ports, one interview IN_PROGRESS seeded through the API, then the chosen
scenarios in the order P1, P2, P4, P5, each starting once the system is idle again.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from interview_evaluator.bench_service import load_samples

from interview_bench.evaluator import p2
from interview_bench.latency import p5
from interview_bench.load import wrk_path
from interview_bench.report import BackendResults, as_json, markdown
from interview_bench.system import Backend, BenchSystem
from interview_bench.throughput import p1, p4

SCENARIOS = ("p1", "p2", "p4", "p5")
BACKENDS: tuple[Backend, ...] = ("memory", "postgres")
# --quick: every scenario at a size that proves the harness works, not a measurement.
QUICK = {
    "p1_seconds": 2.0,
    "warmup_seconds": 1.0,
    "p2_answers": 200,
    "p2_warmup": 20,
    "p4_seconds": 3.0,
    "p5_seconds": 2.0,
}


def say(message: str) -> None:
    """Progress goes to stderr, so stdout holds only the table (or the JSON)."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def load_average() -> str:
    """The 1, 5 and 15 minute load averages (the machine is shared)."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


async def run_backend(backend: Backend, args: argparse.Namespace, workdir: Path) -> BackendResults:
    """Start one system, run the chosen scenarios on it, stop it."""
    results = BackendResults(backend, load_before=load_average())
    samples, source = load_samples(None, args.seed)
    sample = samples[0]
    logs = workdir / "logs"
    say(f"{backend}: starting Kafka{', PostgreSQL' if backend == 'postgres' else ''} and services")
    began = time.monotonic()
    async with BenchSystem(backend, workdir, log_level=args.log_level) as system:
        say(
            f"{backend}: system ready in {time.monotonic() - began:.0f}s,"
            f" idle at {system.idle_cpu_share:.2f} of a core"
        )
        seeded = await system.seed(
            question=sample.question, reference=sample.reference, answer=sample.answer
        )
        results.notes.append(f"answer texts: {source}; gateway LOG_LEVEL={args.log_level}")
        results.notes.append(f"services idle at {system.idle_cpu_share:.2f} of a core")
        if "p1" in args.scenario:
            say(f"{backend}: P1 ({args.p1_seconds:.0f}s each: bare endpoint, then gateway)")
            results.p1 = await p1(
                system, seeded, seconds=args.p1_seconds, warmup_s=args.warmup_seconds, logs=logs
            )
        if "p2" in args.scenario or "p4" in args.scenario:
            say(f"{backend}: P2 ({args.p2_answers} answers: relay, evaluator, in-process)")
            results.p2 = await p2(
                system,
                samples,
                answers=args.p2_answers,
                warmup=args.p2_warmup,
                logs=logs,
                seed=args.seed,
            )
        if "p4" in args.scenario:
            say(f"{backend}: P4 ({args.p4_seconds:.0f}s through the gateway, then the drain)")
            drain = results.p2.evaluator_rate if results.p2 else None
            results.p4 = await p4(
                system, seeded, seconds=args.p4_seconds, evaluator_drain_rate=drain
            )
        if "p5" in args.scenario:
            say(f"{backend}: P5 ({args.p5_rate:.0f} answers/s for {args.p5_seconds:.0f}s)")
            results.p5 = await p5(system, seeded, rate=args.p5_rate, seconds=args.p5_seconds)
        system.check_running()
    results.load_after = load_average()
    return results


async def bench(args: argparse.Namespace) -> list[BackendResults]:
    """Each backend on a system of its own, one after the other."""
    wrk_path()  # fail before starting anything
    out = []
    for backend in args.backend:
        workdir = Path(tempfile.mkdtemp(prefix=f"bench-{backend}-"))
        try:
            out.append(await run_backend(backend, args, workdir))
        finally:
            if args.keep_logs is not None:
                shutil.copytree(workdir / "logs", args.keep_logs / backend, dirs_exist_ok=True)
            shutil.rmtree(workdir, ignore_errors=True)
    return out


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line; `--quick` shrinks every size that was not given explicitly."""
    parser = argparse.ArgumentParser(prog="python -m interview_bench", description=__doc__)
    add = parser.add_argument
    add("--backend", action="append", choices=BACKENDS, help="store backend (default: both)")
    add("--scenario", action="append", choices=SCENARIOS, help="scenario (default: all)")
    add("--p1-seconds", type=float, help="wrk duration per endpoint (default 10)")
    add("--warmup-seconds", type=float, help="untimed wrk run before P1's (default 2)")
    add("--p2-answers", type=int, help="answers per P2 drain (default 5000)")
    add("--p2-warmup", type=int, help="untimed answers before each drain (default 200)")
    add("--p4-seconds", type=float, help="P4 load duration (default 60)")
    add("--p5-rate", type=float, default=50.0, help="P5 answers per second")
    add("--p5-seconds", type=float, help="P5 duration (default 20)")
    add("--quick", action="store_true", help="tiny sizes: proves the harness, measures nothing")
    add("--json", action="store_true", help="print JSON instead of the table")
    add("--json-out", type=Path, help="also write the JSON to this file")
    add("--log-level", default="INFO", help="the services' LOG_LEVEL (make run's default)")
    add("--keep-logs", type=Path, help="copy the services' logs here")
    add("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    defaults: dict[str, Any] = {
        "p1_seconds": 10.0,
        "warmup_seconds": 2.0,
        "p2_answers": 5000,
        "p2_warmup": 200,
        "p4_seconds": 60.0,
        "p5_seconds": 20.0,
    }
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, QUICK[name] if args.quick else value)
    args.backend = args.backend or list(BACKENDS)
    args.scenario = args.scenario or list(SCENARIOS)
    return args


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print the table (or JSON)."""
    args = parse(argv)
    # SIGTERM unwinds like Ctrl-C, so the services, Kafka and PostgreSQL are stopped in order.
    signal.signal(signal.SIGTERM, _interrupt)
    started = time.time()
    results = asyncio.run(bench(args))
    meta = {
        "commit": _commit(),
        "cores": os.cpu_count(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": round(time.time() - started),
        "argv": sys.argv[1:] if argv is None else list(argv),
    }
    document = json.dumps(as_json(results, meta), indent=2)
    if args.json_out is not None:
        args.json_out.write_text(document + "\n")
    if args.json:
        print(document)
    else:
        print(f"commit {meta['commit']}, {meta['cores']} cores, started {meta['started']}\n")
        print(markdown(results))
