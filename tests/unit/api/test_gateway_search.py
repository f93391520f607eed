"""`GET /questions?similar_to=` and `GET /candidates/{id}/suggested-questions` over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from interview_store.memory import MemoryStore
from support import StoreReadSide
from test_gateway_http import (
    API,
    candidate,
    created,
    error_of,
    pipeline_over,
    question,
    running_gateway,
)


@pytest.fixture(scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    read = StoreReadSide(MemoryStore())
    async with running_gateway(read=read, pipeline=pipeline_over(read)) as http:
        yield http


@pytest.fixture(scope="module")
async def bank(client: httpx.AsyncClient) -> dict[str, str]:
    texts = {
        "deadlock": ("What is a deadlock and how can it be prevented?", ["concurrency"]),
        "index": ("How does a B-tree index speed up a database query?", ["postgresql"]),
        "k8s": ("How does Kubernetes restart a failed pod?", ["kubernetes"]),
    }
    return {
        name: (await question(client, text=text, skills=skills, difficulty="hard"))["id"]
        for name, (text, skills) in texts.items()
    }


async def test_similar_to_ranks_the_bank_with_a_similarity_field(
    client: httpx.AsyncClient, bank: dict[str, str]
) -> None:
    text = "two threads each waiting forever for the other's mutex"
    response = await client.get(f"{API}/questions", params={"similar_to": text})

    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert items[0]["id"] == bank["deadlock"]
    assert all(isinstance(item["similarity"], float) for item in items)


async def test_similar_to_combines_with_filters(
    client: httpx.AsyncClient, bank: dict[str, str]
) -> None:
    params = {"similar_to": "threads waiting on locks", "skill": "postgresql"}
    response = await client.get(f"{API}/questions", params=params)

    assert [item["id"] for item in response.json()["items"]] == [bank["index"]]


async def test_an_empty_similar_to_is_a_validation_error(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/questions", params={"similar_to": ""})
    assert response.status_code == 422


async def test_suggested_questions_follow_the_cv_skills(
    client: httpx.AsyncClient, bank: dict[str, str]
) -> None:
    person = await candidate(client, "grace@example.com")
    path = f"/candidates/{person['id']}/cv-analyses"
    await created(client, path, {"skills": {"Kubernetes": 4, "containers": ["docker", "helm"]}})

    response = await client.get(f"{API}/candidates/{person['id']}/suggested-questions?limit=2")

    assert response.status_code == 200, response.text
    assert response.json()["items"][0]["id"] == bank["k8s"]


async def test_suggestions_need_an_analysed_cv(client: httpx.AsyncClient) -> None:
    person = await candidate(client, "nocv@example.com")
    response = await client.get(f"{API}/candidates/{person['id']}/suggested-questions")
    assert response.status_code == 409
    assert error_of(response)["code"] == "no_cv_skills"
    missing = await client.get(
        f"{API}/candidates/{'0' * 8}-0000-0000-0000-{'0' * 12}/suggested-questions"
    )
    assert missing.status_code == 404
