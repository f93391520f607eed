"""`make bench` at tiny sizes: the harness starts the whole system, runs every scenario and
reports every figure. Nothing about speed is asserted (targets live in the benchmark's output);
what is asserted is that each scenario measured something real and lost nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]

SERVICES = {"api", "store", "evaluator", "chat"}


def _require(tool: str) -> None:
    if shutil.which(tool) is None:
        message = f"{tool} not found (make test installs wrk as root; Kafka needs java)"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


def test_bench_runs_every_scenario_and_reports_every_figure(tmp_path: Path) -> None:
    _require("wrk")
    _require("java")
    out = tmp_path / "bench.json"
    command = [sys.executable, "-m", "interview_bench", "--quick", "--backend", "memory"]
    result = subprocess.run(
        [*command, "--json-out", str(out)], capture_output=True, text=True, timeout=540
    )
    assert result.returncode == 0, result.stderr[-4000:]
    [memory] = json.loads(out.read_text())["backends"]

    p1 = memory["p1"]
    assert p1["gateway"]["requests"] > 0
    assert p1["bare"]["requests"] > 0
    assert set(p1["cpu_ms_per_answer"]) == SERVICES

    p2 = memory["p2"]
    assert p2["evaluator_cpu_ms"] > 0
    assert p2["relay_cpu_ms"] > 0
    assert p2["pipeline_ms"] > 0

    p4 = memory["p4"]
    assert p4["submitted"] > 0
    assert p4["drained"]
    assert p4["lost"] == 0
    assert p4["scored"] == p4["submitted"]
    assert p4["ratio"] is not None

    p5 = memory["p5"]
    assert p5["accepted"] > 0
    assert p5["missing"] == 0

    for figure in ("P1 gateway POST answers", "P2 evaluator", "P4 accepted", "P5 accept"):
        assert figure in result.stdout
