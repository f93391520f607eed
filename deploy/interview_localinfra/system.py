"""`make run`: the whole system on one machine: Kafka (unless one is given), topics, four services.

Every child runs in its own process group, so Ctrl-C (SIGINT to the terminal's group) or SIGTERM
reaches only this supervisor, which then stops things in order: the gateway first (no new
work), the consumers next (they finish in-flight messages), Kafka last. `orphan_guard` makes the
kernel kill the children if the supervisor itself dies. A child that dies on its own (a crash,
SIGKILL, the OOM killer) is restarted with back-off (see supervisor.py).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from interview_shared.auth import new_secret

from interview_localinfra._process import (
    MissingToolError,
    ServiceStartError,
    free_port,
    orphan_guard,
    terminate,
)
from interview_localinfra.devauth import development_auth, development_pii_key
from interview_localinfra.kafka import LocalKafka
from interview_localinfra.readiness import ServiceNotReady, wait_ready
from interview_localinfra.supervisor import Child, RestartPolicy, supervise
from interview_localinfra.topics import ensure_topics

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Service:
    """One service process: its module and the port its health endpoint answers on."""

    name: str
    module: str
    port_env: str
    default_port: int

    def port(self, env: dict[str, str]) -> int:
        """The port this service will listen on."""
        return int(env.get(self.port_env, self.default_port))


START_RETRY_DELAY_S = 1.0
ALL_READY = "Ctrl-C stops"
"""How `make run`'s line saying that all four services are ready ends (tests wait for it)."""

# Start order: the store first (the others read it), the gateway last; stop in reverse.
SERVICES = (
    Service("store", "interview_store.main", "STORE_PORT", 8081),
    Service("evaluator", "interview_evaluator.main", "EVALUATOR_PORT", 8082),
    Service("chat", "interview_chat.main", "CHAT_PORT", 8083),
    Service("api", "interview_api.main", "PORT", 8080),
)


def local_service_env(
    extra: Mapping[str, str] | None = None, *, drop: tuple[str, ...] = ()
) -> dict[str, str]:
    """This process's environment for a `ServiceGroup` on this machine (tests, benchmarks):
    without the variables starting with `drop`, the four services on free loopback ports with
    quiet logs, then `extra`."""
    env = {k: v for k, v in os.environ.items() if not (drop and k.startswith(drop))}
    env |= {service.port_env: str(free_port()) for service in SERVICES}
    env |= {"HOST": "127.0.0.1", "LOG_LEVEL": "WARNING"}
    return env | dict(extra or {})


def say(message: str) -> None:
    """Supervisor messages go to stderr so they never mix with a service's JSON log line."""
    print(f"[make run] {message}", file=sys.stderr, flush=True)


