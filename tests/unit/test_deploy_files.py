"""Static checks of the container deployment: Dockerfile, .dockerignore, docker-compose.yml and
.env.example, against each other and against the services' settings classes.

No Docker daemon is needed: the files are parsed, and every environment variable compose sets
is validated by the real settings class. Only the last test asks Docker itself
(`docker compose config`), and is skipped where no daemon answers.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import tomllib
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Final, cast
from urllib.parse import urlsplit

import pytest
import yaml
from interview_evaluator.judge_settings import judge_config
from interview_evaluator.settings import EvaluatorSettings
from interview_localinfra.containers import KAFKA_IMAGE, docker_available, kafka_env_name
from interview_localinfra.kafka import SINGLE_NODE_SETTINGS
from interview_shared.settings import ServiceSettings
from interview_store.backend import select_backend
from interview_store.settings import StoreSettings
from pydantic.fields import FieldInfo
from settings_env import (
    ALL_SETTINGS,
    APP_SERVICES,
    STORE_CLIENTS,
    all_settings_env,
    env_names,
    is_secret,
    load_exactly,
    settings_env,
)

ROOT: Final = Path(__file__).resolve().parents[2]
COMPOSE_FILE: Final = ROOT / "docker-compose.yml"
DOCKERFILE: Final = ROOT / "Dockerfile"
DOCKERIGNORE: Final = ROOT / ".dockerignore"
ENV_EXAMPLE: Final = ROOT / ".env.example"

INFRA_SERVICES: Final = ("kafka", "postgres", "topics")


# ---- helpers -------------------------------------------------------------------------------


def _as_dict(value: object, what: str) -> dict[str, Any]:
    assert isinstance(value, dict), f"{what} must be a mapping, got {type(value).__name__}"
    return cast(dict[str, Any], value)


@cache
def _compose() -> dict[str, Any]:
    return _as_dict(yaml.safe_load(COMPOSE_FILE.read_text()), "docker-compose.yml")


def _service(name: str) -> dict[str, Any]:
    services = _as_dict(_compose()["services"], "services")
    return _as_dict(services[name], f"services.{name}")


_INTERPOLATION: Final = re.compile(
    r"\$\$|\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|\$(?P<plain>[A-Za-z_][A-Za-z0-9_]*)"
)


def _interpolate(value: str) -> str:
    """What compose makes of `value` with no variable set (no shell value, no .env file).

    So a test passing here means `docker compose up` works out of the box.
    """

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("braced") or match.group("plain")
        op, arg = match.group("op"), match.group("arg") or ""
        if op in (":-", "-"):
            return arg
        if op in (":?", "?"):
            pytest.fail(f"${{{name}}} is required ({arg}): compose would not start without it")
        return ""  # unset: empty, and ${NAME:+x} / ${NAME+x} give nothing

    return _INTERPOLATION.sub(replace, value)


def _environment(service: str) -> dict[str, str | None]:
    """A service's environment (map or list syntax), interpolated; None = passed through."""
    raw = _service(service).get("environment") or {}
    pairs: dict[str, object] = {}
    if isinstance(raw, list):
        for item in raw:
            key, sep, value = str(item).partition("=")
            pairs[key] = value if sep else None
    else:
        pairs = _as_dict(raw, f"services.{service}.environment")
    return {
        key: None if value is None else _interpolate(str(value)) for key, value in pairs.items()
    }


@pytest.fixture
def load_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> typing.Callable[[str], ServiceSettings]:
    """Build a service's settings exactly from its compose environment, nothing else."""

    def load(service: str) -> ServiceSettings:
        env = {name: value for name, value in _environment(service).items() if value is not None}
        return load_exactly(monkeypatch, tmp_path, APP_SERVICES[service], env)

    return load


