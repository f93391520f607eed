"""Authentication: only a valid bearer token gets through; everything else is a 401 Bearer."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from interview_api.main import create_app
from interview_api.settings import GatewaySettings
from interview_store.memory import MemoryStore
from support import TEST_JWT_SECRET, StoreReadSide, token
from test_gateway_http import API, error_of, pipeline_over, running_gateway

CLAIMS = {"sub": "u1", "org": "acme", "role": "admin"}


def _claims(**extra: Any) -> dict[str, Any]:
    return {**CLAIMS, "exp": int(time.time()) + 600, **extra}


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_url(rsa_key: rsa.RSAPrivateKey) -> Iterator[str]:
    """A JWKS endpoint serving the public half of `rsa_key` (an OIDC provider's stand-in)."""
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/certs"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
async def hs_client() -> AsyncIterator[httpx.AsyncClient]:
    """A gateway that accepts HS256 tokens only."""
    read = StoreReadSide(MemoryStore())
    async with running_gateway(read=read, pipeline=pipeline_over(read)) as client:
        client.headers.pop("Authorization")
        yield client


@pytest.fixture(scope="module")
async def oidc_client(jwks_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A gateway wired to an OIDC provider: JWKS, issuer and audience."""
    read = StoreReadSide(MemoryStore())
    settings = GatewaySettings(
        jwt_jwks_url=jwks_url, jwt_issuer="https://sso.test/realms/r", jwt_audience="interview"
    )
    async with running_gateway(
        read=read, pipeline=pipeline_over(read), settings=settings
    ) as client:
        client.headers.pop("Authorization")
        yield client


async def _get(client: httpx.AsyncClient, raw_token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {raw_token}"} if raw_token is not None else {}
    return await client.get(f"{API}/interviews", headers=headers)


def _assert_401(response: httpx.Response, code: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert error_of(response)["code"] == code


async def test_a_valid_token_gets_through(hs_client: httpx.AsyncClient) -> None:
    assert (await _get(hs_client, token())).status_code == 200


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda: None, "unauthenticated"),
        (lambda: "not-a-jwt", "invalid_token"),
        (lambda: token(secret="another-secret-that-is-long-enough!!"), "invalid_token"),
        (lambda: token(ttl_s=-60), "token_expired"),
        (lambda: f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}.", "invalid_token"),
        (lambda: jwt.encode({**CLAIMS}, TEST_JWT_SECRET, algorithm="HS256"), "invalid_token"),
        (lambda: jwt.encode(_claims(role="root"), TEST_JWT_SECRET), "invalid_token"),
        (lambda: jwt.encode(_claims(role="candidate"), TEST_JWT_SECRET), "invalid_token"),
        (lambda: jwt.encode(_claims(org=""), TEST_JWT_SECRET), "invalid_token"),
    ],
    ids=[
        "missing",
        "garbage",
        "forged",
        "expired",
        "alg-none",
        "no-exp",
        "unknown-role",
        "candidate-without-record",
        "empty-org",
    ],
)
async def test_a_bad_token_is_a_401_bearer(
    hs_client: httpx.AsyncClient, make: Any, code: str
) -> None:
    _assert_401(await _get(hs_client, make()), code)


async def test_a_basic_credential_is_not_a_bearer_token(hs_client: httpx.AsyncClient) -> None:
    response = await hs_client.get(f"{API}/interviews", headers={"Authorization": "Basic eDp5"})
    _assert_401(response, "unauthenticated")


async def test_an_rs256_token_is_refused_where_only_a_secret_is_configured(
    hs_client: httpx.AsyncClient, rsa_key: rsa.RSAPrivateKey
) -> None:
    _assert_401(await _get(hs_client, jwt.encode(_claims(), rsa_key, "RS256")), "invalid_token")


def _oidc(**extra: Any) -> dict[str, Any]:
    return _claims(**{"iss": "https://sso.test/realms/r", "aud": "interview", **extra})


async def test_an_oidc_token_signed_by_the_provider_gets_through(
    oidc_client: httpx.AsyncClient, rsa_key: rsa.RSAPrivateKey
) -> None:
    signed = jwt.encode(_oidc(), rsa_key, "RS256", headers={"kid": "k1"})
    assert (await _get(oidc_client, signed)).status_code == 200


@pytest.mark.parametrize(
    "make",
    [
        lambda: _claims(aud="interview"),
        lambda: _claims(iss="https://sso.test/realms/r"),
        lambda: _oidc(iss="https://evil"),
    ],
    ids=["no-issuer", "no-audience", "wrong-issuer"],
)
async def test_issuer_and_audience_are_checked(
    oidc_client: httpx.AsyncClient, rsa_key: rsa.RSAPrivateKey, make: Any
) -> None:
    # Claims are made when the test runs: made at import, their `exp` could pass first.
    signed = jwt.encode(make(), rsa_key, "RS256", headers={"kid": "k1"})
    _assert_401(await _get(oidc_client, signed), "invalid_token")


async def test_algorithm_confusion_with_the_public_key_as_hmac_secret_is_refused(
    oidc_client: httpx.AsyncClient, rsa_key: rsa.RSAPrivateKey
) -> None:
    # The classic attack: sign HS256 with the provider's public key, which anyone can fetch.
    public_pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64({"alg": "HS256", "typ": "JWT", "kid": "k1"})
    payload = _b64(_oidc())
    mac = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    forged = f"{header}.{payload}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"
    _assert_401(await _get(oidc_client, forged), "invalid_token")


async def test_a_token_signed_by_another_rsa_key_is_refused(oidc_client: httpx.AsyncClient) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signed = jwt.encode(_oidc(), other, "RS256", headers={"kid": "k1"})
    _assert_401(await _get(oidc_client, signed), "invalid_token")


def test_the_gateway_never_starts_open() -> None:
    with pytest.raises(ValueError, match="JWT_SECRET or JWT_JWKS_URL"):
        create_app(GatewaySettings())
    with pytest.raises(ValueError, match="32 bytes"):
        create_app(GatewaySettings(jwt_secret="short"))
