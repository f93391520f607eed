"""Who may see and change what: the one place the gateway's object-level checks live.

Every `/api/v1` route depends on `authenticate` (through one of the dependencies below), and a
route naming an object in its path loads it through a guard here, which answers 404 for an
object of another organisation (never revealing that it exists) or, for a candidate, one that is
not its own. Candidates never see scores: `redacted_*` strip them from what they read. A test
enumerates the app's routes and proves each is covered (tests/unit/api/test_gateway_policy.py).

Reads load through the read side; writes load from the projection, so the accept path still
makes no call to the store.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from interview_shared.auth import Principal, Role
from interview_shared.events import InterviewState
from interview_shared.http import ApiError
from interview_shared.read_client import ReadSide
from interview_shared.read_models import (
    Answer,
    Candidate,
    Interview,
    InterviewFilter,
    InterviewLogEntry,
    ListQuery,
    Question,
    Replay,
)

from interview_api.auth import authenticate
from interview_api.projection import Projection

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
GUARDS: dict[Callable[..., Any], str] = {}
"""Guard dependency -> the path parameter it checks (read by the route coverage test)."""


def guards(param: str) -> Callable[[F], F]:
    """Register a dependency as the check of path parameter `param`."""

    def register(func: F) -> F:
        GUARDS[func] = param
        return func

    return register


PrincipalDep = Annotated[Principal, Depends(authenticate)]


async def staff(principal: PrincipalDep) -> Principal:
    """An interviewer or an admin; a candidate gets 403."""
    if principal.is_candidate:
        raise ApiError(403, "forbidden", "Candidates cannot do this.")
    return principal


async def admin(principal: PrincipalDep) -> Principal:
    """An admin (organisation-level operations); anyone else gets 403."""
    if principal.role is not Role.ADMIN:
        raise ApiError(403, "forbidden", "Only an admin can do this.")
    return principal


StaffDep = Annotated[Principal, Depends(staff)]
AdminDep = Annotated[Principal, Depends(admin)]


# ---- the rules ---------------------------------------------------------------------------------


def sees_interview(principal: Principal, *, org_id: str, candidate_id: uuid.UUID) -> bool:
    """Whether `principal` may see an interview: same org, and a candidate only its own."""
    if org_id != principal.org:
        return False
    return not principal.is_candidate or candidate_id == principal.candidate_id


def sees_candidate(principal: Principal, candidate: Candidate) -> bool:
    """Same org, and a candidate only its own record."""
    if candidate.org_id != principal.org:
        return False
    return not principal.is_candidate or candidate.id == principal.candidate_id


def visible(allowed: bool, value: T | None, what: str) -> T:
    """`value` if allowed and present, else 404: another org's object does not exist here."""
    if value is None or not allowed:
        raise ApiError(404, "not_found", f"{what} not found")
    return value


def scoped(principal: Principal, query: ListQuery) -> ListQuery:
    """A listing restricted to the caller's organisation."""
    return query.model_copy(update={"org_id": principal.org})


def interview_scope(principal: Principal, filters: InterviewFilter) -> InterviewFilter:
    """A candidate lists only its own interviews, whatever it asks for."""
    if principal.is_candidate:
        return filters.model_copy(update={"candidate_id": principal.candidate_id})
    return filters


def redacted_answer(principal: Principal, answer: Answer) -> Answer:
    """The answer without its evaluation when a candidate reads it."""
    return answer.model_copy(update={"evaluation": None}) if principal.is_candidate else answer


def redacted_log(principal: Principal, log: list[InterviewLogEntry]) -> list[InterviewLogEntry]:
    """The interview log without scores when a candidate reads it."""
    if not principal.is_candidate:
        return log
    return [entry.model_copy(update={"score": None}) for entry in log]


# ---- guards: load the object named in the path, or 404 -----------------------------------------


def _read(request: Request) -> ReadSide:
    read: ReadSide = request.app.state.read
    return read


def _projection(request: Request) -> Projection:
    projection: Projection = request.app.state.projection
    return projection


ReadDep = Annotated[ReadSide, Depends(_read)]
ProjectionDep = Annotated[Projection, Depends(_projection)]


