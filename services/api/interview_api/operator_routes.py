"""Routes that operate on the log's history: rubric changes and replays (re-scoring).

Organisation-level operations: an admin of the caller's organisation only (policy.admin)."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from interview_shared.read_models import Question, Replay

from interview_api.policy import AdminDep, admin_question, admin_replay
from interview_api.routes import ERRORS, CommandsDep, ContextDep, ReadDep, _created
from interview_api.schemas import Accepted, ReplayAccepted, ReplayIn, RubricIn

router = APIRouter(prefix="/api/v1", responses=ERRORS)


@router.put(
    "/questions/{question_id}/rubric", response_model=Question | Accepted, tags=["questions"]
)
async def change_rubric(
    question: Annotated[Question, Depends(admin_question)],
    body: RubricIn,
    commands: CommandsDep,
    read: ReadDep,
    ctx: ContextDep,
    response: Response,
) -> Any:
    """Replace the question's rubric with a new version; new answers are judged with it, and a
    replay re-scores old ones (their current evaluation follows once re-scored). Admin only."""
    written = await commands.change_rubric(question, body, ctx)
    if written.applied:  # the question as the store now has it: a read the client asked for
        written = replace(written, resource=await read.get_question(question.id))
    return _created(written, response, status=200)


@router.post("/replays", status_code=202, tags=["replays"])
async def request_replay(
    body: ReplayIn, commands: CommandsDep, ctx: ContextDep, _admin: AdminDep
) -> ReplayAccepted:
    """Re-score the answers in `scope` (always within the caller's organisation) from the log,
    each with its question's active rubric, under the budget; an answer already judged by the
    scorer with that rubric is skipped. Admin only."""
    written = await commands.request_replay(body, ctx)
    return ReplayAccepted(id=written.id)


@router.get("/replays/{replay_id}", tags=["replays"])
async def get_replay(replay: Annotated[Replay, Depends(admin_replay)]) -> Replay:
    """How far a replay of the caller's organisation has got: running, completed, capped
    (budget spent) or failed."""
    return replay
