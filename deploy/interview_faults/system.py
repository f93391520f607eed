"""The system under test: a private Kafka broker and PostgreSQL server (the suite kills both),
and the four services as processes on them, one fresh set per scenario."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from interview_localinfra import (
    LocalKafka,
    LocalPostgres,
    create_database,
    drop_database,
    ensure_topics,
)
from interview_localinfra._process import ServiceStartError, terminate, wait_for_exit
from interview_localinfra.devauth import admin_token
from interview_localinfra.system import SERVICES, ServiceGroup, local_service_env
from interview_shared import topics
from interview_shared.auth import new_secret
from interview_shared.task_dump import DUMP_SIGNAL

from interview_faults.model import ModelStandIn

Backend = Literal["memory", "postgres"]
SERVICE_NAMES = tuple(s.name for s in SERVICES)

# Settings that make a fault cycle short without changing what is proved: the store gives up
# retrying a batch against a dead database sooner (it is redelivered, not lost).
_FAST_ENV = {"LOG_LEVEL": os.environ.get("FAULTS_LOG_LEVEL", "WARNING"), "SHUTDOWN_GRACE_S": "15"}
# Variables of this process that would point the system elsewhere or change its keys.
_DROPPED: tuple[str, ...] = ("DATABASE_URL", "POSTGRES_", "STORE_", "OPENAI_", "JUDGE_", "KAFKA_")
_DROPPED += ("JWT_", "SERVICE_", "RATE_", "PII_")


@dataclass
class Infra:
    """Kafka and PostgreSQL owned by the suite: started once, shared by the scenarios."""

    kafka: LocalKafka
    postgres: LocalPostgres
    pii_master_key: str = field(default_factory=new_secret)
    """One per broker, as per deployment: the keys topic outlives each scenario's services, and
    a later scenario's store (the memory one rebuilds from the whole log) must open earlier
    scenarios' data keys like any replica would."""

    @property
    def bootstrap(self) -> str:
        """Kafka's bootstrap address."""
        return self.kafka.bootstrap_servers

    async def kill_kafka(self) -> None:
        """SIGKILL the broker (no controlled shutdown)."""
        proc = self.kafka._proc
        if proc is not None:
            proc.kill()
            await wait_for_exit(proc, 10)
        self.kafka._proc = None

    async def start_kafka(self) -> float:
        """Start the broker again on its ports and data; seconds it took."""
        began = time.monotonic()
        await self.kafka.start()
        return time.monotonic() - began


@asynccontextmanager
async def infra(workdir: Path | None = None) -> AsyncIterator[Infra]:
    """Start a broker with every catalogue topic and a PostgreSQL server; stop both after."""
    kafka = LocalKafka(workdir=workdir / "kafka" if workdir else None)
    postgres = LocalPostgres(database="faults", fsync=False)
    async with kafka, postgres:
        await ensure_topics(kafka.bootstrap_servers)
        yield Infra(kafka, postgres)


@dataclass
class System:
    """The four services of one scenario, with the numbers of their restarts."""

    infra: Infra
    group: ServiceGroup
    backend: Backend
    exit_seconds: dict[str, list[float]] = field(default_factory=dict)
    exit_codes: dict[str, list[int]] = field(default_factory=dict)
    model: ModelStandIn | None = None
    """The model endpoint the evaluator judges through, when the scenario gives it one."""

    @property
    def token(self) -> str:
        """An admin token for this system's gateway (signed with its own JWT secret)."""
        return admin_token(self.group.env["JWT_SECRET"], sub="interview-faults")

    @property
    def gateway_port(self) -> str:
        """The gateway's HTTP port."""
        return self.group.env["PORT"]

    async def kill(self, name: str) -> None:
        """SIGKILL one service and wait for it to be gone."""
        proc = self.group.procs[name]
        proc.kill()
        await wait_for_exit(proc, 10)

    async def sigterm(self, name: str, *, grace_s: float = 20.0) -> float:
        """SIGTERM one service; seconds until it exited (SIGKILL after `grace_s`)."""
        proc = self.group.procs[name]
        began = time.monotonic()
        await terminate(proc, signal.SIGTERM, grace_s)
        took = time.monotonic() - began
        self.exit_seconds.setdefault(name, []).append(took)
        self.exit_codes.setdefault(name, []).append(proc.returncode or 0)
        return took

    async def dump_tasks(self) -> list[str]:
        """Ask every running service to log its asyncio tasks' stacks and its consumers'
        state (`task_dump`); the services that were asked."""
        asked = [n for n, p in self.group.procs.items() if p.poll() is None]
        for name in asked:
            self.group.procs[name].send_signal(DUMP_SIGNAL)
        await asyncio.sleep(1.0)  # the dump is one log line, written by the service's loop
        return asked

    async def respawn(self, name: str) -> None:
        """Start a service that has exited and wait until it is ready."""
        await self.group.respawn(name)

    async def ready(self, name: str) -> bool:
        """Whether the service's readiness probe answers 200."""
        service = next(s for s in SERVICES if s.name == name)
        url = f"http://127.0.0.1:{service.port(self.group.env)}/health/ready"
        try:
            async with httpx.AsyncClient(timeout=2) as client:
                return (await client.get(url)).status_code == 200
        except httpx.HTTPError:
            return False

    async def wait_ready(self, name: str, *, timeout_s: float) -> float | None:
        """Seconds until `name` is ready, or None past `timeout_s`."""
        began = time.monotonic()
        while time.monotonic() - began < timeout_s:
            if await self.ready(name):
                return time.monotonic() - began
            await asyncio.sleep(0.2)
        return None


