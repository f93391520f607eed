"""Human review: the queue of evaluations a person should grade, and recording a person's grade.

A grade is published as an `answer.evaluated` with scorer `human` (see `interview_shared.reviews`)
under the interview's key, like every verdict; the store makes it the answer's current
evaluation and takes the answer out of the queue, and the evaluator recomputes the interview's
report and adds the grade to its judge's examples. The route waits for the store's outcome like
every write (201 with the new evaluation, 202 if the store is slow) and never calls the store
while accepting one, except to read the reviewed evaluation once (evaluations never change, so
that read is cached for good).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from cachetools import LRUCache
from fastapi import APIRouter, Depends, Request, Response
from interview_shared.events import AnswerEvaluated, Lineage
from interview_shared.http import ApiError, listing, review_filter
from interview_shared.read_models import Evaluation, Page, ReviewFilter
from interview_shared.read_queries import GetEvaluation
from interview_shared.reviews import HUMAN_SCORER, HumanReview
from pydantic import BaseModel, ConfigDict, Field

from interview_api.commands import Commands, Written
from interview_api.policy import StaffDep, guards, scoped, visible
from interview_api.projection import Projection
from interview_api.routes import ERRORS, ContextDep, ReadDep, ReviewListing, _created
from interview_api.schemas import Accepted

router = APIRouter(prefix="/api/v1", responses=ERRORS, tags=["reviews"])
GRADER_VERSION = "1"
"""`scorer_version` of a human grade: bump it if what a grade means changes."""


class ReviewIn(BaseModel):
    """A person's grade of an evaluated answer: 0-100 like every evaluation, with feedback."""

    model_config = ConfigDict(extra="forbid")

    score: float = Field(ge=0, le=100)
    feedback: str = Field(default="", max_length=10_000)


class Reviews:
    """Records human grades; finds the reviewed evaluation through a read-through cache."""

    def __init__(self, *, commands: Commands, read: GetEvaluation, size: int = 10_000) -> None:
        self._commands = commands
        self._read = read
        self._known: LRUCache[uuid.UUID, Evaluation] = LRUCache(size)

    async def evaluation(self, evaluation_id: uuid.UUID) -> Evaluation:
        """The evaluation to review (404 if the store has none)."""
        if (known := self._known.get(evaluation_id)) is not None:
            return known
        found = await self._read.get_evaluation(evaluation_id)
        if found is None:  # never cached as missing: its verdict may be on its way
            raise ApiError(404, "not_found", "evaluation not found")
        self._known[evaluation_id] = found
        return found

    async def grade(
        self, reviewed: Evaluation, body: ReviewIn, *, reviewer: str, correlation_id: str
    ) -> Written:
        """Publish the grade as a new evaluation of the reviewed answer and wait for the store."""
        event = AnswerEvaluated(
            answer_id=reviewed.answer_id,
            interview_id=reviewed.interview_id,
            question_id=reviewed.question_id,
            score=round(body.score, 2),
            feedback=body.feedback,
            lineage=Lineage(
                scorer=HUMAN_SCORER,
                scorer_version=GRADER_VERSION,
                # The rubric the reviewed verdict was judged with: what the person looked at.
                rubric_version=reviewed.lineage.rubric_version,
                evaluator_version="interview-api",
            ),
            review=HumanReview(
                reviewed_evaluation_id=reviewed.id,
                reviewer=reviewer,
                reasons=reviewed.review_reasons,
            ),
            correlation_id=correlation_id,
        )
        return await self._commands.record_evaluation(event)


async def get_reviews(request: Request) -> Reviews:
    """The review use cases built in the lifespan."""
    reviews: Reviews = request.app.state.reviews
    return reviews


ReviewsDep = Annotated[Reviews, Depends(get_reviews)]


def _projection(request: Request) -> Projection:
    projection: Projection = request.app.state.projection
    return projection


@guards("evaluation_id")
async def reviewable_evaluation(
    evaluation_id: uuid.UUID,
    principal: StaffDep,
    reviews: ReviewsDep,
    projection: Annotated[Projection, Depends(_projection)],
) -> Evaluation:
    """An evaluation of an interview of the caller's organisation, for staff to grade (from the
    cache and the projection: the accept path makes no store call in steady state)."""
    reviewed = await reviews.evaluation(evaluation_id)
    interview = await projection.interview(reviewed.interview_id)
    allowed = interview is not None and interview.org_id == principal.org
    return visible(allowed, reviewed, "evaluation")


@router.get("/reviews")
async def list_reviews(
    read: ReadDep,
    query: ReviewListing,
    filters: Annotated[ReviewFilter, Depends(review_filter)],
    who: StaffDep,
) -> Page[Evaluation]:
    """Evaluations waiting for a person (`reason`: injection_suspected, judges_disagree,
    low_confidence, mid_band, unscorable, flagged), newest first; an answer leaves the queue
    once graded. Paged like every listing (`limit`, `cursor`; `sort`: created_at)."""
    return await listing(read.list_reviews(scoped(who, query), filters))


@router.post(
    "/evaluations/{evaluation_id}/reviews",
    status_code=201,
    response_model=Evaluation | Accepted,
)
async def review_evaluation(
    reviewed: Annotated[Evaluation, Depends(reviewable_evaluation)],
    body: ReviewIn,
    reviews: ReviewsDep,
    ctx: ContextDep,
    response: Response,
) -> Any:
    """Grade the evaluated answer by hand: a new evaluation (scorer `human`) that becomes the
    answer's current one, over machine scores of any rubric version; the report follows.
    Staff of the interview's organisation only; the grade names the token's subject."""
    written = await reviews.grade(
        reviewed, body, reviewer=ctx.principal.sub, correlation_id=ctx.correlation_id
    )
    return _created(written, response)
