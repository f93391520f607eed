"""`make run`'s supervisor as a user runs it: Kafka of its own, four services, Ctrl-C stops all."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from interview_localinfra._process import free_port
from interview_localinfra.system import ALL_READY, local_service_env
from support import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]
REPO_ROOT = Path(__file__).resolve().parents[2]


def _children(pid: int) -> list[int]:
    """Direct children of `pid` (from /proc)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in children.read_text().split()] if children.exists() else []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.fixture
def run_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a user's shell: no broker or token key given, free ports, a private
    Kafka dir."""
    own_kafka = {"KAFKA_PORT": str(free_port()), "LOCAL_KAFKA_DIR": str(tmp_path / "kafka")}
    return local_service_env(own_kafka, drop=("KAFKA_BOOTSTRAP_SERVERS", "JWT_"))


async def test_make_run_starts_everything_and_ctrl_c_stops_everything(
    run_env: dict[str, str], tmp_path: Path
) -> None:
    log_path = tmp_path / "make-run.log"
    with log_path.open("wb") as log:
        supervisor = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "interview_localinfra.system",
            env=run_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,  # its own process group, like a terminal's foreground job
        )
    try:

        async def all_ready() -> bool:
            assert supervisor.returncode is None, log_path.read_text()
            # The services start together; the supervisor's closing line says all four are up.
            if ALL_READY not in log_path.read_text():
                return False
            try:
                async with httpx.AsyncClient(timeout=2) as client:
                    url = f"http://127.0.0.1:{run_env['PORT']}/health/ready"
                    return (await client.get(url)).status_code == 200
            except httpx.HTTPError:
                return False

        await eventually(all_ready, timeout_s=180, interval_s=0.5)
        await _never_open(run_env["PORT"], log_path)
        children = _children(supervisor.pid)
        assert len(children) == 5, "Kafka and four services"

        os.killpg(supervisor.pid, signal.SIGINT)  # what Ctrl-C sends to the foreground group
        assert await asyncio.wait_for(supervisor.wait(), 90) == 0
        assert [pid for pid in children if _alive(pid)] == []
        messages = log_path.read_text()
        assert "Kafka ready at" in messages
        assert "stopped" in messages
    finally:
        if supervisor.returncode is None:
            os.killpg(supervisor.pid, signal.SIGKILL)
            await supervisor.wait()


async def _never_open(port: str, log_path: Path) -> None:
    """Without JWT_SECRET the gateway still refuses anonymous calls, and the printed admin
    token works."""
    await eventually(lambda: _logged("admin token", log_path), timeout_s=10)
    text = await asyncio.to_thread(log_path.read_text)
    line = next(x for x in text.splitlines() if "admin token" in x)
    token = line.rsplit(" ", 1)[-1]
    written = await asyncio.to_thread((REPO_ROOT / ".run" / "dev-token").read_text)
    assert written.strip() == token  # what the README's curl reads
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=5) as client:
        anonymous = await client.get("/interviews")
        admin = await client.get("/interviews", headers={"Authorization": f"Bearer {token}"})
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    assert admin.status_code == 200, admin.text


async def _logged(text: str, log_path: Path) -> bool:
    return text in await asyncio.to_thread(log_path.read_text)
