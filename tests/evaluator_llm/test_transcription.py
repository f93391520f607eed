"""The transcriber against an OpenAI-compatible /audio/transcriptions stand-in (real HTTP)."""

from __future__ import annotations

import uuid
from typing import Any

import openai
import pytest
from fake_openai import FakeOpenAIServer, Reply, error
from interview_evaluator.openai_judge import classify_openai_error, is_service_failure
from interview_evaluator.resilience import CircuitBreaker, RetryPolicy
from interview_evaluator.transcription import OpenAITranscriber, TranscriptionHandler
from interview_shared.blobs import MemoryBlobStore
from interview_shared.events import (
    AnswerAudioSubmitted,
    AnswerSubmitted,
    QuestionSnapshot,
    decode_event,
)
from interview_shared.keyring import MemoryKeyRing, Privacy
from interview_shared.messaging import EventPublisher, PermanentError, RetryLater


class Recorder:
    def __init__(self) -> None:
        self.events: list[Any] = []

    async def publish(self, message: Any, topic: str = "", **_: Any) -> None:
        self.events.append(decode_event(message))


async def no_wait(_: float) -> None:
    return None


async def setup(
    client: openai.AsyncOpenAI, *, breaker: CircuitBreaker | None = None
) -> tuple[TranscriptionHandler, Recorder, AnswerAudioSubmitted]:
    blobs, recorder, privacy = MemoryBlobStore(), Recorder(), Privacy(MemoryKeyRing())
    candidate = uuid.uuid4()
    await privacy.ring.create(candidate)
    uri = await blobs.put("answers/a.wav", await privacy.seal_file(candidate, b"RIFF....WAVE"))
    transcriber = OpenAITranscriber(
        client,
        model="whisper-test",
        policy=RetryPolicy(max_attempts=3, classify=classify_openai_error, sleep=no_wait),
        breaker=breaker or CircuitBreaker(counts_as_failure=is_service_failure),
    )
    handler = TranscriptionHandler(
        transcriber=transcriber, blobs=blobs, publisher=EventPublisher(recorder), privacy=privacy
    )
    question = QuestionSnapshot(question_id=uuid.uuid4(), text="What is a mutex?")
    event = AnswerAudioSubmitted(
        answer_id=uuid.uuid4(),
        interview_id=uuid.uuid4(),
        question_id=question.question_id,
        audio_uri=uri,
        content_type="audio/wav",
        filename="a.wav",
        question=question,
        data_subject=candidate,
    )
    return handler, recorder, await privacy.seal(event)


async def test_a_recording_becomes_an_answer_after_a_retried_failure(
    fake_openai: FakeOpenAIServer, openai_client: openai.AsyncOpenAI
) -> None:
    handler, recorder, event = await setup(openai_client)
    fake_openai.enqueue(error(503), Reply(body={"text": " A lock. "}))

    await handler.handle(event)

    (answer,) = recorder.events
    assert isinstance(answer, AnswerSubmitted)
    assert (answer.answer_id, answer.text, answer.audio_uri) == (
        event.answer_id,
        "A lock.",
        event.audio_uri,
    )
    assert answer.question == event.question
    assert [r.path for r in fake_openai.received] == ["/v1/audio/transcriptions"] * 2


@pytest.mark.parametrize(
    "replies",
    [[error(500)] * 3, [error(400)], [Reply(body={"text": "   "})]],
    ids=["exhausted", "client-error", "empty"],
)
async def test_what_cannot_be_transcribed_is_dead_lettered(
    fake_openai: FakeOpenAIServer, openai_client: openai.AsyncOpenAI, replies: list[Reply]
) -> None:
    handler, recorder, event = await setup(openai_client)
    fake_openai.enqueue(*replies)

    with pytest.raises(PermanentError):
        await handler.handle(event)

    assert recorder.events == []


async def test_an_open_breaker_redelivers_instead_of_dead_lettering(
    fake_openai: FakeOpenAIServer, openai_client: openai.AsyncOpenAI
) -> None:
    breaker = CircuitBreaker(failure_threshold=1, counts_as_failure=is_service_failure)
    handler, _, event = await setup(openai_client, breaker=breaker)
    fake_openai.enqueue(*[error(500)] * 3)

    with pytest.raises(RetryLater):  # the first failure opened it: the retry is not sent
        await handler.handle(event)
    with pytest.raises(RetryLater):
        await handler.handle(event)

    assert len(fake_openai.received) == 1


async def test_a_recording_of_an_erased_candidate_is_not_transcribed(
    fake_openai: FakeOpenAIServer, openai_client: openai.AsyncOpenAI
) -> None:
    handler, recorder, event = await setup(openai_client)
    assert event.data_subject is not None
    await handler._privacy.ring.destroy(event.data_subject)

    await handler.handle(event)

    assert recorder.events == []
    assert fake_openai.received == []
