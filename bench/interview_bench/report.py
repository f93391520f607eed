"""The results as a Markdown table (what `make bench` prints) and as JSON (`--json`)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from interview_bench.evaluator import P2Result
from interview_bench.latency import P5Result
from interview_bench.load import WrkResult
from interview_bench.system import SERVICE_NAMES
from interview_bench.throughput import P1Result, P4Result


@dataclass
class BackendResults:
    """Everything measured on one system (one store backend)."""

    backend: str
    load_before: str = ""
    load_after: str = ""
    p1: P1Result | None = None
    p2: P2Result | None = None
    p4: P4Result | None = None
    p5: P5Result | None = None
    notes: list[str] = field(default_factory=list)


def _wrk(r: WrkResult) -> str:
    errors = f", socket errors {r.socket_errors}" if r.socket_errors else ""
    return (
        f"{r.rate:,.0f} req/s, p50 {r.p50_us / 1000:.1f} ms, p99 {r.p99_us / 1000:.1f} ms, "
        f"non-2xx {r.non_2xx}{errors}"
    )


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def figures(r: BackendResults) -> list[tuple[str, str, str, str, str, str]]:
    """(figure, measured, baseline, ratio, target, met) rows."""
    rows = []
    if (p1 := r.p1) is not None:
        ok = p1.ratio >= 0.35 and p1.gateway.p99_us <= 100_000 and p1.gateway.non_2xx == 0
        ok = ok and p1.gateway.socket_errors == 0
        rows.append(
            (
                "P1 gateway POST answers, 32 conns",
                _wrk(p1.gateway),
                f"bare FastAPI: {_wrk(p1.bare)}",
                f"{p1.ratio:.3f}x",
                ">= 0.35x, p99 <= 100 ms, 0 non-2xx",
                _met(ok),
            )
        )
    if (p2 := r.p2) is not None:
        rows.append(
            (
                f"P2 evaluator CPU per message ({p2.answers} answers)",
                f"{p2.evaluator_cpu_ms:.3f} ms/msg, {p2.evaluator_rate:,.0f} msgs/s",
                f"relay {p2.relay_cpu_ms:.3f} ms ({p2.relay_rate:,.0f} msgs/s) + decode/score/"
                f"encode {p2.pipeline_ms:.3f} ms = {p2.baseline_ms:.3f} ms",
                f"{p2.ratio:.2f}x",
                "<= 1.5x",
                _met(p2.ratio <= 1.5),
            )
        )
    if (p4 := r.p4) is not None:
        ratio = p4.ratio
        rows.append(
            (
                f"P4 accepted -> scored, {p4.seconds:.0f} s",
                f"{p4.scored_rate:,.0f} scored/s during the load (accepted "
                f"{p4.accepted_rate:,.0f}/s; {p4.submitted} answers, {p4.lost} "
                f"{'lost' if p4.drained else 'not scored when the drain wait ended'}, "
                f"{p4.duplicates} scored twice; last scored {p4.drain_after_s:.1f} s after the "
                f"load, {p4.completion_rate:,.0f}/s overall)",
                f"evaluator drain (P2) {p4.evaluator_drain_rate or math.nan:,.0f} msgs/s",
                f"{ratio:.2f}x" if ratio is not None else "n/a (run P2)",
                ">= 0.8x, 0 lost",
                _met(ratio is not None and ratio >= 0.8 and p4.lost == 0),
            )
        )
    if (p5 := r.p5) is not None:
        rows.append(
            (
                f"P5 accept -> score visible, {p5.rate:.0f}/s",
                f"p50 {p5.p50_ms:.1f} ms, p99 {p5.p99_ms:.1f} ms, max {p5.max_ms:.0f} ms "
                f"({p5.accepted}/{p5.sent} accepted, {p5.missing} never visible; from the "
                f"POST sent: p50 {p5.sent_p50_ms:.1f} ms, p99 {p5.sent_p99_ms:.1f} ms; POST "
                f"itself p50 {p5.post_p50_ms:.1f} ms, p99 {p5.post_p99_ms:.1f} ms)",
                "-",
                "-",
                "p50 <= 50 ms, p99 <= 150 ms",
                _met(p5.p50_ms <= 50 and p5.p99_ms <= 150 and p5.missing == 0),
            )
        )
    return rows


def markdown(results: list[BackendResults]) -> str:
    """One figures table and one CPU table per backend."""
    out = []
    for r in results:
        out += [
            f"### {r.backend} store (load average before: {r.load_before}; after: {r.load_after})",
            "",
            "| Figure | Measured | Baseline (same run) | Ratio | Target | Met |",
            "| --- | --- | --- | --- | --- | --- |",
            *(f"| {' | '.join(row)} |" for row in figures(r)),
            "",
        ]
        loads = [(n, p.cpu_ms_per_answer) for n, p in (("P1", r.p1), ("P4", r.p4)) if p]
        if loads:
            out += [
                "CPU ms per answer, from the start of the load until the system is idle again:",
                "",
                f"| Load | {' | '.join(SERVICE_NAMES)} | total |",
                "|---" * (len(SERVICE_NAMES) + 2) + "|",
            ]
            for name, cpu in loads:
                cells = [f"{cpu[s]:.2f}" for s in SERVICE_NAMES]
                out.append(f"| {name} | {' | '.join(cells)} | {sum(cpu.values()):.2f} |")
            if r.p1 is not None:
                out.append(f"\nBare endpoint: {r.p1.bare_cpu_ms_per_request:.2f} CPU ms/request.")
            out.append("")
        out += [f"- {note}" for note in r.notes]
    return "\n".join(out)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data = {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for name in ("ratio", "rate", "baseline_ms", "ok", "socket_errors"):
            if hasattr(type(value), name) and isinstance(getattr(type(value), name), property):
                data[name] = getattr(value, name)
        return data
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def as_json(results: list[BackendResults], meta: dict[str, Any]) -> dict[str, Any]:
    """Every measured and derived figure, with the run's metadata."""
    return {"meta": meta, "backends": [_plain(r) for r in results]}