def _health_port(service: str) -> int:
    test = _as_dict(_service(service).get("healthcheck"), f"{service}.healthcheck")["test"]
    command = test if isinstance(test, str) else " ".join(str(part) for part in test)
    match = re.search(r"http://(?:127\.0\.0\.1|localhost):(\d+)/health/ready\b", command)
    assert match, f"{service}'s healthcheck does not GET /health/ready: {command!r}"
    return int(match.group(1))


def _duration_s(value: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", value):
        total += float(number) * units[unit]
    return total


def _published_ports(service: str) -> set[int]:
    published: set[int] = set()
    for port in _service(service).get("ports") or []:
        if isinstance(port, dict):
            published.add(int(port["published"]))
        else:
            host_side = str(port).split("/")[0].rsplit(":", 2)
            assert len(host_side) >= 2, f"{service}: publish {port!r} with an explicit host port"
            published.add(int(host_side[-2]))
    return published


def _target_ports(service: str) -> set[int]:
    targets: set[int] = set()
    for port in _service(service).get("ports") or []:
        if isinstance(port, dict):
            targets.add(int(port["target"]))
        else:
            targets.add(int(str(port).split("/")[0].rsplit(":", 1)[-1]))
    return targets


# ---- compose: services, images, infrastructure ---------------------------------------------


def test_every_service_is_defined() -> None:
    services = set(_as_dict(_compose()["services"], "services"))
    missing = {*INFRA_SERVICES, *APP_SERVICES} - services
    assert not missing, f"docker-compose.yml lacks {sorted(missing)}"


def test_images_are_pinned() -> None:
    for name, service in _as_dict(_compose()["services"], "services").items():
        image = service.get("image")
        if image is None:
            assert "build" in service, f"{name} has neither image nor build"
            continue
        repository, _, tag = str(image).partition("@")[0].rpartition(":")
        assert repository, f"{name}: image {image!r} has no tag"
        assert "/" not in tag, f"{name}: image {image!r} has no tag"
        assert tag != "latest", f"{name}: image {image!r} is not pinned"
    assert _service("kafka")["image"] == KAFKA_IMAGE  # the version the test suite runs against
    assert str(_service("postgres")["image"]).startswith("postgres:16")


def _kafka_env() -> dict[str, str]:
    env = _environment("kafka")
    return {key: value for key, value in env.items() if value is not None}


def _listeners(value: str) -> dict[str, tuple[str, int]]:
    listeners: dict[str, tuple[str, int]] = {}
    for item in value.split(","):
        name, _, address = item.strip().partition("://")
        host, _, port = address.rpartition(":")
        listeners[name] = (host, int(port))
    return listeners


def test_kafka_is_a_single_kraft_node() -> None:
    env = _kafka_env()
    for name in (
        "CLUSTER_ID",
        "KAFKA_NODE_ID",
        "KAFKA_PROCESS_ROLES",
        "KAFKA_LISTENERS",
        "KAFKA_ADVERTISED_LISTENERS",
        "KAFKA_CONTROLLER_LISTENER_NAMES",
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP",
        "KAFKA_CONTROLLER_QUORUM_VOTERS",
        "KAFKA_INTER_BROKER_LISTENER_NAME",
    ):
        assert env.get(name), f"kafka lacks {name}"
    assert re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_-]{21}", env["CLUSTER_ID"])
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"].startswith(f"{env['KAFKA_NODE_ID']}@")
    # The same single-node settings as the broker the test suite runs (localinfra).
    for prop, value in SINGLE_NODE_SETTINGS.items():
        assert env.get(kafka_env_name(prop)) == value, f"kafka: {kafka_env_name(prop)}={value}"


def _internal_bootstrap() -> str:
    env = _kafka_env()
    advertised = _listeners(env["KAFKA_ADVERTISED_LISTENERS"])
    host, port = advertised[env["KAFKA_INTER_BROKER_LISTENER_NAME"]]
    return f"{host}:{port}"


