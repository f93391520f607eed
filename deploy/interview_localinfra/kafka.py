"""A real single-node Apache Kafka (KRaft) broker run from Maven Central jars, no Docker needed.

The broker's classpath is every jar ``deploy/kafka/pom.xml`` resolves (the official tarball's
``libs/`` plus the SLF4J->Log4j2 binding it adds), copied once into ``<repo>/.kafka/libs``.
"""

from __future__ import annotations

import asyncio
import base64
import fcntl
import hashlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from interview_localinfra._process import (
    POLL_INTERVAL_S,
    LocalServer,
    ServiceStartError,
    free_port,
    log_tail,
    orphan_guard,
    require_tool,
    terminate,
)

JAVA_HINT: Final = (
    "Java 17+ is required to run the local Kafka broker: apt-get install -y openjdk-17-jre-headless"
)
MAVEN_HINT: Final = "Maven is required to download the Kafka broker jars: apt-get install -y maven"

_DEPLOY_DIR: Final = Path(__file__).resolve().parent.parent
DEFAULT_POM: Final = _DEPLOY_DIR / "kafka" / "pom.xml"
DEFAULT_LIBS_DIR: Final = _DEPLOY_DIR.parent / ".kafka" / "libs"

# Written into the libs dir after a complete copy; holds the pom's hash so that a pom change
# (e.g. a Kafka version bump) or an interrupted download triggers a fresh copy.
_STAMP_NAME: Final = ".pom-sha256"

# Broker defaults that assume a 3-node production cluster, or slow tests down. Shared with the
# Docker path (see containers.py) so both brokers behave the same.
SINGLE_NODE_SETTINGS: Final[Mapping[str, str]] = {
    "offsets.topic.replication.factor": "1",
    # Default 50: every partition is loaded by the group coordinator; one is plenty for tests.
    "offsets.topic.num.partitions": "1",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "transaction.state.log.num.partitions": "1",
    "share.coordinator.state.topic.replication.factor": "1",
    "share.coordinator.state.topic.min.isr": "1",
    "default.replication.factor": "1",
    "min.insync.replicas": "1",
    # Default 3000 ms delays every consumer group's first join.
    "group.initial.rebalance.delay.ms": "0",
    # Topics come only from the catalogue (topics.py); a typo must fail, not create a topic.
    "auto.create.topics.enable": "false",
    # A broker restarted after a crash registers with a new incarnation, which the controller
    # refuses while the old one's lease lasts (default 9 s): every SIGKILL cost 12.5 s before
    # the broker served again, 5.3 s with a 3 s lease (measured here, docs/reliability.md).
    # Six heartbeats per lease leave room for a loaded 2-core machine's pauses.
    "broker.session.timeout.ms": "3000",
    "broker.heartbeat.interval.ms": "500",
}

# Quiet by default; KafkaRaftServer logs "Kafka Server started" at INFO, which is the one line
# worth seeing in the log. (The ZooKeeper-era KafkaServer class no longer exists in 4.x.)
_LOG4J2_XML: Final = """\
<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <Console name="stdout" target="SYSTEM_OUT">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </Console>
  </Appenders>
  <Loggers>
    <Root level="WARN"><AppenderRef ref="stdout"/></Root>
    <Logger name="kafka.server.KafkaRaftServer" level="INFO"/>
    <Logger name="kafka.server.KafkaServer" level="INFO"/>
  </Loggers>
</Configuration>
"""

# Heap and JIT settings for a test broker on a small machine: C1 only and SerialGC cut start-up
# time; 512 MiB is far more than a test workload needs (the scripts' default is 1 GiB).
_JVM_FLAGS: Final = ("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true")


def _pom_digest(pom: Path) -> str:
    return hashlib.sha256(pom.read_bytes()).hexdigest()


def _jars_current(libs_dir: Path, digest: str) -> bool:
    stamp = libs_dir / _STAMP_NAME
    return stamp.is_file() and stamp.read_text().strip() == digest


