"""The one way the fault suite talks HTTP to the gateway.

Every request of the suite goes through `gateway_client`, so authentication (a bearer token once
the gateway checks JWTs) is added in `gateway_headers` and nowhere else.
"""

from __future__ import annotations

import os

import httpx


def gateway_headers() -> dict[str, str]:
    """Headers every gateway request carries (FAULTS_BEARER_TOKEN, when set, as a bearer)."""
    headers = {"x-client": "interview-faults"}
    if token := os.environ.get("FAULTS_BEARER_TOKEN"):
        headers["Authorization"] = f"Bearer {token}"
    return headers


def gateway_client(port: int | str, *, timeout_s: float = 30.0) -> httpx.AsyncClient:
    """An HTTP client for the gateway's `/api/v1` on this machine."""
    return httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}/api/v1",
        headers=gateway_headers(),
        timeout=timeout_s,
        # Many concurrent posts during a fault: a small pool would queue them client-side.
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
    )
