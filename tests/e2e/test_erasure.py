"""Erasure (GDPR art. 17) that holds in a replayable log: crypto-shredding, end to end.

The four services as processes on real Kafka, with the memory store and with PostgreSQL. A
candidate's name, e-mail, answer and chat message never reach the broker's log files in plain
text; after `DELETE /candidates/{id}` the candidate is 404, their answer and message read
blank, and a store rebuilt from the whole log afterwards (memory, and an empty PostgreSQL
database) holds nothing of them either — while their interview's score survives.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from flows import evaluation_of, interview_in_progress
from interview_localinfra import create_database, drop_database
from interview_localinfra.system import ServiceGroup
from interview_store.main import create_app
from interview_store.port import Store
from interview_store.settings import StoreSettings
from support import TEST_PII_MASTER_KEY, bearer, eventually

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]


class Person:
    """Distinctive personal data to look for, byte for byte, in the log files."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:10]
        self.name = f"Erin Erasable {tag}"
        self.email = f"erin.{tag}@example.com"
        self.answer = f"A mutex lets one thread at a time hold the lock, as {tag} says."
        self.message = f"Hello, I am {tag} and ready."

    def secrets(self) -> list[bytes]:
        return [s.encode() for s in (self.name, self.email, self.answer, self.message)]


async def created(api: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post(path, json=body)
    assert response.status_code in (201, 202), response.text
    result: dict[str, Any] = response.json()
    return result


async def interviewed(api: httpx.AsyncClient, person: Person) -> tuple[str, str, str]:
    """The person registered, interviewed, answering and chatting: (candidate, interview,
    session)."""
    interview_id, question_id = await interview_in_progress(
        api, candidate={"name": person.name, "email": person.email}
    )
    interview = (await api.get(f"/interviews/{interview_id}")).json()
    await created(
        api,
        f"/interviews/{interview_id}/answers",
        {"question_id": question_id, "text": person.answer},
    )
    session = await created(api, "/chat/sessions", {"interview_id": interview_id})
    posted = await api.post(
        f"/chat/sessions/{session['id']}/messages", json={"content": person.message}
    )
    assert posted.status_code == 202, posted.text
    return interview["candidate_id"], interview_id, session["id"]


def log_files_holding(data_dir: Path, needles: list[bytes]) -> list[str]:
    """The broker's segment files (of every topic) in which any of `needles` appears."""
    found = []
    for path in data_dir.rglob("*.log"):
        content = path.read_bytes()
        found += [f"{path.parent.name}/{path.name}" for n in needles if n in content]
    return found


async def messages(api: httpx.AsyncClient, session_id: str, role: str) -> list[str]:
    """What `role` (user: the candidate; assistant: the interviewer) said in the session."""
    listed = await api.get(f"/chat/sessions/{session_id}/messages")
    assert listed.status_code == 200, listed.text
    return [m["content"] for m in listed.json()["items"] if m["role"] == role]


@asynccontextmanager
async def rebuilt_store(
    system: ServiceGroup, backend: str, postgres_dsn: str
) -> AsyncIterator[Store]:
    """A new store (in this process) that has read the whole log into memory or an empty
    PostgreSQL database."""
    database = f"erased_{uuid.uuid4().hex[:12]}"
    url = await create_database(postgres_dsn, database) if backend == "postgres" else None
    settings = StoreSettings(
        kafka_bootstrap_servers=system.env["KAFKA_BOOTSTRAP_SERVERS"],
        consumer_group_prefix=f"erasure-{uuid.uuid4().hex[:8]}",
        database_url=url,
        pii_master_key=TEST_PII_MASTER_KEY,
    )
    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://store") as probe:

                async def ready() -> bool:
                    return (await probe.get("/health/ready")).status_code == 200

                await eventually(ready, timeout_s=90, interval_s=0.2)
            yield app.state.store
    finally:
        if url is not None:
            await drop_database(postgres_dsn, database)


async def test_an_erased_candidate_is_gone_from_every_store_and_never_in_the_log_files(
    system: ServiceGroup,
    api: httpx.AsyncClient,
    kafka_data_dir: Path | None,
    postgres_dsn: str,
    request: pytest.FixtureRequest,
) -> None:
    person = Person()
    candidate_id, interview_id, session_id = await interviewed(api, person)
    scored = await evaluation_of(api, interview_id)  # the evaluator opened the sealed answer
    assert scored["score"] is not None
    assert scored["score"] > 0

    async def replied() -> bool:  # and the chat service the sealed message
        return bool(await messages(api, session_id, "assistant"))

    await eventually(replied, timeout_s=60, interval_s=0.3)
    assert await messages(api, session_id, "user") == [person.message]
    assert (await api.get(f"/candidates/{candidate_id}")).json()["email"] == person.email
    if kafka_data_dir is None:
        assert not os.environ.get("CI"), "CI starts its own broker: its files must be read"
    else:
        assert log_files_holding(kafka_data_dir, [b"pii1:"]), "these are the files it writes"
        assert log_files_holding(kafka_data_dir, person.secrets()) == []

    erased = await api.delete(f"/candidates/{candidate_id}")

    assert erased.status_code == 204, erased.text
    assert (await api.get(f"/candidates/{candidate_id}")).status_code == 404
    listed = await api.get("/candidates", params={"limit": 100})
    assert candidate_id not in {c["id"] for c in listed.json()["items"]}
    (answer,) = (await api.get(f"/interviews/{interview_id}/answers")).json()["items"]
    assert answer["text"] == ""
    assert answer["evaluation"]["score"] == scored["score"]  # the score is not personal data
    assert await messages(api, session_id, "user") == [""]
    assert await messages(api, session_id, "assistant")  # the interviewer's words are kept
    again = await api.delete(f"/candidates/{candidate_id}")
    assert again.status_code == 404
    # The same address may register again: it is someone new.
    assert (await api.post("/candidates", json={"name": "New", "email": person.email})).is_success

    backend = request.node.callspec.params["system"]
    async with rebuilt_store(system, backend, postgres_dsn) as rebuilt:
        assert await rebuilt.get_candidate(uuid.UUID(candidate_id)) is None
        assert await rebuilt.list_cv_analyses(uuid.UUID(candidate_id)) == []
        answer_back = await rebuilt.get_answer(uuid.UUID(answer["id"]))
        assert answer_back is not None
        assert answer_back.text == ""
        history = await rebuilt.list_chat_messages(uuid.UUID(session_id))
        assert [m.content for m in history if m.role == "user"] == [""]
        assert any(m.content for m in history if m.role == "assistant")


async def test_only_an_admin_of_the_organisation_erases(
    system: ServiceGroup, api: httpx.AsyncClient
) -> None:
    person = Person()
    candidate = await created(api, "/candidates", {"name": person.name, "email": person.email})
    path = f"/candidates/{candidate['id']}"
    for headers, status in (
        (bearer("interviewer"), 403),
        (bearer(org="someone-else"), 404),
    ):
        refused = await api.delete(path, headers=headers)
        assert refused.status_code == status, refused.text
    assert (await api.get(path)).status_code == 200
    assert (await api.delete(f"/candidates/{uuid.uuid4()}")).status_code == 404
