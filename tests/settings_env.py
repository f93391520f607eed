"""The services' settings classes as deployment files see them: by environment variable name.

Shared by the checks of docker-compose.yml (test_deploy_files.py) and of the Kubernetes
manifests (test_k8s_manifests.py): a variable a deployment sets must be one a service reads.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Final

import pytest
from interview_api.settings import GatewaySettings
from interview_chat.settings import ChatSettings
from interview_evaluator.settings import EvaluatorSettings
from interview_shared.settings import ServiceSettings
from interview_store.settings import StoreSettings
from pydantic import AliasChoices, SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

# Deployment name (= the SERVICE build arg, = interview_<name>) -> its settings class.
APP_SERVICES: Final[dict[str, type[ServiceSettings]]] = {
    "api": GatewaySettings,
    "store": StoreSettings,
    "evaluator": EvaluatorSettings,
    "chat": ChatSettings,
}
# The services that read the store's API; the evaluator needs only Kafka.
STORE_CLIENTS: Final = ("api", "chat")
ALL_SETTINGS: Final[tuple[type[BaseSettings], ...]] = (ServiceSettings, *APP_SERVICES.values())


def env_names(field_name: str, info: FieldInfo) -> set[str]:
    """The variable names pydantic-settings reads a field from (upper case; no env_prefix)."""
    alias = info.validation_alias
    if isinstance(alias, AliasChoices):
        return {str(choice).upper() for choice in alias.choices if isinstance(choice, str)}
    if isinstance(alias, str):
        return {alias.upper()}
    return {field_name.upper()}


def settings_env(cls: type[BaseSettings]) -> dict[str, tuple[str, FieldInfo]]:
    """Variable name -> (field name, field) for every field of `cls`."""
    return {
        env: (name, info)
        for name, info in cls.model_fields.items()
        for env in env_names(name, info)
    }


def all_settings_env() -> dict[str, tuple[str, FieldInfo]]:
    """Variable name -> (field name, field) over every service's settings."""
    names: dict[str, tuple[str, FieldInfo]] = {}
    for cls in ALL_SETTINGS:
        names.update(settings_env(cls))
    return names


def is_secret(info: FieldInfo) -> bool:
    """A setting whose value must never stand in a committed file (SecretStr)."""
    return info.annotation is not None and SecretStr in typing.get_args(info.annotation)


def load_exactly(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    cls: type[ServiceSettings],
    env: Mapping[str, str],
) -> ServiceSettings:
    """Build `cls` from `env` alone: no developer variable, no .env or .env.local file."""
    monkeypatch.chdir(tmp_path)
    for name in all_settings_env():
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return cls()
