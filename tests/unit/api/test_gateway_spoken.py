"""Spoken answers at the gateway: multipart recordings are checked, kept and published."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from faststream.kafka import TestKafkaBroker
from interview_api.main import create_app
from interview_api.settings import GatewaySettings
from interview_shared.blobs import MemoryBlobStore
from interview_shared.events import AnswerAudioSubmitted
from interview_shared.keyring import Privacy
from interview_store.memory import MemoryStore
from support import TEST_JWT_SECRET, StoreReadSide, bearer
from test_gateway_http import API, Pipeline, error_of, in_progress, running_gateway

WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(64)


@pytest.fixture
async def spoken() -> AsyncIterator[tuple[httpx.AsyncClient, Pipeline, MemoryBlobStore]]:
    read = StoreReadSide(MemoryStore())
    pipeline = Pipeline(read.store)
    blobs = MemoryBlobStore()
    settings = GatewaySettings(
        read_your_writes_timeout_s=0.5,
        transcription_base_url="http://127.0.0.1:9/v1",
        audio_max_bytes=1000,
        jwt_secret=TEST_JWT_SECRET,
    )
    app = create_app(settings, read=read, publisher=pipeline, blobs=blobs, key_ring=pipeline.keys)
    pipeline.broker = app.state.broker
    transport = httpx.ASGITransport(app=app)
    async with (
        TestKafkaBroker(app.state.broker),
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test", headers=bearer()) as client,
    ):
        yield client, pipeline, blobs


async def post_audio(
    client: httpx.AsyncClient,
    interview_id: str,
    question_id: str,
    *,
    name: str = "answer.wav",
    data: bytes = WAV,
    content_type: str = "audio/wav",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.post(
        f"{API}/interviews/{interview_id}/answers",
        data={"question_id": question_id},
        files={"audio": (name, data, content_type)},
        headers=headers,
    )


async def test_a_candidate_records_answers_to_its_own_interview_only(
    spoken: tuple[httpx.AsyncClient, Pipeline, MemoryBlobStore],
) -> None:
    client, pipeline, _ = spoken
    interview = await in_progress(client)
    question_id = interview["question_ids"][0]
    me = bearer("candidate", candidate_id=interview["candidate_id"])
    stranger = bearer("candidate", candidate_id=uuid.uuid4())
    other_org = bearer(org="globex")

    for who in (stranger, other_org):
        response = await post_audio(client, interview["id"], question_id, headers=who)
        assert response.status_code == 404, response.text
    assert pipeline.events(AnswerAudioSubmitted) == []
    response = await post_audio(client, interview["id"], question_id, headers=me)
    assert response.status_code == 202, response.text
    assert len(pipeline.events(AnswerAudioSubmitted)) == 1


async def test_a_recording_is_kept_and_published_for_transcription(
    spoken: tuple[httpx.AsyncClient, Pipeline, MemoryBlobStore],
) -> None:
    client, pipeline, blobs = spoken
    interview = await in_progress(client)
    question_id = interview["question_ids"][0]

    response = await post_audio(client, interview["id"], question_id)

    assert response.status_code == 202, response.text
    assert response.json()["status"] == "transcribing"
    (event,) = pipeline.events(AnswerAudioSubmitted)
    assert str(event.answer_id) == response.json()["id"]
    assert str(event.question_id) == question_id
    assert event.question.text == "What is a mutex?"
    assert event.content_type == "audio/wav"
    kept = await blobs.get(event.audio_uri)
    assert WAV not in kept  # sealed with the candidate's key: an erasure shreds it too
    assert await Privacy(pipeline.keys).open_file(kept) == WAV


@pytest.mark.parametrize(
    ("name", "data", "content_type", "status", "code"),
    [
        ("answer.ogg", WAV, "audio/ogg", 415, "unsupported_audio"),
        ("answer.wav", b"not a wave file at all", "audio/wav", 415, "unsupported_audio"),
        ("answer.mp3", WAV, "audio/wav", 415, "unsupported_audio"),
        ("answer.wav", WAV + bytes(2000), "audio/wav", 413, "audio_too_large"),
    ],
    ids=["format", "magic", "type-mismatch", "too-large"],
)
async def test_bad_recordings_are_a_clear_4xx(
    spoken: tuple[httpx.AsyncClient, Pipeline, MemoryBlobStore],
    name: str,
    data: bytes,
    content_type: str,
    status: int,
    code: str,
) -> None:
    client, pipeline, _ = spoken
    interview = await in_progress(client)

    response = await post_audio(
        client,
        interview["id"],
        interview["question_ids"][0],
        name=name,
        data=data,
        content_type=content_type,
    )

    assert response.status_code == status, response.text
    assert error_of(response)["code"] == code
    assert pipeline.events(AnswerAudioSubmitted) == []


async def test_a_recording_for_a_question_of_another_interview_is_refused(
    spoken: tuple[httpx.AsyncClient, Pipeline, MemoryBlobStore],
) -> None:
    client, _, _ = spoken
    interview = await in_progress(client)

    response = await post_audio(client, interview["id"], str(uuid.uuid4()))

    assert response.status_code == 422
    assert error_of(response)["code"] == "question_not_in_interview"


async def test_without_a_transcription_endpoint_audio_is_refused() -> None:
    read = StoreReadSide(MemoryStore())
    pipeline = Pipeline(read.store)
    async with running_gateway(read=read, pipeline=pipeline) as client:
        interview = await in_progress(client)
        response = await post_audio(client, interview["id"], interview["question_ids"][0])
        typed = await client.post(
            f"{API}/interviews/{interview['id']}/answers",
            json={"question_id": interview["question_ids"][0], "text": "A lock."},
        )

    assert response.status_code == 503
    assert error_of(response)["code"] == "transcription_unavailable"
    assert typed.status_code == 202
