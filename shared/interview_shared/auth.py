"""Who is calling: the claims of a user's token and the credential services present to each other.

Users carry a JWT (`sub`, `org`, `role`, for a candidate `candidate_id`); the gateway verifies it.
Services call each other's internal APIs with an API key in `SERVICE_KEY_HEADER`: only its
SHA-256 is kept by the receiving side (`SERVICE_API_KEYS`), so a leaked configuration or log of
the store never yields a usable key. API keys rather than client-credential tokens because the
internal calls never leave the deployment and need no issuer to be up for the store to answer.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import jwt
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from interview_shared.settings import ServiceSettings

SERVICE_KEY_HEADER = "X-Service-Key"


class Role(StrEnum):
    CANDIDATE = "candidate"
    INTERVIEWER = "interviewer"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated user: who (`sub`), in which organisation, with which role."""

    sub: str
    org: str
    role: Role
    candidate_id: uuid.UUID | None = None
    """For a candidate: the candidate record this user is."""

    @property
    def is_candidate(self) -> bool:
        """Whether this user is a candidate (sees only its own records, never a score)."""
        return self.role is Role.CANDIDATE


def mint_token(
    secret: str,
    *,
    sub: str,
    org: str,
    role: Role | str,
    candidate_id: uuid.UUID | str | None = None,
    ttl_s: float = 3600,
    issuer: str | None = None,
    audience: str | None = None,
) -> str:
    """An HS256 token with the claims the gateway reads (development tokens and tests)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": sub,
        "org": org,
        "role": str(role),
        "iat": now,
        "exp": now + int(ttl_s),
    }
    if candidate_id is not None:
        claims["candidate_id"] = str(candidate_id)
    if issuer is not None:
        claims["iss"] = issuer
    if audience is not None:
        claims["aud"] = audience
    return jwt.encode(claims, secret, algorithm="HS256")


def new_secret() -> str:
    """A random secret fit for HS256 (256 bits) or a service API key."""
    return secrets.token_urlsafe(32)


def key_hash(key: str) -> str:
    """The SHA-256 (hex) of an API key: what the receiving side keeps."""
    return hashlib.sha256(key.encode()).hexdigest()


def accepted_hashes(hashes: str, own_key: str | None) -> frozenset[str]:
    """The key hashes a service accepts: `SERVICE_API_KEYS` (comma-separated) and, so that one
    shared `SERVICE_API_KEY` is enough for a small deployment, the hash of its own key."""
    accepted = {h.strip().lower() for h in hashes.split(",") if h.strip()}
    if own_key:
        accepted.add(key_hash(own_key))
    return frozenset(accepted)


def key_matches(presented: str | None, hashes: Iterable[str]) -> bool:
    """Whether `presented` hashes to one of `hashes` (compared in constant time)."""
    if not presented:
        return False
    digest = key_hash(presented)
    return any(hmac.compare_digest(digest, known) for known in hashes)


class ServiceKeyGuard:
    """ASGI middleware: every request under `prefix` needs a service key (else 401).

    Checked before routing, so no route under the prefix can be added without it. With no
    accepted hash configured every request is refused: the internal API is never open.
    """

    def __init__(self, app: ASGIApp, *, prefix: str, hashes: frozenset[str]) -> None:
        self._app = app
        self._prefix = prefix
        self._hashes = hashes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self._prefix):
            presented = Request(scope).headers.get(SERVICE_KEY_HEADER)
            if not key_matches(presented, self._hashes):
                response = JSONResponse(
                    status_code=401,
                    content={
                        "error": {
                            "code": "service_credential_required",
                            "message": f"A valid {SERVICE_KEY_HEADER} header is required.",
                            "details": None,
                        }
                    },
                    headers={"WWW-Authenticate": "ApiKey"},
                )
                await response(scope, receive, send)
                return
        await self._app(scope, receive, send)


def guard_internal_api(app: FastAPI, settings: ServiceSettings) -> None:
    """Put the service's `/internal/` routes behind its service keys (`SERVICE_API_KEYS`, and
    its own `SERVICE_API_KEY`)."""
    own = settings.service_api_key.get_secret_value() if settings.service_api_key else None
    hashes = accepted_hashes(settings.service_api_keys, own)
    app.add_middleware(ServiceKeyGuard, prefix="/internal/", hashes=hashes)
