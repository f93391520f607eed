"""Spoken answers: transcribe the recording, then hand the transcript on to be scored.

`answer.audio_submitted` (from the gateway, the audio in the blob store) becomes an
`answer.submitted` with the same answer id, the transcript as its text and the recording's URI,
which the evaluator's answer consumer then scores like a typed answer. Calls to the
OpenAI-compatible `/audio/transcriptions` endpoint are retried with back-off and guarded by a
circuit breaker, as the judge's are (`resilience`); while the breaker is open messages are
redelivered rather than dead-lettered; what still fails is dead-lettered by the processor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from interview_shared import topics
from interview_shared.blobs import BlobNotFoundError, BlobStore
from interview_shared.events import AnswerAudioSubmitted, AnswerSubmitted, Event
from interview_shared.keyring import Privacy
from interview_shared.logging import get_logger
from interview_shared.messaging import (
    CONSUMER_ACK_POLICY,
    EventProcessor,
    EventPublisher,
    PermanentError,
    RetryLater,
)
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from interview_evaluator.resilience import (
    CircuitBreaker,
    CircuitOpenError,
    RetriesExhausted,
    RetryPolicy,
    call_with_retries,
)

# The openai client is imported only when a transcription endpoint is set (~1 s of CPU at
# every start otherwise).
if TYPE_CHECKING:
    import openai

log = get_logger(__name__)
TRANSCRIBER_ROLE = "evaluator-transcriber"


class TranscriptionSettings(BaseSettings):
    """TRANSCRIPTION_* and BLOB_DIR; no base URL means spoken answers are refused."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    transcription_base_url: str | None = Field(
        default=None, description="OpenAI-compatible endpoint with /audio/transcriptions"
    )
    transcription_api_key: SecretStr | None = Field(default=None, description="Its API key")
    transcription_model: str = Field(default="whisper-1", description="Transcription model")
    transcription_timeout_s: float = Field(default=60.0, gt=0, description="Seconds per call")
    transcription_max_attempts: int = Field(default=4, ge=1, description="Attempts per recording")
    blob_dir: str = Field(default=".run/blobs", description="Where recordings are kept")


class TranscriptionRefusedError(Exception):
    """The endpoint refused the recording for good (a 4xx other than 429: bad file, no model)."""


class OpenAITranscriber:
    """Speech to text over `/audio/transcriptions`, retried and behind a breaker."""

    def __init__(
        self,
        client: openai.AsyncOpenAI,
        *,
        model: str,
        policy: RetryPolicy,
        breaker: CircuitBreaker,
    ) -> None:
        self._client = client
        self._model = model
        self._policy = policy
        self.breaker = breaker

    async def transcribe(self, audio: bytes, *, filename: str, content_type: str) -> str:
        """The recording's text; raises RetriesExhausted, CircuitOpenError or
        TranscriptionRefusedError."""

        async def attempt() -> str:
            result = await self.breaker.call(
                lambda: self._client.audio.transcriptions.create(
                    model=self._model, file=(filename, audio, content_type)
                )
            )
            return result.text

        import openai  # already loaded: build_transcriber imported it

        try:
            return await call_with_retries(attempt, policy=self._policy)
        except openai.APIStatusError as exc:
            raise TranscriptionRefusedError(str(exc)) from exc

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.close()


def build_transcriber(settings: TranscriptionSettings) -> OpenAITranscriber | None:
    """A transcriber when TRANSCRIPTION_BASE_URL is set, else None (spoken answers refused)."""
    if not settings.transcription_base_url:
        return None
    import openai

    from interview_evaluator.openai_judge import classify_openai_error, is_service_failure

    key = settings.transcription_api_key
    client = openai.AsyncOpenAI(
        api_key=key.get_secret_value() if key else "unused",
        base_url=settings.transcription_base_url,
        max_retries=0,
        timeout=settings.transcription_timeout_s,
    )
    return OpenAITranscriber(
        client,
        model=settings.transcription_model,
        policy=RetryPolicy(
            max_attempts=settings.transcription_max_attempts, classify=classify_openai_error
        ),
        breaker=CircuitBreaker(counts_as_failure=is_service_failure),
    )


class TranscriptionHandler:
    """Turns `answer.audio_submitted` into `answer.submitted`."""

    def __init__(
        self,
        *,
        transcriber: OpenAITranscriber,
        blobs: BlobStore,
        publisher: EventPublisher,
        privacy: Privacy,
    ) -> None:
        self._privacy = privacy
        self._transcriber = transcriber
        self._blobs = blobs
        self._publisher = publisher

    async def handle(self, received: Event) -> None:
        """Transcribe one recording and publish the answer it is."""
        if not isinstance(received, AnswerAudioSubmitted):
            return
        event, erased = await self._privacy.open(received)
        try:
            audio = await self._privacy.open_file(await self._blobs.get(event.audio_uri))
        except BlobNotFoundError as exc:
            raise PermanentError(f"recording not found: {event.audio_uri}") from exc
        if erased or audio is None:  # the candidate was erased: nothing of theirs is heard
            log.info("recording_of_erased_candidate_skipped", answer_id=str(event.answer_id))
            return
        try:
            text = await self._transcriber.transcribe(
                audio, filename=event.filename, content_type=event.content_type
            )
        except CircuitOpenError as exc:
            raise RetryLater(str(exc)) from exc
        except (RetriesExhausted, TranscriptionRefusedError) as exc:
            raise PermanentError(f"transcription failed: {exc}") from exc
        if not text.strip():
            raise PermanentError("the transcript is empty")
        await self._publisher.publish(
            AnswerSubmitted(
                answer_id=event.answer_id,
                interview_id=event.interview_id,
                question_id=event.question_id,
                text=text.strip(),
                question=event.question,
                audio_uri=event.audio_uri,
                data_subject=event.data_subject,  # the transcript is sealed like typed text
                correlation_id=event.correlation_id,
            )
        )


def register_transcription(
    broker: KafkaBroker, *, handler: TranscriptionHandler, processor: EventProcessor, group: str
) -> None:
    """Subscribe the transcriber to the answers topic, at least once."""

    @broker.subscriber(
        topics.ANSWERS.name,
        group_id=group,
        auto_offset_reset="earliest",
        ack_policy=CONSUMER_ACK_POLICY,
        title="evaluator-transcriber",
        description="Transcribes answer.audio_submitted and publishes answer.submitted.",
    )
    async def transcribe(message: KafkaMessage) -> None:
        await processor.process(message.raw_message, handler.handle)
