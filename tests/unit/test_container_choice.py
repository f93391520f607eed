"""When the suite's fixtures use testcontainers: a daemon alone is not enough (see conftest)."""

from __future__ import annotations

import pytest
from interview_localinfra import containers


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """Record each daemon question (the image it was asked for); the daemon answers yes."""
    calls: list[str | None] = []

    def docker_available(timeout: float = 2.0, *, image: str | None = None) -> bool:
        calls.append(image)
        return True

    monkeypatch.setattr(containers, "docker_available", docker_available)
    return calls


def test_by_default_only_an_image_already_present(
    asked: list[str | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TESTCONTAINERS", raising=False)
    assert containers.use_container(containers.KAFKA_IMAGE)
    assert asked == [containers.KAFKA_IMAGE], "the local image must be looked up, not pulled"


@pytest.mark.parametrize("value", ["1", "true", "YES"])
def test_asked_for_uses_any_daemon(
    value: str, asked: list[str | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TESTCONTAINERS", value)
    assert containers.use_container(containers.POSTGRES_IMAGE)
    assert asked == [None]


@pytest.mark.parametrize("value", ["0", "false", "no"])
def test_refused_never_asks_the_daemon(
    value: str, asked: list[str | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TESTCONTAINERS", value)
    assert not containers.use_container(containers.KAFKA_IMAGE)
    assert asked == []


def test_an_absent_image_means_no_container(monkeypatch: pytest.MonkeyPatch) -> None:
    # No daemon at this address at all: False, quickly, without the SDK's leaked socket warning.
    monkeypatch.delenv("TESTCONTAINERS", raising=False)
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    assert not containers.use_container("no-such/image:0")
