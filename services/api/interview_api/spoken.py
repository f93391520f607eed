"""Spoken answers: `POST /interviews/{id}/answers` as multipart/form-data (`question_id`,
`audio`). The recording is checked (format by name, type and magic bytes; size), kept in the
blob store, and `answer.audio_submitted` is published; the evaluator transcribes it and the
transcript is scored like a typed answer. Without a transcription endpoint the gateway refuses
audio (503 `transcription_unavailable`) instead of keeping what nobody can transcribe."""

from __future__ import annotations

import uuid
from pathlib import PurePath
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from interview_shared.blobs import BlobStore, blob_key
from interview_shared.events import AnswerAudioSubmitted, InterviewState
from interview_shared.http import ApiError
from pydantic import ValidationError

from interview_api.commands import Commands, Written
from interview_api.request_context import Context
from interview_api.schemas import AnswerIn
from interview_api.uploads import ANY_TYPE, read_upload

FORMATS: dict[str, frozenset[str]] = {
    ".wav": frozenset({"audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"}),
    ".mp3": frozenset({"audio/mpeg", "audio/mp3"}),
    ".webm": frozenset({"audio/webm", "video/webm"}),
    ".m4a": frozenset({"audio/mp4", "audio/x-m4a", "audio/m4a"}),
}


def _magic_ok(suffix: str, head: bytes) -> bool:
    """Whether the first bytes look like the format the name claims."""
    if suffix == ".wav":
        return head[:4] == b"RIFF" and head[8:12] == b"WAVE"
    if suffix == ".mp3":
        return head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)
    if suffix == ".webm":
        return head[:4] == b"\x1a\x45\xdf\xa3"
    return head[4:8] == b"ftyp"  # .m4a: an ISO base media file


class SpokenAnswer:
    """A validated recording for one question."""

    def __init__(self, question_id: uuid.UUID, audio: bytes, filename: str, content_type: str):
        self.question_id = question_id
        self.audio = audio
        self.filename = filename
        self.content_type = content_type

    @property
    def suffix(self) -> str:
        """The recording's format, as a file suffix."""
        return PurePath(self.filename).suffix.lower()


async def answer_body(request: Request) -> AnswerIn | SpokenAnswer:
    """The answer in the request: JSON (`AnswerIn`) or a multipart recording."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        return await _recording(request)
    try:
        return AnswerIn.model_validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from exc


async def _recording(request: Request) -> SpokenAnswer:
    settings = request.app.state.settings
    if not settings.transcription_base_url:
        raise ApiError(
            503, "transcription_unavailable", "Spoken answers need a transcription endpoint."
        )
    upload = await read_upload(
        request, name="audio", limit=settings.audio_max_bytes, error="invalid_spoken_answer"
    )
    try:
        qid = uuid.UUID(upload.fields.get("question_id", ""))
    except ValueError:
        raise ApiError(422, "invalid_spoken_answer", "`question_id` must be a UUID.") from None
    spoken = SpokenAnswer(qid, upload.data, upload.filename, upload.content_type)
    allowed = FORMATS.get(spoken.suffix)
    if allowed is None or spoken.content_type not in allowed | {ANY_TYPE}:
        raise ApiError(415, "unsupported_audio", "Recordings must be wav, mp3, webm or m4a.")
    if not _magic_ok(spoken.suffix, upload.data[:16]):
        raise ApiError(415, "unsupported_audio", f"That is not a {spoken.suffix[1:]} recording.")
    return spoken


async def submit_spoken(
    commands: Commands,
    blobs: BlobStore,
    interview: InterviewState,
    spoken: SpokenAnswer,
    ctx: Context,
) -> Written:
    """Keep the recording and publish answer.audio_submitted (validated like a typed answer,
    on an interview the policy let the caller act on)."""
    question = await commands.answerable(interview, spoken.question_id)
    interview_id = interview.interview_id
    answer_id = ctx.new_id("resource")
    audio = await commands.sealed_file(interview.candidate_id, spoken.audio)
    uri = await blobs.put(blob_key(f"answers/{interview_id}", answer_id, spoken.suffix), audio)
    return await commands.submit_recording(
        AnswerAudioSubmitted(
            answer_id=answer_id,
            interview_id=interview_id,
            question_id=spoken.question_id,
            audio_uri=uri,
            content_type=spoken.content_type,
            filename=PurePath(spoken.filename).name,
            event_id=ctx.new_id("event"),
            question=question,
            data_subject=interview.candidate_id,
            correlation_id=ctx.correlation_id,
        )
    )


ANSWER_BODIES: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            # Inline: no route takes AnswerIn as a body parameter, so FastAPI would not add it
            # to the components, and a $ref to it would not resolve (openapi-typescript fails).
            "application/json": {"schema": AnswerIn.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["question_id", "audio"],
                    "properties": {
                        "question_id": {"type": "string", "format": "uuid"},
                        "audio": {
                            "type": "string",
                            "format": "binary",
                            "description": "wav, mp3, webm or m4a; at most AUDIO_MAX_BYTES",
                        },
                    },
                }
            },
        },
    }
}
