"""Authentication: a bearer JWT becomes a `Principal`, or the request is a 401.

Two kinds of key, each bound to its own algorithms so a token cannot pick the verification it
likes: HS256 only with `JWT_SECRET`, asymmetric algorithms only with a key from `JWT_JWKS_URL`
(an OIDC provider). An HS256 token is never checked against a JWKS public key (the classic
algorithm-confusion attack) and `alg: none` matches neither list.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from interview_shared.auth import Principal, Role
from interview_shared.http import ApiError

from interview_api.guards import RateLimiter
from interview_api.settings import GatewaySettings

HMAC_ALGORITHMS = ("HS256",)
ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
REQUIRED_CLAIMS = ("exp", "sub", "org", "role")


class TokenVerifier:
    """Verifies user tokens against the configured secret and/or JWKS."""

    def __init__(self, settings: GatewaySettings) -> None:
        secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
        if not secret and not settings.jwt_jwks_url:
            raise ValueError("the gateway needs JWT_SECRET or JWT_JWKS_URL: it is never open")
        if secret is not None and len(secret.encode()) < 32:
            raise ValueError("JWT_SECRET must be at least 32 bytes")
        self._secret = secret
        self._issuer = settings.jwt_issuer or None  # compose passes "" for unset
        self._audience = settings.jwt_audience or None
        # Keys are cached, and the key set refreshed at most every 5 minutes or on an unknown kid.
        self._jwks = (
            jwt.PyJWKClient(settings.jwt_jwks_url, cache_keys=True, lifespan=300, timeout=5)
            if settings.jwt_jwks_url
            else None
        )

    async def verify(self, token: str) -> Principal:
        """The principal a valid token names; `ApiError(401)` for anything else."""
        try:
            algorithm = str(jwt.get_unverified_header(token).get("alg"))
            key = await self._key_for(token, algorithm)
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                issuer=self._issuer,
                audience=self._audience,
                options={"require": list(REQUIRED_CLAIMS), "verify_aud": bool(self._audience)},
            )
        except jwt.ExpiredSignatureError as exc:
            raise unauthorized("token_expired", "The token has expired.") from exc
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise unauthorized("invalid_token", "The token is not valid.") from exc
        return principal_of(claims)

    async def _key_for(self, token: str, algorithm: Any) -> Any:
        if algorithm in HMAC_ALGORITHMS and self._secret is not None:
            return self._secret
        if algorithm in ASYMMETRIC_ALGORITHMS and self._jwks is not None:
            # PyJWKClient fetches over blocking urllib: keep it off the event loop.
            signing = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
            if signing.algorithm_name not in (algorithm, None) and signing.algorithm_name:
                raise jwt.InvalidAlgorithmError("the key is not for this algorithm")
            return signing.key
        raise jwt.InvalidAlgorithmError(f"algorithm {algorithm!r} is not accepted")


def principal_of(claims: dict[str, Any]) -> Principal:
    """The principal of verified claims; malformed claims are an invalid token."""
    sub, org = claims.get("sub"), claims.get("org")
    if not isinstance(sub, str) or not sub or not isinstance(org, str) or not org:
        raise unauthorized("invalid_token", "The token lacks `sub` or `org`.")
    try:
        role = Role(str(claims.get("role")))
        raw = claims.get("candidate_id")
        candidate_id = uuid.UUID(str(raw)) if raw is not None else None
    except ValueError as exc:
        raise unauthorized(
            "invalid_token", "The token's `role` or `candidate_id` is invalid."
        ) from exc
    if role is Role.CANDIDATE and candidate_id is None:
        raise unauthorized("invalid_token", "A candidate's token must carry `candidate_id`.")
    return Principal(sub=sub, org=org, role=role, candidate_id=candidate_id)


def unauthorized(code: str, message: str) -> ApiError:
    """A 401 that tells the client to present a bearer token (RFC 6750)."""
    challenge = "Bearer" if code == "unauthenticated" else f'Bearer error="{code}"'
    return ApiError(401, code, message, headers={"WWW-Authenticate": challenge})


bearer = HTTPBearer(auto_error=False, description="A JWT with `sub`, `org` and `role` claims")


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller, from `Authorization: Bearer <JWT>`; 401 without a valid token. Each request
    counts against the caller's rate limit (the client address's, when unauthenticated)."""
    limiter: RateLimiter = request.app.state.limiter
    verifier: TokenVerifier = request.app.state.verifier
    try:
        if credentials is None:
            raise unauthorized("unauthenticated", "An `Authorization: Bearer <token>` is required.")
        principal = await verifier.verify(credentials.credentials)
    except ApiError:
        limiter.check(f"addr:{request.client.host if request.client else 'unknown'}")
        raise
    limiter.check(f"sub:{principal.org}:{principal.sub}")
    return principal
