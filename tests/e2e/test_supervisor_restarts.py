"""`make run`'s supervisor restarts what dies: SIGKILL the evaluator and the store, keep working."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from flows import score_an_answer
from interview_localinfra._process import free_port
from interview_localinfra.system import ALL_READY, local_service_env
from support import AUTH_ENV, bearer, eventually

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.kafka,
]


def _text(path: Path) -> str:
    return path.read_text()


def _report(path: Path) -> str:
    """For a failure: the supervisor's own lines and the last warnings and errors of services."""
    lines = _text(path).splitlines()
    loud = [line for line in lines if '"level": "warning"' in line or '"level": "error"' in line]
    return "\n".join([line for line in lines if line.startswith("[make run]")] + loud[-40:])


def _service_pid(supervisor: int, module: str) -> int | None:
    """The pid of the supervisor's child running `python -m <module>`, if one runs."""
    try:
        children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    except FileNotFoundError:
        return None  # the supervisor itself is gone: the caller's check reports its log
    for pid in map(int, children):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except FileNotFoundError:
            continue
        if module.encode() in cmdline:
            return pid
    return None


Supervised = tuple[asyncio.subprocess.Process, dict[str, str], Path]


@pytest.fixture
async def supervisor(kafka_bootstrap: str, tmp_path: Path) -> AsyncIterator[Supervised]:
    """`python -m interview_localinfra.system` on the suite's Kafka, until the gateway is ready."""
    async for running in _supervised(tmp_path, {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}):
        yield running


@pytest.fixture
async def supervisor_with_kafka(tmp_path: Path) -> AsyncIterator[Supervised]:
    """`python -m interview_localinfra.system` starting a Kafka broker of its own."""
    own = {"KAFKA_PORT": str(free_port()), "LOCAL_KAFKA_DIR": str(tmp_path / "kafka")}
    async for running in _supervised(tmp_path, own):
        yield running


@pytest.fixture
async def kafka_killed_while_services_start(tmp_path: Path) -> AsyncIterator[Supervised]:
    """As `supervisor_with_kafka`, but its broker is SIGKILLed before the services are ready."""

    async def kill_broker(proc: asyncio.subprocess.Process, log_path: Path) -> None:
        async def topics_ready() -> bool:
            assert proc.returncode is None, _report(log_path)
            return "topics ready" in _text(log_path)

        await eventually(topics_ready, timeout_s=120)
        broker = _service_pid(proc.pid, "kafka.Kafka")
        assert broker is not None, _report(log_path)
        os.kill(broker, signal.SIGKILL)

    own = {"KAFKA_PORT": str(free_port()), "LOCAL_KAFKA_DIR": str(tmp_path / "kafka")}
    async for running in _supervised(tmp_path, own, before_ready=kill_broker):
        yield running


async def _supervised(
    tmp_path: Path,
    kafka_env: dict[str, str],
    *,
    before_ready: Callable[[asyncio.subprocess.Process, Path], Awaitable[None]] | None = None,
) -> AsyncIterator[Supervised]:
    # No model key (the offline scorer) and the memory store, as on a fresh checkout.
    env = local_service_env(
        kafka_env
        | AUTH_ENV
        | {
            "CONSUMER_GROUP_PREFIX": f"restart-{uuid.uuid4().hex[:8]}",
            # A start-up that hangs is stopped and retried well inside the fixture's wait.
            "SUPERVISOR_READY_TIMEOUT_S": "45",
        },
        drop=("DATABASE_URL", "POSTGRES_", "STORE_", "OPENAI_", "KAFKA_", "JWT_", "SERVICE_"),
    )
    log_path = tmp_path / "make-run.log"
    with log_path.open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "interview_localinfra.system",
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,  # the services' own log lines, kept for a failure's message
            stderr=log,
            start_new_session=True,
        )
    try:
        if before_ready is not None:
            await before_ready(proc, log_path)
        await eventually(lambda: _ready(proc, env["PORT"], log_path), timeout_s=180, interval_s=0.5)
        yield proc, env, log_path
    finally:
        if proc.returncode is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                await asyncio.wait_for(proc.wait(), 90)
            except TimeoutError:
                os.killpg(proc.pid, signal.SIGKILL)
                await proc.wait()


