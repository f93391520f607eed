"""The whole system for one benchmark run: a fresh Kafka broker, PostgreSQL when asked, and the
four services as processes on free ports (the same `ServiceGroup` as `make run` and the e2e
tests), plus what the scenarios need from it: the gateway's URL, each service's CPU time, a
seeded interview and a way to wait until the system is idle again.

Each backend gets its own broker: the memory store rebuilds itself from the whole log on start,
so a second system on the first one's log would begin with the first one's backlog.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx
from interview_evaluator.bench_service import RELAY_IN, RELAY_OUT, cpu_seconds
from interview_localinfra import LocalKafka, LocalPostgres, ensure_topics
from interview_localinfra._process import free_port
from interview_localinfra.devauth import admin_token
from interview_localinfra.system import SERVICES, ServiceGroup
from interview_shared import topics
from interview_shared.auth import new_secret

Backend = Literal["memory", "postgres"]
SERVICE_NAMES = tuple(s.name for s in SERVICES)
# The system counts as idle when the four services together use no more than they did with
# nothing to do (measured once at start: consumers polling and heartbeats, a fifth of a core
# here, more on a slower machine) plus this share of one core. A fixed threshold hung P1 on a
# machine where idle alone was above it.
IDLE_MARGIN_SHARE = 0.06
IDLE_SETTLE_S = 2.0
IDLE_WINDOWS = 3


@dataclass(frozen=True)
class Seeded:
    """An interview IN_PROGRESS, one of its questions, and a valid answer body for it."""

    interview_id: uuid.UUID
    question_id: uuid.UUID
    answer_body: dict[str, str]


class BenchSystem:
    """`async with BenchSystem(backend, workdir) as system:` the running system."""

    def __init__(self, backend: Backend, workdir: Path, *, log_level: str = "INFO") -> None:
        self.backend = backend
        self.workdir = workdir
        self.log_level = log_level
        self.bootstrap = ""
        self.group: ServiceGroup | None = None
        self.idle_cpu_share = 0.0
        """The services' summed CPU (share of one core) with nothing to do; set at start."""
        self._stack = AsyncExitStack()
        self._jwt_secret = new_secret()
        # An admin of the default organisation for the whole run (a run is hours at most).
        token = admin_token(self._jwt_secret, sub="bench", ttl_s=86400)
        self.headers = {"Authorization": f"Bearer {token}"}
        """What every request to the gateway carries (the gateway is never open)."""

    async def __aenter__(self) -> BenchSystem:
        try:
            await self._start()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._stack.aclose()

    async def _start(self) -> None:
        kafka = await self._stack.enter_async_context(LocalKafka(workdir=self.workdir / "kafka"))
        self.bootstrap = kafka.bootstrap_servers
        await ensure_topics(self.bootstrap, (*topics.ALL_TOPICS, RELAY_IN, RELAY_OUT))
        env = _service_env(self.bootstrap, self.log_level, self._jwt_secret)
        if self.backend == "postgres":
            # fsync off, as in the suite and `make bench-store`: a throwaway cluster.
            pg = LocalPostgres(database="bench", fsync=False)
            await self._stack.enter_async_context(pg)
            env["DATABASE_URL"] = pg.dsn
        logs = self.workdir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        self.group = ServiceGroup(env, log_dir=logs)
        await self._stack.enter_async_context(self.group)
        await asyncio.sleep(IDLE_SETTLE_S)
        self.idle_cpu_share = min([await self._cpu_share(1.0) for _ in range(IDLE_WINDOWS)])

    @property
    def gateway(self) -> str:
        """Base URL of the public API."""
        return f"http://127.0.0.1:{self._group.env['PORT']}/api/v1"

    @property
    def _group(self) -> ServiceGroup:
        assert self.group is not None, "the system is not running"
        return self.group

    def pid(self, name: str) -> int:
        """The pid of one service process."""
        return self._group.procs[name].pid

    def cpu(self) -> dict[str, float]:
        """CPU seconds (user + system) each service has used so far."""
        return {name: cpu_seconds(self.pid(name)) for name in SERVICE_NAMES}

    def check_running(self) -> None:
        """Raise if a service has died (its log says why)."""
        if (name := self._group.exited()) is not None:
            raise RuntimeError(f"{name} exited; see {self.workdir / 'logs' / name}.log")

    async def _cpu_share(self, window_s: float) -> float:
        """The services' summed CPU over the next `window_s`, as a share of one core."""
        before = sum(self.cpu().values())
        await asyncio.sleep(window_s)
        self.check_running()
        return (sum(self.cpu().values()) - before) / window_s

    async def quiesce(self, *, timeout_s: float = 600.0, window_s: float = 1.0) -> float:
        """Wait until the services are idle (backlogs drained); return the seconds waited."""
        began = time.monotonic()
        threshold = self.idle_cpu_share + IDLE_MARGIN_SHARE
        while time.monotonic() - began < timeout_s:
            if await self._cpu_share(window_s) <= threshold:
                return time.monotonic() - began
        raise TimeoutError(
            f"the system was still busy after {timeout_s:.0f}s (idle is {threshold:.2f} of a core)"
        )

    async def seed(self, *, question: str, reference: str, answer: str) -> Seeded:
        """A candidate, a question and an interview moved to IN_PROGRESS, through the API."""
        async with httpx.AsyncClient(
            base_url=self.gateway, timeout=30, headers=self.headers
        ) as api:
            nonce = uuid.uuid4().hex[:10]
            candidate = await _created(
                api, "/candidates", {"name": "Bench", "email": f"bench-{nonce}@example.com"}
            )
            body = {"text": question, "reference_answer": reference, "skills": ["bench"]}
            question_id = await _created(api, "/questions", body)
            interview = {"candidate_id": candidate, "title": "bench", "question_ids": [question_id]}
            interview_id = await _created(api, "/interviews", interview)
            for status in ("READY", "IN_PROGRESS"):
                await _moved(api, interview_id, status)
        return Seeded(
            uuid.UUID(interview_id),
            uuid.UUID(question_id),
            {"question_id": question_id, "text": answer},
        )


