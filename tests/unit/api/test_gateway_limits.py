"""Limits and contract details: 413 before reading, 429 with Retry-After, idempotent POSTs."""

from __future__ import annotations

from collections.abc import AsyncIterator

from interview_api.settings import GatewaySettings
from interview_shared.events import CandidateRegistered
from interview_store.memory import MemoryStore
from support import TEST_JWT_SECRET, StoreReadSide, bearer
from test_gateway_http import API, Gateway, error_of, pipeline_over, running_gateway


async def test_a_body_over_the_limit_is_a_413_from_its_content_length() -> None:
    read = StoreReadSide(MemoryStore())
    settings = GatewaySettings(jwt_secret=TEST_JWT_SECRET, max_body_bytes=1000)
    async with running_gateway(read=read, pipeline=pipeline_over(read), settings=settings) as c:
        big = await c.post(f"{API}/questions", json={"text": "x" * 2000})
        small = await c.post(f"{API}/questions", json={"text": "x" * 500})
    assert big.status_code == 413, big.text
    assert error_of(big)["code"] == "payload_too_large"
    assert small.status_code == 201


async def test_an_upload_has_its_own_larger_limit() -> None:
    # A CV bigger than MAX_BODY_BYTES reaches the route, which holds it to CV_MAX_BYTES.
    read = StoreReadSide(MemoryStore())
    settings = GatewaySettings(
        jwt_secret=TEST_JWT_SECRET, max_body_bytes=1000, cv_max_bytes=5000, audio_max_bytes=2000
    )
    async with running_gateway(read=read, pipeline=pipeline_over(read), settings=settings) as c:
        person = await c.post(f"{API}/candidates", json={"name": "A", "email": "a@b.io"})
        url = f"{API}/candidates/{person.json()['id']}/cv"
        fits = await c.post(url, files={"file": ("cv.txt", b"Python. " * 400, "text/plain")})
        big = await c.post(url, files={"file": ("cv.txt", b"x" * 10_000, "text/plain")})
        huge = await c.post(url, files={"file": ("cv.txt", b"x" * 100_000, "text/plain")})
        json_body = await c.post(f"{API}/questions", json={"text": "x" * 2000})
    assert fits.status_code == 201, fits.text
    assert error_of(big)["code"] == "file_too_large"  # the route's own limit
    assert huge.status_code == 413
    assert error_of(huge)["code"] == "payload_too_large"  # over even the largest upload
    assert json_body.status_code == 413  # JSON keeps MAX_BODY_BYTES


async def test_a_streamed_body_is_cut_off_once_it_passes_the_limit() -> None:
    read = StoreReadSide(MemoryStore())
    settings = GatewaySettings(jwt_secret=TEST_JWT_SECRET, max_body_bytes=1000)
    sent: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"text": "'
        for _ in range(100):
            sent.append(1)
            yield b"x" * 100
        yield b'"}'

    pipeline = pipeline_over(read)
    async with running_gateway(read=read, pipeline=pipeline, settings=settings) as c:
        # No Content-Length: chunked, so only counting the stream can tell.
        response = await c.post(
            f"{API}/questions", content=chunks(), headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 413, response.text
    assert len(sent) < 100  # not read to the end
    assert pipeline.published == []


async def test_over_the_rate_limit_is_a_429_with_retry_after() -> None:
    read = StoreReadSide(MemoryStore())
    settings = GatewaySettings(jwt_secret=TEST_JWT_SECRET, rate_limit_per_minute=3)
    async with running_gateway(read=read, pipeline=pipeline_over(read), settings=settings) as c:
        mine = [await c.get(f"{API}/interviews") for _ in range(4)]
        other_user = await c.get(f"{API}/interviews", headers=bearer(sub="someone-else"))
        anonymous = [
            await c.get(f"{API}/interviews", headers={"Authorization": ""}) for _ in range(4)
        ]
    assert [r.status_code for r in mine] == [200, 200, 200, 429]
    assert error_of(mine[-1])["code"] == "rate_limited"
    assert 1 <= int(mine[-1].headers["retry-after"]) <= 60
    assert other_user.status_code == 200  # per subject, not global
    assert [r.status_code for r in anonymous] == [401, 401, 401, 429]  # per client address
    assert "retry-after" in anonymous[-1].headers


async def test_a_repeated_post_with_its_key_returns_the_first_response_and_creates_nothing(
    gw: Gateway,
) -> None:
    key = {"Idempotency-Key": "register-ada-1"}
    body = {"name": "Ada", "email": "ada@example.com"}
    first = await gw.client.post(f"{API}/candidates", json=body, headers=key)
    again = await gw.client.post(f"{API}/candidates", json=body, headers=key)
    other = await gw.client.post(f"{API}/candidates", json={**body, "name": "Eve"}, headers=key)

    assert first.status_code == 201, first.text
    assert (again.status_code, again.json()) == (201, first.json())
    assert again.headers["idempotent-replayed"] == "true"
    assert other.status_code == 422
    assert error_of(other)["code"] == "idempotency_key_reused"
    assert len(gw.pipeline.events(CandidateRegistered)) == 1
    listed = (await gw.client.get(f"{API}/candidates")).json()["items"]
    assert [c["id"] for c in listed] == [first.json()["id"]]


async def test_a_repeat_reaching_another_replica_creates_nothing() -> None:
    # Two replicas over one store: the second has no record of the first response, but the ids
    # derived from (user, key, route) make its publish a duplicate the store applies once.
    read = StoreReadSide(MemoryStore())
    headers = {"Idempotency-Key": "k-42", **bearer(sub="same-user")}
    body = {"text": "What is a mutex?"}
    async with running_gateway(read=read, pipeline=pipeline_over(read)) as one:
        first = await one.post(f"{API}/questions", json=body, headers=headers)
    async with running_gateway(read=read, pipeline=pipeline_over(read)) as two:
        again = await two.post(f"{API}/questions", json=body, headers=headers)
        listed = (await two.get(f"{API}/questions")).json()["items"]
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert [q["id"] for q in listed] == [first.json()["id"]]


async def test_keys_are_per_user(gw: Gateway) -> None:
    body = {"text": "Q?"}
    key = {"Idempotency-Key": "shared-key"}
    a = await gw.client.post(f"{API}/questions", json=body, headers={**key, **bearer(sub="a")})
    b = await gw.client.post(f"{API}/questions", json=body, headers={**key, **bearer(sub="b")})
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]


async def test_a_405_says_which_methods_are_allowed(gw: Gateway) -> None:
    response = await gw.client.delete(f"{API}/candidates")
    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}
