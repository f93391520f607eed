"""Static checks of the Kubernetes manifests (deploy/k8s), with no cluster.

The kustomization is rendered by tests/kustomize_render.py (the features it uses; where
`kubectl` is installed, its built-in kustomize must render the same objects), then every object is
validated against the Kubernetes API's OpenAPI schemas that kubernetes-validate ships (strict:
an unknown field fails), and the KEDA ScaledObject against the schema of KEDA's own CRD
(schemas/keda-scaledobject-v2.20.2.json says where it comes from). The environment each
Deployment gets must be settings its service reads, and must load.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Final, cast

import jsonschema
import kubernetes_validate
import pytest
import yaml
from interview_evaluator.handlers import ANSWERS_ROLE
from interview_shared import topics
from interview_shared.settings import ServiceSettings
from interview_store.backend import select_backend
from interview_store.settings import StoreSettings
from kustomize_render import Object, render
from settings_env import (
    APP_SERVICES,
    STORE_CLIENTS,
    all_settings_env,
    is_secret,
    load_exactly,
    settings_env,
)

ROOT: Final = Path(__file__).resolve().parents[2]
BASE: Final = ROOT / "deploy" / "k8s" / "base"
KEDA_SCHEMA: Final = Path(__file__).parent / "schemas" / "keda-scaledobject-v2.20.2.json"

# The oldest Kubernetes minor still maintained upstream, and the newest the package knows.
K8S_VERSIONS: Final = ("1.32.0", kubernetes_validate.latest_version())
# Metadata names of KEDA 2.20's kafka scaler read from the trigger (pkg/scalers/kafka_scaler.go,
# `order=triggerMetadata`); a `...FromEnv` variant exists for those also read from the env.
KEDA_KAFKA_METADATA: Final = {
    "bootstrapServers",
    "bootstrapServersFromEnv",
    "consumerGroup",
    "consumerGroupFromEnv",
    "topic",
    "topicFromEnv",
    "partitionLimitation",
    "lagThreshold",
    "activationLagThreshold",
    "offsetResetPolicy",
    "allowIdleConsumers",
    "excludePersistentLag",
    "scaleToZeroOnInvalidOffset",
    "limitToPartitionsWithLag",
    "ensureEvenDistributionOfPartitions",
    "version",
    "tls",
    "unsafeSsl",
    "sasl",
    "saslTokenProvider",
    "awsRegion",
}

# ---- rendering -----------------------------------------------------------------------------


@cache
def _rendered() -> tuple[Object, ...]:
    return tuple(render(BASE))


def objects() -> list[Object]:
    """A fresh copy of the rendered base, safe to modify."""
    return copy.deepcopy(list(_rendered()))


def _one(kind: str, name: str) -> Object:
    found = [o for o in objects() if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


def _key(obj: Object) -> tuple[str, str]:
    return obj["kind"], obj["metadata"]["name"]


def test_renderer_matches_kustomize() -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl (with its built-in kustomize) is not installed")
    result = subprocess.run(
        [kubectl, "kustomize", str(BASE)], capture_output=True, text=True, check=True, timeout=60
    )
    by_kustomize = sorted(yaml.safe_load_all(result.stdout), key=_key)
    assert by_kustomize == sorted(objects(), key=_key)


# ---- schemas -------------------------------------------------------------------------------


def _is_keda(obj: Object) -> bool:
    return str(obj["apiVersion"]).startswith("keda.sh/")


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_every_object_validates_against_the_kubernetes_api(version: str) -> None:
    checked = 0
    for obj in objects():
        if _is_keda(obj):
            continue
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{obj['kind']}/{obj['metadata']['name']}: {error.message}")
        checked += 1
    assert checked >= 18, "namespace, 4 ConfigMaps, the Job and 4 x Deployment/Service/PDB"


def test_validation_rejects_an_unknown_field_and_a_wrong_type() -> None:
    # Guards the test above: strict schemas really are applied.
    deployment = _one("Deployment", "api")
    deployment["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSIONS[-1], strict=True)
    service = _one("Service", "api")
    service["spec"]["ports"][0]["port"] = "eighty"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(service, K8S_VERSIONS[-1], strict=True)


@cache
def _keda_validator() -> jsonschema.Draft7Validator:
    schema = json.loads(KEDA_SCHEMA.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def test_scaled_object_validates_against_keda_crd_schema() -> None:
    scaled = [obj for obj in objects() if _is_keda(obj)]
    assert [_key(obj) for obj in scaled] == [("ScaledObject", "evaluator")]
    errors = [error.message for error in _keda_validator().iter_errors(scaled[0])]
    assert not errors
    broken = copy.deepcopy(scaled[0])
    broken["spec"]["maxReplicas"] = broken["spec"].pop("maxReplicaCount")
    assert list(_keda_validator().iter_errors(broken)), "the schema must reject unknown fields"


# ---- the four services ---------------------------------------------------------------------


def _container(service: str) -> Object:
    containers = _one("Deployment", service)["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return cast(Object, containers[0])


def _config_map(name: str) -> dict[str, str]:
    return cast(dict[str, str], _one("ConfigMap", name).get("data", {}))


def _env_sources(container: Object) -> Iterator[tuple[str, str | None, Object | None]]:
    """(name, literal value or None, secretKeyRef or None) of every variable a container gets."""
    for source in container.get("envFrom", []):
        assert set(source) == {"configMapRef"}, "envFrom: ConfigMaps only (secrets by key)"
        for name, value in _config_map(source["configMapRef"]["name"]).items():
            yield name, value, None
    for var in container.get("env", []):
        secret = var.get("valueFrom", {}).get("secretKeyRef")
        yield var["name"], var.get("value"), secret


def _literal_env(service: str) -> dict[str, str]:
    return {name: value for name, value, _ in _env_sources(_container(service)) if value}


@pytest.fixture
def load_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Callable[[str], ServiceSettings]:
    """A service's settings from its manifest's environment; secrets as a cluster would give."""

    def load(service: str) -> ServiceSettings:
        env = {
            name: "from-a-secret" if secret else (value or "")
            for name, value, secret in _env_sources(_container(service))
            if value is not None or (secret and not secret.get("optional"))
        }
        return load_exactly(monkeypatch, tmp_path, APP_SERVICES[service], env)

    return load


@pytest.mark.parametrize("service", APP_SERVICES)
def test_environment_names_are_settings_of_the_service(service: str) -> None:
    known = settings_env(APP_SERVICES[service])
    names = [name for name, _, _ in _env_sources(_container(service))]
    assert len(names) == len(set(names)), f"{service} sets a variable twice: {names}"
    unknown = {name for name in names if name not in known}
    assert not unknown, f"{service} gets variables its settings ignore: {sorted(unknown)}"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_secrets_come_from_secrets_only(service: str) -> None:
    known = all_settings_env()
    for name, value, secret in _env_sources(_container(service)):
        if is_secret(known[name][1]):
            assert secret is not None, f"{service}: {name} must be a secretKeyRef"
            assert value is None, f"{service}: {name} must not have a value"
    assert not [o for o in objects() if o["kind"] == "Secret"], "Secrets are never committed"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_environment_validates(
    service: str, load_settings: Callable[[str], ServiceSettings]
) -> None:
    settings = load_settings(service)
    assert (
        settings.kafka_bootstrap_servers
        == _config_map("interview-common")["KAFKA_BOOTSTRAP_SERVERS"]
    )
    store_url = getattr(settings, "store_url", None)
    if service in STORE_CLIENTS:
        store_port = _one("Service", "store")["spec"]["ports"][0]["port"]
        assert store_url == f"http://store:{store_port}", "clients reach the store's Service"


def test_store_requires_postgres(load_settings: Callable[[str], ServiceSettings]) -> None:
    settings = cast(StoreSettings, load_settings("store"))
    assert select_backend(settings) == "postgres"
    assert settings.dsn is not None


@pytest.mark.parametrize("service", APP_SERVICES)
def test_probes_target_the_health_routes_on_the_service_port(
    service: str, load_settings: Callable[[str], ServiceSettings]
) -> None:
    container = _container(service)
    port = load_settings(service).port  # type: ignore[attr-defined]
    assert container["ports"] == [{"name": "http", "containerPort": port}]
    probes = {kind: container[f"{kind}Probe"]["httpGet"] for kind in ("liveness", "readiness")}
    assert probes["liveness"] == {"path": "/health/live", "port": "http"}
    assert probes["readiness"] == {"path": "/health/ready", "port": "http"}
    ports = _one("Service", service)["spec"]["ports"]
    assert [(p["port"], p["targetPort"]) for p in ports] == [(port, "http")]


@pytest.mark.parametrize("service", APP_SERVICES)
def test_pods_are_bounded_drained_and_guarded(
    service: str, load_settings: Callable[[str], ServiceSettings]
) -> None:
    deployment = _one("Deployment", service)
    pod = deployment["spec"]["template"]
    resources = _container(service)["resources"]
    assert {"cpu", "memory"} <= set(resources["requests"])
    assert "memory" in resources["limits"]
    grace = pod["spec"]["terminationGracePeriodSeconds"]
    assert grace > load_settings(service).shutdown_grace_s, "SIGKILL before the drain ends"
    labels = pod["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert _one("Service", service)["spec"]["selector"].items() <= labels.items()
    budget = _one("PodDisruptionBudget", service)["spec"]
    assert budget["selector"]["matchLabels"].items() <= labels.items()
    replicas = deployment["spec"].get("replicas", 1)
    # A budget that allows no eviction would block every node drain.
    assert budget.get("maxUnavailable", 0) >= 1 or budget["minAvailable"] < replicas
    assert _container(service)["image"] == f"interview-backend/{service}:0.1.0"


# ---- KEDA and the topic Job ----------------------------------------------------------------


def test_evaluator_scales_on_the_lag_of_its_answer_consumer_group(
    load_settings: Callable[[str], ServiceSettings],
) -> None:
    spec = _one("ScaledObject", "evaluator")["spec"]
    assert spec["scaleTargetRef"] == {"name": "evaluator"}
    assert "replicas" not in _one("Deployment", "evaluator")["spec"], "KEDA's HPA owns it"
    (trigger,) = spec["triggers"]
    assert trigger["type"] == "kafka"
    metadata = trigger["metadata"]
    assert set(metadata) <= KEDA_KAFKA_METADATA
    assert metadata["topic"] == topics.ANSWERS.name
    assert metadata["consumerGroup"] == load_settings("evaluator").consumer_group(ANSWERS_ROLE)
    assert metadata["bootstrapServersFromEnv"] in _literal_env("evaluator")
    assert metadata["offsetResetPolicy"] == "earliest", "as the answer consumer resets"
    assert int(metadata["lagThreshold"]) >= 1
    # Consumers beyond the partition count would sit idle.
    assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"] <= topics.ANSWERS.partitions


def test_topic_job_creates_the_catalogue() -> None:
    job = _one("Job", "topics")
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["python", "-m", "interview_localinfra", "topics"]
    args = container["args"]
    assert args[args.index("--bootstrap") + 1] == "$(KAFKA_BOOTSTRAP_SERVERS)"
    assert "KAFKA_BOOTSTRAP_SERVERS" in {name for name, _, _ in _env_sources(container)}
    assert job["spec"]["template"]["spec"]["restartPolicy"] in ("OnFailure", "Never")
    assert "ttlSecondsAfterFinished" in job["spec"], "re-created by the next apply"


def test_everything_lands_in_one_namespace() -> None:
    (namespace,) = [o for o in objects() if o["kind"] == "Namespace"]
    for obj in objects():
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == namespace["metadata"]["name"], _key(obj)