async def _ready(proc: asyncio.subprocess.Process, port: str, log_path: Path) -> bool:
    assert proc.returncode is None, _report(log_path)
    # The services start together: the gateway may be ready before the others, and only the
    # supervisor's closing line says that all four are.
    if ALL_READY not in _text(log_path):
        return False
    try:
        async with httpx.AsyncClient(timeout=2) as client:
            return (await client.get(f"http://127.0.0.1:{port}/health/ready")).status_code == 200
    except httpx.HTTPError:
        return False


async def test_sigkilled_evaluator_and_store_are_restarted_and_answers_are_scored(
    supervisor: Supervised,
) -> None:
    proc, env, log_path = supervisor
    killed = {}
    for module in ("interview_evaluator.main", "interview_store.main"):
        pid = _service_pid(proc.pid, module)
        assert pid is not None, f"{module} is not running"
        os.kill(pid, signal.SIGKILL)
        killed[module] = pid

    async def both_back() -> bool:
        assert proc.returncode is None, f"the supervisor exited:\n{_report(log_path)}"
        pids = {m: _service_pid(proc.pid, m) for m in killed}
        return all(pid not in (None, killed[m]) for m, pid in pids.items()) and (
            _text(log_path).count("restarted and ready") >= 2
        )

    await eventually(both_back, timeout_s=120, interval_s=0.5)
    assert proc.returncode is None, "the supervisor must keep the system running"
    messages = _text(log_path)
    assert "evaluator was killed by SIGKILL; restarting in" in messages
    assert "store was killed by SIGKILL; restarting in" in messages

    base = f"http://127.0.0.1:{env['PORT']}/api/v1"
    async with httpx.AsyncClient(base_url=base, timeout=30, headers=bearer()) as api:
        _, evaluation = await score_an_answer(api)
    assert 0 <= evaluation["score"] <= 100

    os.killpg(proc.pid, signal.SIGINT)
    assert await asyncio.wait_for(proc.wait(), 90) == 0


async def test_a_sigkilled_kafka_broker_is_restarted_and_the_services_carry_on(
    supervisor_with_kafka: Supervised,
) -> None:
    proc, env, log_path = supervisor_with_kafka
    broker = _service_pid(proc.pid, "kafka.Kafka")
    assert broker is not None, "the supervisor's own broker"
    os.kill(broker, signal.SIGKILL)

    async def kafka_back() -> bool:
        assert proc.returncode is None, f"the supervisor exited:\n{_report(log_path)}"
        return "kafka restarted and ready" in _text(log_path)

    await eventually(kafka_back, timeout_s=120, interval_s=0.5)
    assert "kafka was killed by SIGKILL; restarting in" in _text(log_path)
    base = f"http://127.0.0.1:{env['PORT']}/api/v1"
    async with httpx.AsyncClient(base_url=base, timeout=30, headers=bearer()) as api:
        _, evaluation = await score_an_answer(api)
    assert 0 <= evaluation["score"] <= 100


async def test_a_broker_killed_while_the_services_start_is_restarted_and_start_up_completes(
    kafka_killed_while_services_start: Supervised,
) -> None:
    # Seen in these tests (a broker killed from outside during start-up): supervision began only
    # once every service was ready, so the broker stayed dead and the gateway never got ready.
    _, env, log_path = kafka_killed_while_services_start
    assert "kafka was killed by SIGKILL; restarting in" in _text(log_path)
    assert "kafka restarted and ready" in _text(log_path)
    base = f"http://127.0.0.1:{env['PORT']}/api/v1"
    async with httpx.AsyncClient(base_url=base, timeout=30, headers=bearer()) as api:
        _, evaluation = await score_an_answer(api)
    assert 0 <= evaluation["score"] <= 100
