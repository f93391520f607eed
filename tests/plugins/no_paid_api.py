"""Pytest plugin: no test can reach a paid model API, whatever the environment holds.

Two fences, so that neither a stray OPENAI_BASE_URL nor a hard-coded IP gets through:
- the openai client may only send requests to loopback hosts (the tests' fake server);
- host-name resolution of the known paid API domains fails for every library.
Both raise `PaidApiBlocked`, an `openai.OpenAIError`, which the openai client propagates unchanged
and our retry classifier does not retry: a forgotten fake fails fast instead of hanging.

Register it in the root conftest: `pytest_plugins = ["plugins.no_paid_api"]`.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Iterator
from typing import Any

import openai
import pytest
from openai._base_client import AsyncAPIClient, SyncAPIClient

__all__ = ["PaidApiBlocked", "is_blocked_host", "no_paid_api"]

_PAID_API_DOMAINS = (
    "openai.com",
    "openai.azure.com",
    "anthropic.com",
    "generativelanguage.googleapis.com",
    "api.mistral.ai",
    "api.groq.com",
    "api.together.xyz",
    "openrouter.ai",
)


class PaidApiBlocked(openai.OpenAIError):
    """A test tried to call a paid model API."""


def is_blocked_host(host: str) -> bool:
    """Whether `host` is, or is under, one of the paid API domains."""
    host = host.lower().rstrip(".")
    return any(host == domain or host.endswith("." + domain) for domain in _PAID_API_DOMAINS)


def _is_loopback(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _guarded_getaddrinfo(original: Callable[..., Any]) -> Callable[..., Any]:
    """`socket.getaddrinfo` that refuses the paid API domains."""

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if is_blocked_host(name):
            raise PaidApiBlocked(f"tests may not resolve {name}: use the fake OpenAI server")
        return original(host, *args, **kwargs)

    return getaddrinfo


def _check_url(request: Any) -> None:
    """Refuse any openai-client request that is not addressed to a loopback host."""
    host = request.url.host
    if not _is_loopback(host):
        raise PaidApiBlocked(f"openai client called {host} in a test: point it at the fake server")


def _guarded_send(original: Callable[..., Any], *, is_async: bool) -> Callable[..., Any]:
    """Wrap `_send_request` of the openai base clients with the loopback check."""
    if is_async:

        async def send_async(self: Any, request: Any, **kwargs: Any) -> Any:
            _check_url(request)
            return await original(self, request, **kwargs)

        return send_async

    def send(self: Any, request: Any, **kwargs: Any) -> Any:
        _check_url(request)
        return original(self, request, **kwargs)

    return send


@pytest.fixture(autouse=True, scope="session")
def no_paid_api() -> Iterator[None]:
    """Active for the whole session: fence off paid APIs and provide a dummy key."""
    patch = pytest.MonkeyPatch()
    patch.setattr(socket, "getaddrinfo", _guarded_getaddrinfo(socket.getaddrinfo))
    patch.setattr(
        AsyncAPIClient, "_send_request", _guarded_send(AsyncAPIClient._send_request, is_async=True)
    )
    patch.setattr(
        SyncAPIClient, "_send_request", _guarded_send(SyncAPIClient._send_request, is_async=False)
    )
    if not os.environ.get("OPENAI_API_KEY"):
        # A client built from the environment gets a key, so it reaches the fence and fails there.
        patch.setenv("OPENAI_API_KEY", "sk-test-dummy-not-a-real-key")
    try:
        yield
    finally:
        patch.undo()
