"""CV analysis: `POST /candidates/{id}/cv` with a PDF or text `file`.

The file is kept in the blob store, its text extracted (pypdf) and its skills found by the
offline taxonomy (`cv_analysis`), each with evidence and the years the CV states; the result
is published as `candidate.cv_analyzed`, which `GET /candidates/{id}/cv-analyses` lists. The
extraction runs in a worker thread, so a large PDF does not hold up other requests.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from pathlib import PurePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from interview_shared.blobs import BlobStore, blob_key
from interview_shared.http import ApiError
from interview_shared.read_models import CvAnalysis

from interview_api.cv_analysis import CvUnreadableError, cv_text, extract_skills
from interview_api.policy import writable_candidate
from interview_api.routes import ERRORS, CommandsDep, ContextDep, ReadDep, _created
from interview_api.schemas import Accepted, CvAnalysisIn
from interview_api.uploads import ANY_TYPE, read_upload

router = APIRouter(prefix="/api/v1", responses=ERRORS, tags=["candidates"])
_TYPES = {".pdf": {"application/pdf", ANY_TYPE}, ".txt": {"text/plain", ANY_TYPE}}


@router.post(
    "/candidates/{candidate_id}/cv",
    status_code=201,
    response_model=list[CvAnalysis] | Accepted,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                }
            },
        }
    },
)
async def upload_cv(
    candidate_id: Annotated[uuid.UUID, Depends(writable_candidate)],
    request: Request,
    commands: CommandsDep,
    read: ReadDep,
    ctx: ContextDep,
    response: Response,
) -> Any:
    """Analyse a CV (PDF or plain text): skills with evidence and stated years of experience.
    Returns all of the candidate's analyses, newest last. Staff only (it assesses the
    candidate)."""
    settings = request.app.state.settings
    upload = await read_upload(
        request, name="file", limit=settings.cv_max_bytes, error="invalid_cv"
    )
    suffix = PurePath(upload.filename).suffix.lower()
    if upload.content_type.split(";")[0] not in _TYPES.get(suffix, set()):
        raise ApiError(415, "unsupported_cv", "A CV must be a .pdf or a .txt file.")
    pdf = suffix == ".pdf"
    if pdf and not upload.data.startswith(b"%PDF-"):
        raise ApiError(415, "unsupported_cv", "That is not a PDF file.")
    try:
        text = await asyncio.to_thread(cv_text, upload.data, pdf=pdf)
    except CvUnreadableError as exc:
        raise ApiError(422, "unreadable_cv", str(exc)) from exc
    skills = await asyncio.to_thread(extract_skills, text)
    blobs: BlobStore = request.app.state.blobs
    sealed = await commands.sealed_file(candidate_id, upload.data)
    uri = await blobs.put(blob_key(f"cvs/{candidate_id}", ctx.new_id("blob"), suffix), sealed)
    name = PurePath(upload.filename).name
    body = CvAnalysisIn(
        skills={skill: found.as_json() for skill, found in list(skills.items())[:200]},
        summary=f"{len(skills)} skills found in {name} ({uri}).",
    )
    written = await commands.record_cv_analysis(candidate_id, body, ctx)
    if written.applied:
        written = replace(written, resource=await read.list_cv_analyses(candidate_id))
    return _created(written, response)
