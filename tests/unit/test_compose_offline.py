"""deploy/compose/offline.yml swaps images and nothing else, and its stand-ins keep the contract
docker-compose.yml relies on (paths, variables, tools), so the offline stack is the same stack.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Final, cast

import yaml

ROOT: Final = Path(__file__).resolve().parents[2]
OFFLINE_DIR: Final = ROOT / "deploy" / "compose"


def _services(path: Path) -> dict[str, dict[str, Any]]:
    return cast(dict[str, dict[str, Any]], yaml.safe_load(path.read_text())["services"])


BASE: Final = _services(ROOT / "docker-compose.yml")
OFFLINE: Final = _services(OFFLINE_DIR / "offline.yml")


def test_offline_overrides_only_images_and_builds() -> None:
    assert set(OFFLINE) == set(BASE), "every image of the stack needs a stand-in"
    for name, service in OFFLINE.items():
        assert set(service) <= {"image", "build"}, f"{name}: offline.yml must change images only"


def test_python_services_only_swap_the_base_image() -> None:
    declared = set(re.findall(r"^ARG (\w+)", (ROOT / "Dockerfile").read_text(), re.MULTILINE))
    for name, service in OFFLINE.items():
        if "build" in BASE[name]:
            assert service == {"build": {"args": {"PYTHON_IMAGE": "interview-local/python:3.11"}}}
            assert "PYTHON_IMAGE" in declared


def test_infrastructure_stand_ins_keep_the_official_images_contract() -> None:
    for name in ("kafka", "postgres"):
        context = ROOT / OFFLINE[name]["build"]["context"]
        assert (context / "Dockerfile").is_file()
        assert str(OFFLINE[name]["image"]).startswith("interview-local/")
        volume = str(BASE[name]["volumes"][0]).split(":", 1)[1]
        assert volume in (context / "Dockerfile").read_text(), f"{name}: data dir {volume}"
    # The base file's Kafka healthcheck runs a tool by its path in the official image.
    tool = BASE["kafka"]["healthcheck"]["test"][1]
    assert tool.startswith("/opt/kafka/bin/")
    assert (OFFLINE_DIR / "kafka" / "bin" / Path(tool).name).is_file()
    entrypoint = (OFFLINE_DIR / "kafka" / "bin" / "entrypoint.sh").read_text()
    assert "CLUSTER_ID" in entrypoint
    postgres = (OFFLINE_DIR / "postgres" / "entrypoint.sh").read_text()
    for variable in BASE["postgres"]["environment"]:
        assert variable in postgres, f"the Postgres stand-in ignores {variable}"