def test_kafka_listeners_serve_containers_and_the_host() -> None:
    env = _kafka_env()
    listeners = _listeners(env["KAFKA_LISTENERS"])
    advertised = _listeners(env["KAFKA_ADVERTISED_LISTENERS"])
    protocols = dict(
        item.split(":") for item in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
    )
    controller = env["KAFKA_CONTROLLER_LISTENER_NAMES"]

    assert controller in listeners
    assert controller not in advertised
    assert set(listeners) <= set(protocols), "every listener needs a security protocol"
    assert set(advertised) <= set(listeners), "every advertised listener must be listened on"
    for name, (_, port) in advertised.items():
        assert listeners[name][1] == port, f"listener {name} advertises another port"
    assert len(advertised) == 2, "one listener for the containers, one for the host"

    internal = env["KAFKA_INTER_BROKER_LISTENER_NAME"]
    assert advertised[internal][0] == "kafka", "containers reach the broker by service name"
    (external,) = set(advertised) - {internal}
    host, port = advertised[external]
    assert host == "localhost"
    assert port in _published_ports("kafka")
    assert port in _target_ports("kafka")
    assert listeners[internal][0] == listeners[external][0] == "0.0.0.0"


def test_infrastructure_has_healthchecks_and_volumes() -> None:
    volumes = set(_as_dict(_compose().get("volumes") or {}, "volumes"))
    for name in ("kafka", "postgres"):
        healthcheck = _as_dict(_service(name).get("healthcheck"), f"{name}.healthcheck")
        assert healthcheck.get("test")
        assert not healthcheck.get("disable")
        mounts = [str(mount).split(":")[0] for mount in _service(name).get("volumes") or []]
        assert any(mount in volumes for mount in mounts), f"{name} keeps its data in no volume"
    kafka_check = " ".join(_service("kafka")["healthcheck"]["test"])
    assert "/opt/kafka/bin/" in kafka_check
    assert "--bootstrap-server" in kafka_check
    pg_check = str(_service("postgres")["healthcheck"]["test"])
    assert "pg_isready" in pg_check


def test_postgres_credentials_work_out_of_the_box() -> None:
    env = _environment("postgres")
    for name in ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"):
        assert env.get(name), f"postgres: {name} needs a default"
    assert not _service("postgres").get("ports"), "the dev password must not face the network"