def _service_env(bootstrap: str, log_level: str, jwt_secret: str) -> dict[str, str]:
    # The caller's store, model and key settings must not leak in: memory unless we say
    # postgres, the offline scorer always (no paid API), fresh ports and keys. One subject
    # sends the whole load, so the per-user rate limit is lifted (its cost is still paid).
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(
            ("DATABASE_URL", "POSTGRES_", "STORE_", "OPENAI_", "JWT_", "SERVICE_", "RATE_")
        )
    }
    return env | {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
        "STORE_PORT": str(free_port()),
        "EVALUATOR_PORT": str(free_port()),
        "CHAT_PORT": str(free_port()),
        "LOG_LEVEL": log_level,
        "JWT_SECRET": jwt_secret,
        "SERVICE_API_KEY": new_secret(),
        "RATE_LIMIT_PER_MINUTE": str(10**9),
    }


async def _created(api: httpx.AsyncClient, path: str, body: dict[str, Any]) -> str:
    """POST and return the new id; a 202 (store slow) is waited for by reading it back."""
    response = await api.post(path, json=body)
    if response.status_code not in (201, 202):
        raise RuntimeError(f"POST {path}: {response.status_code} {response.text}")
    new_id: str = response.json()["id"]
    await _until(lambda: api.get(f"{path}/{new_id}"), lambda r: r.status_code == 200)
    return new_id


async def _moved(api: httpx.AsyncClient, interview_id: str, status: str) -> None:
    response = await api.patch(f"/interviews/{interview_id}", json={"status": status})
    if response.status_code not in (200, 202):
        raise RuntimeError(f"PATCH {status}: {response.status_code} {response.text}")
    await _until(
        lambda: api.get(f"/interviews/{interview_id}"), lambda r: r.json()["status"] == status
    )


async def _until(call: Any, done: Any, *, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done(await call()):
        if time.monotonic() > deadline:
            raise TimeoutError("the seeded data did not become visible")
        await asyncio.sleep(0.1)