def _copy_dependencies(pom: Path, target: Path) -> None:
    """Run Maven to copy the broker's runtime classpath into ``target``."""
    mvn = require_tool("mvn", MAVEN_HINT)
    cmd = [
        mvn,
        "-B",
        "-q",
        "-f",
        str(pom),
        "dependency:copy-dependencies",
        "-DincludeScope=runtime",
        f"-DoutputDirectory={target}",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()[-4000:]
        raise ServiceStartError(f"mvn could not fetch the Kafka jars:\n{output}")


def ensure_kafka_jars(libs_dir: Path = DEFAULT_LIBS_DIR, pom: Path = DEFAULT_POM) -> Path:
    """Make sure ``libs_dir`` holds the broker classpath for ``pom``; download it if not.

    Blocking (Maven takes about a minute on a cold ~/.m2). The copy goes to a sibling directory
    that replaces ``libs_dir`` only when complete, under a file lock, so an interrupted or
    concurrent run never leaves a half-filled classpath behind.
    """
    if not pom.is_file():
        raise FileNotFoundError(f"Kafka classpath pom not found: {pom}")
    digest = _pom_digest(pom)
    if _jars_current(libs_dir, digest):
        return libs_dir
    libs_dir.parent.mkdir(parents=True, exist_ok=True)
    with (libs_dir.parent / ".libs.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _jars_current(libs_dir, digest):  # another process finished while we waited
            return libs_dir
        staging = Path(tempfile.mkdtemp(prefix="libs-", dir=libs_dir.parent))
        staging.chmod(0o755)  # mkdtemp makes it private; the jars are not secret
        try:
            _copy_dependencies(pom, staging)
            (staging / _STAMP_NAME).write_text(digest + "\n")
            shutil.rmtree(libs_dir, ignore_errors=True)
            staging.rename(libs_dir)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return libs_dir


def random_cluster_id() -> str:
    """A KRaft cluster id: URL-safe base64 of 16 random bytes, unpadded (what StorageTool makes).

    Kafka rejects ids starting with '-' because they look like command-line flags.
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def _render_properties(settings: Mapping[str, str]) -> str:
    return "".join(f"{key}={value}\n" for key, value in settings.items())


def _port_open(host: str, port: int) -> bool:
    """Cheap pre-check, so aiokafka is not asked (and logs no errors) before the port is up."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


async def broker_ready(bootstrap_servers: str) -> bool:
    """True once the broker answers a metadata request and lists itself as a live broker."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=5000)
    try:
        await admin.start()
        cluster = await admin.describe_cluster()
    except (KafkaError, OSError, TimeoutError):
        return False
    finally:
        await admin.close()
    return bool(cluster.get("brokers"))


class LocalKafka(LocalServer):
    """One KRaft broker+controller JVM on 127.0.0.1, with its data in a private directory.

    Use ``async with LocalKafka() as kafka: kafka.bootstrap_servers``, or call ``start()``,
    ``stop()`` and ``cleanup()`` yourself. ``stop()`` followed by ``start()`` restarts the same
    broker on the same ports and data (topics and committed offsets survive).
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        controller_port: int | None = None,
        workdir: Path | None = None,
        libs_dir: Path = DEFAULT_LIBS_DIR,
        pom: Path = DEFAULT_POM,
        heap: str = "512m",
        startup_timeout: float = 120.0,
        stop_timeout: float = 30.0,
        extra_properties: Mapping[str, str] | None = None,
    ) -> None:
        """Configure (but do not start) a broker; ports default to free ones picked now."""
        self.host = "127.0.0.1"
        self.port = port if port is not None else free_port(self.host)
        self.controller_port = (
            controller_port if controller_port is not None else free_port(self.host)
        )
        self._owns_workdir = workdir is None
        self.workdir = workdir if workdir is not None else Path(tempfile.mkdtemp(prefix="kafka-"))
        self.libs_dir = libs_dir
        self.pom = pom
        self.heap = heap
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.extra_properties = dict(extra_properties or {})
        self._proc: subprocess.Popen[bytes] | None = None
        # Measurements of the last start(), for reports and for spotting regressions.
        self.format_seconds: float | None = None
        self.startup_seconds: float | None = None

    @property
    def bootstrap_servers(self) -> str:
        """The ``host:port`` clients connect to."""
        return f"{self.host}:{self.port}"

    @property
    def data_dir(self) -> Path:
        """KRaft metadata log and topic partitions."""
        return self.workdir / "data"

    @property
    def log_path(self) -> Path:
        """The broker's stdout/stderr (Log4j2 console output)."""
        return self.workdir / "kafka.log"

    def properties(self) -> dict[str, str]:
        """The complete server.properties for this broker."""
        listeners = (
            f"PLAINTEXT://{self.host}:{self.port},CONTROLLER://{self.host}:{self.controller_port}"
        )
        node = {
            "process.roles": "broker,controller",
            "node.id": "1",
            # Static quorum: formatting then needs no --standalone and no dynamic voter records.
            "controller.quorum.voters": f"1@{self.host}:{self.controller_port}",
            "listeners": listeners,
            "advertised.listeners": f"PLAINTEXT://{self.host}:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data_dir),
        }
        return {**node, **SINGLE_NODE_SETTINGS, **self.extra_properties}

    async def start(self) -> None:
        """Fetch jars if needed, format storage on first start, launch the JVM, wait until ready."""
        if self.pid is not None:
            return
        java = require_tool("java", JAVA_HINT)
        await asyncio.to_thread(ensure_kafka_jars, self.libs_dir, self.pom)
        began = time.monotonic()
        self._write_config()
        self.format_seconds = await self._format_storage(java)
        self._launch(java)
        try:
            await self._wait_ready()
        except BaseException:
            await self.stop()
            raise
        self.startup_seconds = time.monotonic() - began

    async def stop(self) -> None:
        """SIGTERM for a controlled shutdown; SIGKILL after ``stop_timeout`` seconds."""
        proc, self._proc = self._proc, None
        if proc is not None:
            await terminate(proc, signal.SIGTERM, self.stop_timeout)

    def cleanup(self) -> None:
        """Delete the work directory if this object created it. Call after ``stop()``."""
        if self._owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _classpath(self) -> str:
        # The JVM expands "dir/*" to every jar in dir, as the tarball's scripts rely on.
        return f"{self.libs_dir}/*"

    def _java_command(self, java: str, main_class: str, *args: str) -> list[str]:
        return [
            java,
            f"-Xmx{self.heap}",
            *_JVM_FLAGS,
            f"-Dlog4j2.configurationFile={self.workdir / 'log4j2.xml'}",
            f"-Dkafka.logs.dir={self.workdir / 'logs'}",
            "-cp",
            self._classpath(),
            main_class,
            *args,
        ]

    def _write_config(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "server.properties").write_text(_render_properties(self.properties()))
        (self.workdir / "log4j2.xml").write_text(_LOG4J2_XML)

    async def _format_storage(self, java: str) -> float:
        """Format the data dir with a fresh cluster id unless a previous start already did."""
        if (self.data_dir / "meta.properties").is_file():
            return 0.0
        began = time.monotonic()
        cmd = self._java_command(
            java,
            "kafka.tools.StorageTool",
            "format",
            "--cluster-id",
            random_cluster_id(),
            "--config",
            str(self.workdir / "server.properties"),
        )
        result = await asyncio.to_thread(
            subprocess.run, cmd, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            output = (result.stdout + result.stderr).strip()[-4000:]
            raise ServiceStartError(f"kafka StorageTool format failed:\n{output}")
        return time.monotonic() - began

    def _launch(self, java: str) -> None:
        cmd = self._java_command(java, "kafka.Kafka", str(self.workdir / "server.properties"))
        with self.log_path.open("ab") as log:
            # Own process group: a terminal's Ctrl-C reaches only Python, which then shuts the
            # broker down in order (after the services using it). orphan_guard() covers the case
            # where Python itself dies.
            self._proc = subprocess.Popen(
                [*orphan_guard(), *cmd],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                process_group=0,
            )

    async def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                raise ServiceStartError(
                    f"Kafka broker exited during start-up; log {self.log_path}:\n"
                    + log_tail(self.log_path)
                )
            if _port_open(self.host, self.port) and await broker_ready(self.bootstrap_servers):
                return
            await asyncio.sleep(POLL_INTERVAL_S)
        raise ServiceStartError(
            f"Kafka broker not ready after {self.startup_timeout:.0f}s; log {self.log_path}:\n"
            + log_tail(self.log_path)
        )