def test_topics_job_creates_the_catalogue_first() -> None:
    topics = _service("topics")
    command = topics["command"]
    command = command.split() if isinstance(command, str) else [str(part) for part in command]
    assert command[:4] == ["python", "-m", "interview_localinfra", "topics"]
    assert command[command.index("--bootstrap") + 1] == _internal_bootstrap()
    assert topics["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert str(topics.get("restart", "no")) == "no"


# ---- compose: the four services ------------------------------------------------------------


@pytest.mark.parametrize("service", APP_SERVICES)
def test_service_builds_from_the_repo_dockerfile(service: str) -> None:
    build = _as_dict(_service(service).get("build"), f"{service}.build")
    assert (ROOT / str(build.get("context", "."))).resolve() == ROOT
    assert (
        ROOT / str(build.get("context", ".")) / build.get("dockerfile", "Dockerfile")
    ).resolve() == DOCKERFILE
    assert build.get("target") in _dockerfile().stages
    assert _as_dict(build.get("args"), f"{service}.build.args") == {"SERVICE": service}
    assert "image" not in _service(service) or ":" in str(_service(service)["image"])


@pytest.mark.parametrize("service", APP_SERVICES)
def test_service_starts_after_its_dependencies(service: str) -> None:
    depends_on = _as_dict(_service(service).get("depends_on"), f"{service}.depends_on")
    conditions = {name: spec["condition"] for name, spec in depends_on.items()}
    expected = {"kafka": "service_healthy", "topics": "service_completed_successfully"}
    expected |= (
        {"postgres": "service_healthy"} if service == "store" else {"store": "service_healthy"}
    )
    assert conditions == expected


@pytest.mark.parametrize("service", APP_SERVICES)
def test_service_restarts_and_drains(
    service: str, load_settings: typing.Callable[[str], ServiceSettings]
) -> None:
    spec = _service(service)
    assert spec.get("restart") in ("always", "unless-stopped", "on-failure")
    grace = _duration_s(str(spec.get("stop_grace_period", "10s")))
    shutdown_grace = load_settings(service).shutdown_grace_s
    assert grace > shutdown_grace, "Docker would SIGKILL before SHUTDOWN_GRACE_S has passed"


def test_gateway_is_published_on_8080() -> None:
    assert 8080 in _published_ports("api")
    assert 8080 in _target_ports("api")
    for service in ("store", "evaluator", "chat"):
        assert not _service(service).get("ports"), f"only the gateway faces clients: {service}"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_service_environment_names_are_settings(service: str) -> None:
    known = settings_env(APP_SERVICES[service])
    unknown = {name for name in _environment(service) if name.upper() not in known}
    assert not unknown, f"{service} sets variables its settings class ignores: {sorted(unknown)}"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_service_environment_validates(
    service: str, load_settings: typing.Callable[[str], ServiceSettings]
) -> None:
    settings = load_settings(service)
    assert settings.kafka_bootstrap_servers == _internal_bootstrap()
    store_url = getattr(settings, "store_url", None)
    if service in STORE_CLIENTS:
        store_port = load_settings("store").port  # type: ignore[attr-defined]
        assert store_url == f"http://store:{store_port}"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_service_healthcheck_targets_its_port(
    service: str, load_settings: typing.Callable[[str], ServiceSettings]
) -> None:
    port = load_settings(service).port  # type: ignore[attr-defined]
    assert _health_port(service) == port
    healthcheck = _as_dict(_service(service)["healthcheck"], "healthcheck")
    assert not healthcheck.get("disable")


def test_store_uses_the_compose_postgres(
    load_settings: typing.Callable[[str], ServiceSettings],
) -> None:
    settings = cast(StoreSettings, load_settings("store"))
    assert select_backend(settings) == "postgres"
    assert settings.dsn is not None
    dsn = urlsplit(settings.dsn)
    postgres = _environment("postgres")
    assert dsn.scheme in ("postgresql", "postgres")
    assert dsn.hostname == "postgres"
    assert (dsn.port or 5432) == 5432
    assert dsn.username == postgres["POSTGRES_USER"]
    assert dsn.password == postgres["POSTGRES_PASSWORD"]
    assert dsn.path == f"/{postgres['POSTGRES_DB']}"


def test_evaluator_defaults_to_the_offline_scorer(
    load_settings: typing.Callable[[str], ServiceSettings],
) -> None:
    env = _environment("evaluator")
    assert "OPENAI_API_KEY" in env, "the evaluator must take OPENAI_API_KEY from the environment"
    raw = _as_dict(_service("evaluator")["environment"], "environment")["OPENAI_API_KEY"]
    assert raw is None or "${OPENAI_API_KEY" in str(raw), "never a key in the compose file"
    settings = cast(EvaluatorSettings, load_settings("evaluator"))
    assert judge_config(settings) is None, "no key set: the offline scorer, no network calls"
    defaults = EvaluatorSettings.model_fields
    assert settings.openai_model == defaults["openai_model"].default


# ---- .env.example --------------------------------------------------------------------------

_ENV_LINE: Final = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$")


def _env_example() -> dict[str, str]:
    entries: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = _ENV_LINE.match(line.strip())
        if match:
            name, value = match.groups()
            assert name not in entries, f".env.example documents {name} twice"
            entries[name] = value.strip()
    return entries


def test_env_example_documents_exactly_the_settings() -> None:
    documented = set(_env_example())
    known = set(all_settings_env())
    assert not documented - known, f"not a setting: {sorted(documented - known)}"
    assert not known - documented, f"undocumented: {sorted(known - documented)}"


def test_env_example_shows_the_defaults_and_no_secrets() -> None:
    known = all_settings_env()
    for name, value in _env_example().items():
        _, info = known[name]
        if is_secret(info):
            assert value == "", f".env.example must not hold a value for secret {name}"
        default = info.default
        shown = "" if default is None else str(default)
        assert value == shown, f".env.example: {name}={value!r}, but the default is {shown!r}"


def test_env_example_changes_nothing_when_copied() -> None:
    active = [
        line
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert not active, f"settings must be commented out: {active}"


# ---- Dockerfile and .dockerignore ----------------------------------------------------------


@dataclass
class _Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Dockerfile:
    stages: dict[str, _Stage]
    args: dict[str, str]  # global ARGs (before the first FROM) and their defaults
    order: list[str]

    def instructions(self, stage: str) -> Iterator[tuple[str, str]]:
        """The stage's instructions, its ancestors' first."""
        current = self.stages[stage]
        if current.base in self.stages:
            yield from self.instructions(current.base)
        yield from current.instructions

    def user(self, stage: str) -> str:
        users = [value for keyword, value in self.instructions(stage) if keyword == "USER"]
        return users[-1] if users else "root"


@cache
def _dockerfile() -> _Dockerfile:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    stages: dict[str, _Stage] = {}
    order: list[str] = []
    args: dict[str, str] = {}
    current: _Stage | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        keyword, rest = keyword.upper(), rest.strip()
        if keyword == "FROM":
            parts = rest.split()
            base = parts[0]
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else str(len(order))
            current = stages[name] = _Stage(name, base)
            order.append(name)
        elif current is None:
            if keyword == "ARG":
                key, _, default = rest.partition("=")
                args[key] = default
        else:
            current.instructions.append((keyword, rest))
    return _Dockerfile(stages, args, order)


def _stage_args(stage: str) -> dict[str, str]:
    declared: dict[str, str] = {}
    for keyword, value in _dockerfile().instructions(stage):
        if keyword == "ARG":
            key, _, default = value.partition("=")
            declared[key] = default
    return declared


def test_dockerfile_stages_exist_and_run_as_non_root() -> None:
    dockerfile = _dockerfile()
    targets = {
        str(_as_dict(_service(name)["build"], "build").get("target", dockerfile.order[-1]))
        for name in (*APP_SERVICES, "topics")
    }
    assert targets <= set(dockerfile.stages), f"unknown targets {targets - set(dockerfile.stages)}"
    for stage in (*targets, dockerfile.order[-1]):
        user = dockerfile.user(stage)
        assert user.split(":")[0] not in ("root", "0"), f"stage {stage} runs as {user}"
    base = _dockerfile().stages[dockerfile.order[0]].base
    image = base.replace("${PYTHON_IMAGE}", dockerfile.args.get("PYTHON_IMAGE", ""))
    assert image.startswith("python:3.11-slim"), image


def test_dockerfile_installs_the_locked_workspace_without_dev_tools() -> None:
    runs = [
        value
        for stage in _dockerfile().order
        for k, value in _dockerfile().instructions(stage)
        if k == "RUN"
    ]
    assert any(
        re.search(r"pip install .*\buv==(\$\{UV_VERSION\}|\d+\.\d+\.\d+)", run) for run in runs
    )
    uv_version = _stage_args(_dockerfile().order[0]).get("UV_VERSION", "")
    assert re.fullmatch(r"\d+\.\d+\.\d+", uv_version), "pin uv to an exact version"
    syncs = [run for run in runs if "uv sync" in run]
    assert syncs
    assert all("--frozen" in run and "--no-dev" in run for run in syncs)


def test_dockerfile_service_stage_runs_the_service() -> None:
    dockerfile = _dockerfile()
    stage = dockerfile.order[-1]
    instructions = list(dockerfile.instructions(stage))
    envs = " ".join(value for keyword, value in instructions if keyword == "ENV")
    assert "PYTHONUNBUFFERED=1" in envs
    assert "SERVICE" in _stage_args(stage)
    for service in APP_SERVICES:
        assert importlib.util.find_spec(f"interview_{service}.main") is not None
    assert "interview_${SERVICE}.main" in envs
    cmd = [value for keyword, value in instructions if keyword == "CMD"][-1]
    assert "exec python -m" in cmd, "python must be PID 1 to receive SIGTERM"
    healthchecks = [value for keyword, value in instructions if keyword == "HEALTHCHECK"]
    assert healthchecks
    assert "/health/ready" in healthchecks[-1]
    # The image's own healthcheck maps each service to its port variable and default.
    pairs = {
        service: (variable, int(port))
        for service, variable, port in re.findall(
            r"'(\w+)': \('(\w+)', '(\d+)'\)", healthchecks[-1]
        )
    }
    for service, cls in APP_SERVICES.items():
        port_field = cls.model_fields["port"]
        assert pairs[service] == (
            next(iter(env_names("port", port_field))),
            port_field.default,
        ), f"Dockerfile HEALTHCHECK port of {service}"


def test_dockerfile_copies_every_workspace_member_manifest() -> None:
    # The dependency layer is installed from the manifests alone; a member missing there
    # breaks `uv sync --frozen` (or silently drops its dependencies).
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    members = {
        path.parent.relative_to(ROOT).as_posix()
        for pattern in root["tool"]["uv"]["workspace"]["members"]
        for path in ROOT.glob(f"{pattern}/pyproject.toml")
    }
    copied = {
        part.removesuffix("/pyproject.toml")
        for keyword, value in _dockerfile().stages[_dockerfile().order[0]].instructions
        if keyword == "COPY"
        for part in value.split()
        if part.endswith("/pyproject.toml")
    }
    assert members, "no workspace members found"
    assert members <= copied, f"Dockerfile does not COPY {sorted(members - copied)}"


def _ignore_patterns() -> list[str]:
    lines = (line.strip() for line in DOCKERIGNORE.read_text().splitlines())
    return [line.rstrip("/") for line in lines if line and not line.startswith("#")]


def test_dockerignore_keeps_local_state_and_secrets_out() -> None:
    patterns = set(_ignore_patterns())
    for required in (".venv", ".kafka", ".run", ".git", ".env", "**/__pycache__"):
        assert required in patterns, f".dockerignore must exclude {required}"
    assert not any(pattern.startswith("!") for pattern in patterns)


def test_dockerfile_copies_only_what_exists_and_is_not_ignored() -> None:
    patterns = _ignore_patterns()
    for stage in _dockerfile().order:
        for keyword, value in _dockerfile().stages[stage].instructions:
            if keyword != "COPY" or "--from=" in value:
                continue
            *sources, _ = [part for part in value.split() if not part.startswith("--")]
            for source in sources:
                path = source.rstrip("/")
                assert (ROOT / path).exists(), f"COPY {source}: no such file in the repo"
                top = path.split("/")[0]
                assert top not in patterns, f"COPY {source} is ignored"
                assert path not in patterns, f"COPY {source} is ignored"


# ---- Docker itself, where a daemon answers -------------------------------------------------


def test_docker_compose_config_is_valid() -> None:
    docker = shutil.which("docker")
    if docker is None or not docker_available():
        pytest.skip("no Docker daemon")
    version = subprocess.run(
        [docker, "compose", "version"], capture_output=True, text=True, check=False, timeout=30
    )
    if version.returncode != 0:
        pytest.skip("no docker compose plugin")
    result = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE_FILE), "config", "-q"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_settings_classes_cover_every_field_name() -> None:
    # Guards the alias logic above: every field maps to at least one variable name.
    mapping: Mapping[str, tuple[str, FieldInfo]] = all_settings_env()
    fields = {name for cls in ALL_SETTINGS for name in cls.model_fields}
    assert fields == {name for name, _ in mapping.values()}
