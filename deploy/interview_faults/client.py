"""The one way the fault suite talks HTTP to the gateway.

Every request of the suite goes through `gateway_client`, so authentication (the bearer token of
the scenario's system) is added in `gateway_headers` and nowhere else.
"""

from __future__ import annotations

import httpx


def gateway_headers(token: str) -> dict[str, str]:
    """Headers every gateway request carries: the system's admin token as a bearer."""
    return {"x-client": "interview-faults", "Authorization": f"Bearer {token}"}


def gateway_client(port: int | str, *, token: str, timeout_s: float = 30.0) -> httpx.AsyncClient:
    """An HTTP client for the gateway's `/api/v1` on this machine, as the system's admin."""
    return httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}/api/v1",
        headers=gateway_headers(token),
        timeout=timeout_s,
        # Many concurrent posts during a fault: a small pool would queue them client-side.
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
    )
