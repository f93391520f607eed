"""`GET /api/v1/candidates/{id}/suggested-questions`: questions for a candidate's CV skills.

The same machinery as `GET /questions?similar_to=`: the candidate's latest CV analysis becomes a
search text, and the store ranks the bank by similarity to it (filters combine as usual). The
gateway embeds nothing: it forwards text, the store owns the vectors.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from interview_shared.http import ApiError, list_query, listing, question_filter
from interview_shared.read_client import ReadSide
from interview_shared.read_models import (
    Candidate,
    CvAnalysis,
    ListQuery,
    Page,
    Question,
    QuestionFilter,
)

from interview_api.policy import StaffDep, readable_candidate, scoped
from interview_api.routes import ERRORS

__all__ = ["router", "skills_text"]

router = APIRouter(prefix="/api/v1", responses=ERRORS)  # every error it can answer, documented
_MAX_TEXT = 2000


def _read(request: Request) -> ReadSide:
    read: ReadSide = request.app.state.read
    return read


def _words(value: Any) -> Iterator[str]:
    """The skill names in a CV analysis value: keys, strings, and strings in lists."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield str(key)
            if not isinstance(inner, int | float | bool):
                yield from _words(inner)
    elif isinstance(value, list | tuple):
        for inner in value:
            yield from _words(inner)


def skills_text(analysis: CvAnalysis) -> str:
    """The search text for a CV analysis: its skills, then its summary, within 2,000 chars."""
    skills = ", ".join(dict.fromkeys(w.strip() for w in _words(analysis.skills) if w.strip()))
    text = ". ".join(part for part in (skills, analysis.summary.strip()) if part)
    return text[:_MAX_TEXT]


@router.get("/candidates/{candidate_id}/suggested-questions", tags=["candidates"])
async def suggested_questions(
    candidate: Annotated[Candidate, Depends(readable_candidate)],
    who: StaffDep,
    read: Annotated[ReadSide, Depends(_read)],
    query: Annotated[ListQuery, Depends(list_query)],
    filters: Annotated[QuestionFilter, Depends(question_filter)],
) -> Page[Question]:
    """Questions of the organisation ranked by similarity to the candidate's latest CV skills
    (`similarity` field); staff only."""
    analyses = await read.list_cv_analyses(candidate.id)
    text = skills_text(analyses[-1]) if analyses else ""
    if not text:
        raise ApiError(409, "no_cv_skills", "the candidate has no analysed CV skills to match")
    return await listing(
        read.list_questions(scoped(who, query), filters.model_copy(update={"similar_to": text}))
    )
