"""The stream-parse benchmark runs at a tiny size and prints both readers' figures (nothing about
speed is asserted: the figures are the benchmark's output)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[3] / "services" / "chat" / "bench" / "stream_parse.py"


def test_the_benchmark_reads_every_chunk_both_ways_and_prints_the_ratio() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--replies", "3", "--tokens", "5"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "| baseline |" in result.stdout
    assert "| service |" in result.stdout
    assert "service / baseline CPU per chunk:" in result.stdout
