"""CORS: a browser frontend on an allowed origin may call the gateway; others may not."""

from __future__ import annotations

import httpx
from interview_api.main import create_app
from interview_api.settings import GatewaySettings
from support import TEST_JWT_SECRET

PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type",
}


async def preflight(settings: GatewaySettings, origin: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        return await client.options("/api/v1/candidates", headers={"Origin": origin, **PREFLIGHT})


async def test_allowed_origin_passes_preflight() -> None:
    settings = GatewaySettings(
        cors_origins="http://localhost:3000, https://app.example.com", jwt_secret=TEST_JWT_SECRET
    )
    response = await preflight(settings, "https://app.example.com")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://app.example.com"


async def test_no_cors_unless_configured() -> None:
    response = await preflight(
        GatewaySettings(jwt_secret=TEST_JWT_SECRET), "https://evil.example.com"
    )
    assert "access-control-allow-origin" not in response.headers