def spawn_service(
    service: Service, env: dict[str, str], log_dir: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start `python -m <module>` in its own process group (output to `<log_dir>/<name>.log`)."""
    # Without a log folder the service writes to our own stdout (make run's terminal).
    log = (log_dir / f"{service.name}.log").open("ab") if log_dir is not None else None
    try:
        return subprocess.Popen(
            [*orphan_guard(), sys.executable, "-m", service.module],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT if log is not None else None,
            process_group=0,
        )
    finally:
        if log is not None:
            log.close()  # the child holds its own copy of the descriptor


async def wait_healthy(
    service: Service, env: dict[str, str], proc: subprocess.Popen[bytes], *, timeout_s: float
) -> None:
    """Return once the service's `/health/ready` answers 200; raise if it exits or times out."""
    url = f"http://127.0.0.1:{service.port(env)}/health/ready"
    await wait_ready(service.name, url, proc, timeout_s=timeout_s)


class ServiceGroup:
    """The four services as processes: started together until each is healthy, stopped gateway
    first.

    Used by `make run` and by the end-to-end tests, so both exercise the same start-up path.
    """

    def __init__(
        self,
        env: dict[str, str],
        *,
        ready_timeout_s: float | None = None,
        start_attempts: int | None = None,
        log_dir: Path | None = None,
        services: Sequence[Service] = SERVICES,
    ) -> None:
        """`log_dir`: write each service's output to `<log_dir>/<name>.log` (benchmarks).
        A service that exits during start-up, or is not ready within `ready_timeout_s`
        (`SUPERVISOR_READY_TIMEOUT_S`, 90; then it is stopped), is started again, up to
        `start_attempts` (`SUPERVISOR_START_ATTEMPTS`, 5) starts in all."""
        self.env = dict(env)
        self.env.setdefault("STORE_URL", f"http://127.0.0.1:{SERVICES[0].port(self.env)}")
        chat = next(service for service in SERVICES if service.name == "chat")
        self.env.setdefault("CHAT_URL", f"http://127.0.0.1:{chat.port(self.env)}")
        # One key for the services' calls to each other, unless the caller gives one.
        self.env.setdefault("SERVICE_API_KEY", new_secret())
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._ready_timeout_s = ready_timeout_s or float(
            self.env.get("SUPERVISOR_READY_TIMEOUT_S", 90)
        )
        self._start_attempts = start_attempts or int(self.env.get("SUPERVISOR_START_ATTEMPTS", 5))
        self._log_dir = log_dir
        self._services = tuple(services)

    async def start(self, on_ready: Callable[[Service], None] = lambda _: None) -> None:
        """Start every service at once and wait until each readiness probe answers 200.

        They start together: each spends seconds importing and joining its consumer groups,
        and none needs another to be ready first (the gateway's probe waits for the store's
        itself). If one cannot be started, the others' starts are cancelled and it raises."""
        starts = [asyncio.create_task(self._start_one(s, on_ready)) for s in self._services]
        try:
            await asyncio.gather(*starts)
        except BaseException:
            for task in starts:
                task.cancel()
            await asyncio.gather(*starts, return_exceptions=True)
            raise

    async def _start_one(self, service: Service, on_ready: Callable[[Service], None]) -> None:
        for attempt in range(1, self._start_attempts + 1):
            try:
                await self.respawn(service.name)
                break
            except ServiceStartError as exc:
                # Exited (e.g. Kafka unreachable for a moment) or hung: start it again after a
                # back-off, as an orchestrator would; a bad setting still fails in seconds.
                if attempt == self._start_attempts:
                    raise
                delay = START_RETRY_DELAY_S * 2 ** (attempt - 1)
                say(
                    f"{exc}; starting it again in {delay:.0f}s"
                    f" ({attempt + 1} of {self._start_attempts})"
                )
                await asyncio.sleep(delay)
        on_ready(service)

    async def restart(self, name: str, grace_s: float = 20.0) -> None:
        """Stop one service gracefully and start it again (restart and recovery tests)."""
        await terminate(self.procs[name], signal.SIGTERM, grace_s)
        await self.respawn(name)

    async def respawn(self, name: str) -> None:
        """Start a service whose process has exited and wait until it is ready.

        One that never gets ready is stopped before the error propagates: a hung process would
        otherwise look alive to the supervisor forever, and hold its port."""
        service = next(s for s in self._services if s.name == name)
        self.procs[name] = proc = spawn_service(service, self.env, self._log_dir)
        try:
            await wait_healthy(service, self.env, proc, timeout_s=self._ready_timeout_s)
        except ServiceNotReady:
            await terminate(proc, signal.SIGTERM, grace_s=5)
            raise

    def exited(self) -> str | None:
        """The name of a service that has exited, if any."""
        return next((name for name, p in self.procs.items() if p.poll() is not None), None)

    async def stop(self, grace_s: float = 20.0) -> None:
        """SIGTERM each service, gateway first; SIGKILL what outlives `grace_s`."""
        for name in reversed(list(self.procs)):
            await terminate(self.procs[name], signal.SIGTERM, grace_s)

    async def __aenter__(self) -> ServiceGroup:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()


@dataclass
class _ServiceChild:
    group: ServiceGroup
    name: str

    def exit_code(self) -> int | None:
        return self.group.procs[self.name].poll()

    async def restart(self) -> None:
        await self.group.respawn(self.name)


@dataclass
class _KafkaChild:
    kafka: LocalKafka
    name: str = "kafka"

    def exit_code(self) -> int | None:
        if self.kafka.pid is not None:
            return None
        # Dead on its own, or stopped by a failed restart (which leaves no exit code): retry.
        code = self.kafka.exit_code()
        return 1 if code is None else code

    async def restart(self) -> None:
        await self.kafka.start()  # same ports and data dir: topics and offsets survive


class _Supervision:
    """One supervising task per child, each started as soon as its child is ready: a broker or a
    store that dies while the later services start is restarted too, not only once all are up."""

    def __init__(self, env: dict[str, str], stop: asyncio.Event) -> None:
        self._policy = RestartPolicy.from_env(env)
        self._stop = stop
        self._tasks: list[asyncio.Task[bool]] = []

    def watch(self, child: Child) -> None:
        """Restart `child` whenever it dies from now on."""
        task = supervise(child, policy=self._policy, stop=self._stop, say=say)
        self._tasks.append(asyncio.create_task(task))

    async def until_stopped(self) -> bool:
        """Wait for `stop`; False if a child gave up (a crash loop)."""
        return all(await asyncio.gather(*self._tasks))

    async def cancel(self) -> None:
        """Cancel a restart in progress; the new process is stopped with the rest."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def run() -> int:
    """Start everything, wait for a signal or a crash, stop everything."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    env = dict(os.environ)
    supervision = _Supervision(env, stop)
    kafka: LocalKafka | None = None
    group: ServiceGroup | None = None
    try:
        if not env.get("KAFKA_BOOTSTRAP_SERVERS"):
            kafka = LocalKafka(
                port=int(env.get("KAFKA_PORT", "9092")),
                workdir=Path(env.get("LOCAL_KAFKA_DIR", REPO_ROOT / ".run" / "kafka")),
            )
            say("starting a local Apache Kafka broker (KRaft, single node)...")
            await kafka.start()
            env["KAFKA_BOOTSTRAP_SERVERS"] = kafka.bootstrap_servers
            say(f"Kafka ready at {kafka.bootstrap_servers} in {kafka.startup_seconds:.1f}s")
            supervision.watch(_KafkaChild(kafka))
        dev_token = development_auth(env, REPO_ROOT / ".run")
        development_pii_key(env, REPO_ROOT / ".run")
        created = await ensure_topics(env["KAFKA_BOOTSTRAP_SERVERS"])
        say(f"topics ready ({len(created)} created)")
        group = services = ServiceGroup(env)

        def ready(service: Service) -> None:
            say(f"{service.name} ready on port {service.port(services.env)}")
            supervision.watch(_ServiceChild(services, service.name))

        await services.start(ready)
        gateway = f"http://localhost:{SERVICES[-1].port(env)}"
        say(f"the gateway is at {gateway} (API docs: {gateway}/docs); {ALL_READY}")
        if dev_token is not None:
            say(f"admin token (also in .run/dev-token): {dev_token}")
            curl = 'curl -H "Authorization: Bearer $(cat .run/dev-token)"'
            say(f"try: {curl} {gateway}/api/v1/interviews")
        return 0 if await supervision.until_stopped() else 1
    except (MissingToolError, ServiceStartError) as exc:
        say(str(exc))
        return 1
    finally:
        await supervision.cancel()
        say("stopping...")
        if group is not None:
            await group.stop()
        if kafka is not None:
            await kafka.stop()
        say("stopped")


def main() -> None:
    """Entry point of `make run`."""
    sys.exit(asyncio.run(run()))


if __name__ == "__main__":
    main()