@guards("candidate_id")
async def readable_candidate(
    candidate_id: uuid.UUID, principal: PrincipalDep, read: ReadDep
) -> Candidate:
    """The candidate, if the caller may see it."""
    candidate = await read.get_candidate(candidate_id)
    allowed = candidate is not None and sees_candidate(principal, candidate)
    return visible(allowed, candidate, "candidate")


@guards("candidate_id")
async def writable_candidate(
    candidate_id: uuid.UUID, principal: StaffDep, projection: ProjectionDep
) -> uuid.UUID:
    """A candidate of the caller's organisation that staff may add to (from the projection)."""
    org = await projection.candidate_org(candidate_id)
    return visible(org == principal.org, candidate_id, "candidate")


@guards("candidate_id")
async def erasable_candidate(
    candidate_id: uuid.UUID, principal: AdminDep, projection: ProjectionDep
) -> uuid.UUID:
    """A candidate of the caller's organisation, for its admins (erasure)."""
    org = await projection.candidate_org(candidate_id)
    return visible(org == principal.org, candidate_id, "candidate")


@guards("question_id")
async def readable_question(question_id: uuid.UUID, principal: StaffDep, read: ReadDep) -> Question:
    """A question of the caller's organisation (candidates never read the answer key)."""
    question = await read.get_question(question_id)
    allowed = question is not None and question.org_id == principal.org
    return visible(allowed, question, "question")


@guards("question_id")
async def admin_question(question_id: uuid.UUID, principal: AdminDep, read: ReadDep) -> Question:
    """A question of the caller's organisation, for its admins (rubric changes)."""
    return await readable_question(question_id, principal, read)


@guards("replay_id")
async def admin_replay(replay_id: uuid.UUID, principal: AdminDep, read: ReadDep) -> Replay:
    """A replay of the caller's organisation, for its admins."""
    replay = await read.get_replay(replay_id)
    return visible(replay is not None and replay.org_id == principal.org, replay, "replay")


@guards("interview_id")
async def readable_interview(
    interview_id: uuid.UUID, principal: PrincipalDep, read: ReadDep
) -> Interview:
    """The interview, if the caller may see it."""
    interview = await read.get_interview(interview_id)
    allowed = interview is not None and sees_interview(
        principal, org_id=interview.org_id, candidate_id=interview.candidate_id
    )
    return visible(allowed, interview, "interview")


@guards("interview_id")
async def staff_interview(interview_id: uuid.UUID, principal: StaffDep, read: ReadDep) -> Interview:
    """An interview of the caller's organisation, for staff only (reports, scores)."""
    return await readable_interview(interview_id, principal, read)


@guards("interview_id")
async def writable_interview(
    interview_id: uuid.UUID, principal: PrincipalDep, projection: ProjectionDep
) -> InterviewState:
    """The interview's state from the projection, if the caller may act on it."""
    return acting_on(principal, await projection.interview(interview_id))


def acting_on(principal: Principal, state: InterviewState | None) -> InterviewState:
    """`state` if the caller may act on that interview, else 404 (also for a body's reference)."""
    allowed = state is not None and sees_interview(
        principal, org_id=state.org_id, candidate_id=state.candidate_id
    )
    return visible(allowed, state, "interview")


@guards("answer_id")
async def readable_answer(answer_id: uuid.UUID, principal: PrincipalDep, read: ReadDep) -> Answer:
    """The answer (without its score for a candidate), if the caller may see its interview."""
    answer = await read.get_answer(answer_id)
    interview = await read.get_interview(answer.interview_id) if answer else None
    allowed = interview is not None and sees_interview(
        principal, org_id=interview.org_id, candidate_id=interview.candidate_id
    )
    return redacted_answer(principal, visible(allowed, answer, "answer"))


@guards("session_id")
async def readable_session(
    session_id: uuid.UUID, principal: PrincipalDep, projection: ProjectionDep
) -> uuid.UUID:
    """A chat session the caller may read and write in (checked from the projection).

    A candidate sees only sessions about its own interview.
    """
    scope = await projection.chat_session_scope(session_id)
    allowed = scope is not None and scope[0] == principal.org
    if allowed and principal.is_candidate and scope is not None:
        interview = await projection.interview(scope[1]) if scope[1] else None
        allowed = interview is not None and interview.candidate_id == principal.candidate_id
    return visible(allowed, session_id, "chat session")
