"""`make compose-up` as a user runs it, then the main flow over HTTP on :8080, then compose-down.

The whole stack runs in Docker: images built from the repo (and, where registries cannot be
pulled, the stand-ins of deploy/compose/offline.yml). Where no engine answers, the test
installs Debian's and starts a private dockerd (interview_localinfra.dockerd) on its own
socket, which it stops at the end; other tests never see it. Port 8080 is the compose file's
published port: this is the one test that uses it, and only one stack may run at a time.
Deselect with `-m "not compose"`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import httpx
import pytest
from interview_localinfra._process import ServiceStartError
from interview_localinfra.containers import docker_available
from interview_localinfra.dockerd import PrivateDockerd
from interview_shared.auth import new_secret
from support import TEST_JWT_SECRET, bearer

pytestmark = [pytest.mark.compose, pytest.mark.e2e]

ROOT: Final = Path(__file__).resolve().parents[2]
API: Final = "http://localhost:8080/api/v1"
# Cold (nothing cached: Debian packages, PyPI, the image builds) took about 4 minutes here.
MAKE_TIMEOUT_S: Final = 1200


def _unavailable(message: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def docker_env() -> Iterator[dict[str, str]]:
    """The environment for `make compose-*`: an engine the user runs, else a private one.

    OPENAI_API_KEY is set empty, which beats a developer's .env (compose reads it): the stack
    grades with the offline scorer and never calls a model API. JWT_SECRET and SERVICE_API_KEY
    come from the environment as a user would set them (or in .env): the gateway is never open.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "JWT_"))}
    env |= {"OPENAI_API_KEY": "", "JWT_SECRET": TEST_JWT_SECRET, "SERVICE_API_KEY": new_secret()}
    if docker_available():
        yield env
        return
    if os.geteuid() != 0:
        _unavailable("no Docker engine, and only root may install and start one")
    engine = PrivateDockerd()
    try:
        engine.start()
    except ServiceStartError as error:
        _unavailable(str(error))
    try:
        yield env | {"DOCKER_HOST": engine.host}
    finally:
        engine.stop()


def _make(target: str, env: dict[str, str]) -> float:
    started = time.monotonic()
    result = subprocess.run(
        ["make", "--no-print-directory", target],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=MAKE_TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, f"make {target}:\n{result.stdout[-3000:]}{result.stderr[-5000:]}"
    return time.monotonic() - started


def _print_logs(env: dict[str, str]) -> None:
    """The containers' last log lines, into the test's captured output, before they go."""
    logs = subprocess.run(
        ["deploy/compose/compose.sh", "logs"],
        cwd=ROOT,
        env=env | {"COMPOSE_LOG_LINES": "40"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = [line for line in logs.stdout.splitlines() if "/health/" not in line]
    print("\n".join(lines), logs.stderr[-2000:])


def _port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _created(client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(path, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _evaluation(client: httpx.Client, interview_id: str, timeout_s: float) -> dict[str, Any]:
    """The first answer's evaluation, once the evaluator and the store have caught up."""
    deadline = time.monotonic() + timeout_s
    while True:
        listed = client.get(f"/interviews/{interview_id}/answers")
        assert listed.status_code == 200, listed.text
        evaluation: dict[str, Any] | None = listed.json()["items"][0]["evaluation"]
        if evaluation is not None:
            return evaluation
        assert time.monotonic() < deadline, "the answer was not evaluated in time"
        time.sleep(0.5)


def _main_flow(client: httpx.Client) -> dict[str, Any]:
    email = f"ada-{uuid.uuid4().hex}@example.com"
    candidate = _created(client, "/candidates", {"name": "Ada Lovelace", "email": email})
    question = _created(
        client,
        "/questions",
        {
            "text": "What is a mutex?",
            "skills": ["concurrency"],
            "reference_answer": "A lock giving mutual exclusion: one thread at a time in the "
            "critical section.",
            "key_points": ["mutual exclusion", "one thread at a time"],
        },
    )
    interview = _created(
        client,
        "/interviews",
        {"candidate_id": candidate["id"], "title": "Backend", "question_ids": [question["id"]]},
    )
    for status in ("READY", "IN_PROGRESS"):
        moved = client.patch(f"/interviews/{interview['id']}", json={"status": status})
        assert moved.status_code == 200, moved.text
        assert moved.json()["status"] == status
    answer = client.post(
        f"/interviews/{interview['id']}/answers",
        json={
            "question_id": question["id"],
            "text": "A mutex gives mutual exclusion: only one thread at a time holds the lock.",
        },
    )
    assert answer.status_code == 202, answer.text
    evaluation = _evaluation(client, interview["id"], timeout_s=60)
    assert evaluation["answer_id"] == answer.json()["id"]
    assert evaluation["lineage"]["scorer"] == "semantic"  # the offline default: no key
    return evaluation


@pytest.mark.timeout(MAKE_TIMEOUT_S * 2)
def test_compose_stack_serves_the_main_flow_on_8080(docker_env: dict[str, str]) -> None:
    if _port_in_use(8080):
        pytest.fail("something already listens on :8080 (another compose stack?)", pytrace=False)
    up_s = _make("compose-up", docker_env)
    try:
        anonymous = httpx.get(f"{API}/interviews", timeout=30)
        assert anonymous.status_code == 401, anonymous.text
        with httpx.Client(base_url=API, timeout=30, headers=bearer()) as client:
            evaluation = _main_flow(client)
        assert 0 <= evaluation["score"] <= 100
        assert evaluation["feedback"]
    except BaseException:
        _print_logs(docker_env)
        raise
    finally:
        down_s = _make("compose-down", docker_env)
    # Measurements for docs/docker-compose.md (shown with -rP or on failure).
    print(f"make compose-up: {up_s:.0f}s, make compose-down: {down_s:.0f}s")
    assert not _port_in_use(8080), "compose-down left the gateway running"
