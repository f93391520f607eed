"""Kafka and Postgres in Docker via testcontainers, for machines where a daemon answers.

testcontainers is a dev dependency, imported lazily so the rest of this package works without it.
Its KafkaContainer drives Confluent's cp-kafka start scripts and cannot run the apache/kafka image,
so the broker is a generic container configured through the image's KAFKA_* variables.
"""

from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from interview_localinfra._process import free_port
from interview_localinfra.kafka import SINGLE_NODE_SETTINGS

if TYPE_CHECKING:
    from testcontainers.community.postgres import PostgresContainer
    from testcontainers.core.container import DockerContainer

KAFKA_IMAGE: Final = "apache/kafka:4.1.1"  # same version as deploy/kafka/pom.xml
POSTGRES_IMAGE: Final = "postgres:16-alpine"
_KAFKA_PORT: Final = 9092
_DEFAULT_DOCKER_HOST: Final = "unix:///var/run/docker.sock"


def _daemon_socket_reachable(docker_host: str, timeout: float) -> bool:
    """Connect to the daemon's socket without the Docker SDK.

    The SDK leaks its unix socket when the connection is refused, which pytest (warnings are
    errors) reports as an unraisable ResourceWarning; this check keeps the no-daemon case clean.
    """
    url = urlsplit(docker_host)
    try:
        if url.scheme in ("unix", "http+unix"):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(timeout)
                sock.connect(url.path)
        elif url.scheme in ("tcp", "http", "https") and url.hostname:
            with socket.create_connection((url.hostname, url.port or 2375), timeout=timeout):
                pass
    except OSError:
        return False
    return True  # reachable, or a transport (ssh, npipe) that only the SDK can judge


def docker_available(
    timeout: float = 2.0, *, image: str | None = None, docker_host: str | None = None
) -> bool:
    """True if a Docker daemon answers a ping within ``timeout`` seconds (and has ``image``).

    ``docker_host`` defaults to DOCKER_HOST, else the default socket. Any failure (no SDK, no
    socket, daemon down, permission denied) means "no Docker".
    """
    explicit = docker_host is not None
    docker_host = docker_host or os.environ.get("DOCKER_HOST", _DEFAULT_DOCKER_HOST)
    if not _daemon_socket_reachable(docker_host, timeout):
        return False
    try:
        import docker

        seconds = max(1, round(timeout))
        client = (  # from_env also honours DOCKER_TLS_VERIFY and DOCKER_CERT_PATH
            docker.DockerClient(base_url=docker_host, timeout=seconds)
            if explicit
            else docker.from_env(timeout=seconds)
        )
    except Exception:
        return False
    try:
        if image is not None:
            client.images.get(image)  # raises ImageNotFound: a local look-up, never a pull
        return bool(client.ping())
    except Exception:
        return False
    finally:
        client.close()


def use_container(image: str) -> bool:
    """Whether a test server should be a testcontainers container of ``image``.

    TESTCONTAINERS=1: whenever a daemon answers (it may pull the image); TESTCONTAINERS=0:
    never; unset: only when the image is already local. A daemon alone is not enough: where
    registries cannot be reached (as on CI machines), a pull would fail every infrastructure
    test, while the local processes of interview_localinfra work.
    """
    choice = os.environ.get("TESTCONTAINERS", "").strip().lower()
    if choice in ("0", "false", "no"):
        return False
    if choice in ("1", "true", "yes"):
        return docker_available()
    return docker_available(image=image)


def kafka_env_name(prop: str) -> str:
    """server.properties key -> apache/kafka image variable (. -> _, _ -> __, - -> ___)."""
    escaped = prop.replace("_", "__").replace("-", "___").replace(".", "_")
    return "KAFKA_" + escaped.upper()


def _kafka_properties(advertised_host: str, host_port: int) -> dict[str, str]:
    # Setting any KAFKA_* variable replaces the image's whole default config, so this is complete.
    return {
        "node.id": "1",
        "process.roles": "broker,controller",
        "listeners": f"PLAINTEXT://0.0.0.0:{_KAFKA_PORT},CONTROLLER://localhost:9093",
        # The host port is fixed before start so it can be advertised; Docker's random mapping
        # is only known afterwards.
        "advertised.listeners": f"PLAINTEXT://{advertised_host}:{host_port}",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "controller.quorum.voters": "1@localhost:9093",
        **SINGLE_NODE_SETTINGS,
    }


def start_kafka_container(image: str = KAFKA_IMAGE) -> tuple[DockerContainer, str]:
    """Start an apache/kafka broker; return the container (stop it when done) and bootstrap."""
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import LogMessageWaitStrategy

    host_port = free_port()
    container = DockerContainer(image)
    host = container.get_docker_client().host()
    for prop, value in _kafka_properties(host, host_port).items():
        container.with_env(kafka_env_name(prop), value)
    container.with_bind_ports(_KAFKA_PORT, host_port)
    container.waiting_for(LogMessageWaitStrategy("Kafka Server started").with_startup_timeout(120))
    container.start()
    return container, f"{host}:{host_port}"


def start_postgres_container(image: str = POSTGRES_IMAGE) -> tuple[PostgresContainer, str]:
    """Start a Postgres container; return it (stop it when done) and a plain asyncpg DSN."""
    from testcontainers.community.postgres import PostgresContainer

    container = PostgresContainer(image, dbname="interview", driver=None)
    container.start()
    return container, container.get_connection_url()