@asynccontextmanager
async def system(
    base: Infra,
    backend: Backend,
    *,
    extra_env: Mapping[str, str] | None = None,
    log_dir: Path | None = None,
) -> AsyncIterator[System]:
    """The services on `base`, in consumer groups (and a database) of their own."""
    prefix = f"faults-{uuid.uuid4().hex[:8]}"
    env = local_service_env(
        {
            "KAFKA_BOOTSTRAP_SERVERS": base.bootstrap,
            "CONSUMER_GROUP_PREFIX": prefix,
            # The gateway is never open: the suite's client is an admin of this secret. All
            # the stream is one user's, so the per-user limit is lifted (its cost still paid).
            "JWT_SECRET": new_secret(),
            "SERVICE_API_KEY": new_secret(),
            "PII_MASTER_KEY": base.pii_master_key,  # data keys wrapped on the keys topic
            "RATE_LIMIT_PER_MINUTE": str(10**9),
            **_FAST_ENV,
        },
        drop=_DROPPED,
    )
    env |= dict(extra_env or {})
    database = None
    if backend == "postgres":
        database = prefix.replace("-", "_")
        env["DATABASE_URL"] = await create_database(base.postgres.dsn, database)
    if log_dir is not None:
        await asyncio.to_thread(log_dir.mkdir, parents=True, exist_ok=True)
    await _groups_at_end(base.bootstrap, prefix, backend)
    group = ServiceGroup(env, log_dir=log_dir)
    try:
        await _start_all(group)
        yield System(base, group, backend)
    finally:
        await _stop_all(group)
        if database is not None and base.postgres.pid is not None:
            await drop_database(base.postgres.dsn, database)


def consumer_groups(prefix: str, backend: Backend) -> dict[str, tuple[topics.Topic, ...]]:
    """The consumer groups of a system whose groups start with `prefix`, and their topics.

    The memory store keeps no group (it rebuilds from the whole log); the PostgreSQL store's
    group reads every domain topic."""
    groups: dict[str, tuple[topics.Topic, ...]] = {
        f"{prefix}-evaluator": (topics.ANSWERS,),
        f"{prefix}-replays": (topics.REPLAYS,),
    }
    if backend == "postgres":
        groups[f"{prefix}-store"] = tuple(topics.DOMAIN_TOPICS)
    return groups


async def _groups_at_end(bootstrap: str, prefix: str, backend: Backend) -> None:
    """Commit the scenario's new groups at the end of their topics: each scenario judges its
    own answers, not every earlier scenario's again (a fresh group would start at the earliest
    offset, and R7's judge would spend its phases on the backlog). The PostgreSQL store's
    database is new and empty, so its group starts at the end too."""
    for group_id, chosen in consumer_groups(prefix, backend).items():
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False
        )
        await consumer.start()
        try:
            partitions = [TopicPartition(t.name, p) for t in chosen for p in range(t.partitions)]
            consumer.assign(partitions)
            await consumer.commit(dict(await consumer.end_offsets(partitions)))
        finally:
            await consumer.stop()


async def _start(group: ServiceGroup, name: str, attempts: int = 3) -> None:
    for attempt in range(1, attempts + 1):
        try:
            await group.respawn(name)
            return
        except ServiceStartError:
            if attempt == attempts:
                raise
            await asyncio.sleep(attempt)


async def _start_all(group: ServiceGroup) -> None:
    """The consumers at once, then the gateway (its readiness asks the store and chat): on two
    cores this halves the seconds every scenario spends starting its services."""
    await asyncio.gather(*(_start(group, name) for name in SERVICE_NAMES if name != "api"))
    await _start(group, "api")


async def _stop_all(group: ServiceGroup, grace_s: float = 20.0) -> None:
    """The gateway first (no new requests), then the consumers at once."""
    if "api" in group.procs:
        await terminate(group.procs["api"], signal.SIGTERM, grace_s)
    others = [proc for name, proc in group.procs.items() if name != "api"]
    await asyncio.gather(*(terminate(proc, signal.SIGTERM, grace_s) for proc in others))
