"""Event factories for the store tests: deterministic times, small readable defaults."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from interview_shared import events as ev
from interview_shared.domain import Difficulty, InterviewStatus, QuestionType, Rubric

T0 = datetime(2025, 1, 1, tzinfo=UTC)
_clock = itertools.count(1)


def at(seconds: float | None = None) -> datetime:
    """A distinct, increasing event time (or T0 + seconds)."""
    return T0 + timedelta(seconds=next(_clock) if seconds is None else seconds)


def new_id() -> uuid.UUID:
    """A fresh id."""
    return uuid.uuid4()


def candidate(
    email: str | None = None, *, candidate_id: uuid.UUID | None = None, name: str = "Ada", **kw: Any
) -> ev.CandidateRegistered:
    """candidate.registered."""
    cid = candidate_id or new_id()
    return ev.CandidateRegistered(
        candidate_id=cid, name=name, email=email or f"{cid.hex}@example.com",
        occurred_at=kw.pop("occurred_at", None) or at(), **kw,
    )  # fmt: skip


def question(
    *,
    question_id: uuid.UUID | None = None,
    skills: tuple[str, ...] = ("python",),
    tags: tuple[str, ...] = (),
    difficulty: Difficulty = Difficulty.MEDIUM,
    question_type: QuestionType = QuestionType.TECHNICAL,
    rubric_version: str = "v1",
    **kw: Any,
) -> ev.QuestionCreated:
    """question.created."""
    return ev.QuestionCreated(
        question_id=question_id or new_id(), text=kw.pop("text", "What is a GIL?"),
        question_type=question_type, difficulty=difficulty, skills=skills, tags=tags,
        rubric=Rubric(version=rubric_version), occurred_at=kw.pop("occurred_at", None) or at(),
        **kw,
    )  # fmt: skip


def rubric_changed(question_id: uuid.UUID, version: str, **kw: Any) -> ev.QuestionRubricChanged:
    """question.rubric_changed to a rubric of the given version."""
    return ev.QuestionRubricChanged(
        question_id=question_id, rubric=Rubric(version=version),
        occurred_at=kw.pop("occurred_at", None) or at(), **kw,
    )  # fmt: skip


def interview(
    *,
    interview_id: uuid.UUID | None = None,
    candidate_id: uuid.UUID | None = None,
    question_ids: tuple[uuid.UUID, ...] = (),
    title: str = "Backend",
    **kw: Any,
) -> ev.InterviewCreated:
    """interview.created."""
    return ev.InterviewCreated(
        interview_id=interview_id or new_id(), candidate_id=candidate_id or new_id(), title=title,
        question_ids=question_ids, occurred_at=kw.pop("occurred_at", None) or at(), **kw,
    )  # fmt: skip


def status(
    interview_id: uuid.UUID, target: InterviewStatus, **kw: Any
) -> ev.InterviewStatusChanged:
    """interview.status_changed."""
    return ev.InterviewStatusChanged(
        interview_id=interview_id,
        status=target,
        occurred_at=kw.pop("occurred_at", None) or at(),
        **kw,
    )


def answer(
    interview_id: uuid.UUID, question_id: uuid.UUID, text: str = "An answer", **kw: Any
) -> ev.AnswerSubmitted:
    """answer.submitted."""
    return ev.AnswerSubmitted(
        answer_id=kw.pop("answer_id", None) or new_id(), interview_id=interview_id,
        question_id=question_id, text=text,
        question=ev.QuestionSnapshot(question_id=question_id, text=kw.pop("question_text", "Q?")),
        occurred_at=kw.pop("occurred_at", None) or at(), **kw,
    )  # fmt: skip


def evaluation(
    submitted: ev.AnswerSubmitted,
    score: float | None = 50.0,
    *,
    rubric_version: str = "v1",
    **kw: Any,
) -> ev.AnswerEvaluated:
    """answer.evaluated for an answer.submitted event."""
    return ev.AnswerEvaluated(
        evaluation_id=kw.pop("evaluation_id", None) or new_id(), answer_id=submitted.answer_id,
        interview_id=submitted.interview_id, question_id=submitted.question_id,
        outcome="SCORED" if score is not None else "UNSCORABLE", score=score,
        criteria=(ev.CriterionResult(name="correctness", score=score or 0, weight=1.0),),
        explanation=kw.pop("explanation", {"why": ["because", 1, 2.5]}),
        lineage=ev.Lineage(scorer="test", scorer_version="1", rubric_version=rubric_version,
                           evaluator_version="1"),
        occurred_at=kw.pop("occurred_at", None) or at(), **kw,
    )  # fmt: skip


def session(interview_id: uuid.UUID | None = None, **kw: Any) -> ev.ChatSessionStarted:
    """chat.session.started."""
    return ev.ChatSessionStarted(
        chat_session_id=kw.pop("chat_session_id", None) or new_id(), interview_id=interview_id,
        occurred_at=kw.pop("occurred_at", None) or at(), **kw,
    )  # fmt: skip


def message(session_id: uuid.UUID, content: str = "hi", **kw: Any) -> ev.ChatMessagePosted:
    """chat.message.posted."""
    return ev.ChatMessagePosted(
        chat_session_id=session_id, message_id=kw.pop("message_id", None) or new_id(),
        content=content, occurred_at=kw.pop("occurred_at", None) or at(), **kw,
    )  # fmt: skip


def reply(posted: ev.ChatMessagePosted, content: str = "hello", **kw: Any) -> ev.ChatReplyCompleted:
    """chat.reply.completed answering a posted message."""
    return ev.ChatReplyCompleted(
        chat_session_id=posted.chat_session_id, reply_id=kw.pop("reply_id", None) or new_id(),
        in_reply_to=posted.message_id, content=content, deltas=1,
        occurred_at=kw.pop("occurred_at", None) or at(), **kw,
    )  # fmt: skip


def delta(posted: ev.ChatMessagePosted, text: str = "he") -> ev.ChatReplyDelta:
    """chat.reply.delta."""
    return ev.ChatReplyDelta(
        chat_session_id=posted.chat_session_id,
        reply_id=new_id(),
        in_reply_to=posted.message_id,
        index=0,
        delta=text,
        occurred_at=at(),
    )
