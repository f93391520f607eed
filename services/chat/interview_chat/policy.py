"""The service's own rules of an interview conversation: what each reply does.

Pure functions of the session's state, so they are tested without I/O and no model output can
bend them: questions are asked in order and word for word, follow-ups are capped, and only the
service completes the interview (after the last question has been answered).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from interview_shared.domain import InterviewStatus
from interview_shared.events import ChatMessagePosted, InterviewTurn, QuestionSnapshot

from interview_chat.interviewer import Move, TurnRequest, keywords
from interview_chat.state import SessionState

THIN_WORDS = 12
"""Fewer words than this is too thin an answer to judge: worth a follow-up."""

CLOSING = "That was the last question. Thank you for your time; your answers are being evaluated."
_OVER = "This interview is over. Thank you for your time; your answers are being evaluated."
_CLOSED = "This chat session is closed."


@dataclass(frozen=True, slots=True)
class Plan:
    """What the reply to one message will do, before anyone phrases it."""

    move: Move | None
    """None: a fixed reply that needs no interviewer (`fixed` holds its text)."""
    turn: InterviewTurn
    fixed: str = ""
    question: QuestionSnapshot | None = None
    total: int = 0
    answer_ids: tuple[uuid.UUID, ...] = ()
    start: bool = False
    """Move the interview READY -> IN_PROGRESS."""


@dataclass(frozen=True, slots=True)
class Resolution:
    """The reply's effects once the interviewer has (or has not) advised a follow-up."""

    turn: InterviewTurn
    suffix: str = ""
    """Text the service appends to the interviewer's: the next question or the closing line."""
    answered: QuestionSnapshot | None = None
    """The question whose answer (`answer_ids`) is now complete and goes to scoring."""
    complete: bool = False


def plan(
    state: SessionState,
    posted: ChatMessagePosted,
    status: InterviewStatus | None,
    *,
    max_follow_ups: int,
) -> Plan:
    """Decide what replying to `posted` does in this session."""
    turn, context = state.turn, state.context
    if state.closed:
        return Plan(None, turn, fixed=_CLOSED)
    if context is None:
        return Plan(Move.CHAT, turn)
    questions = context.questions
    if turn.phase == "closed" or status in (InterviewStatus.COMPLETED, InterviewStatus.CANCELLED):
        return Plan(None, turn, fixed=_OVER)
    if turn.phase == "waiting":
        if status not in (InterviewStatus.READY, InterviewStatus.IN_PROGRESS) or not questions:
            shown = status.value if status else "unknown"
            return Plan(None, turn, fixed=f"This interview is not open yet (it is {shown}).")
        opened = InterviewTurn(step=turn.step + 1, phase="asking", question_index=0)
        return Plan(
            Move.GREET,
            opened,
            question=questions[0],
            total=len(questions),
            start=status is InterviewStatus.READY,
        )
    question = questions[turn.question_index]
    answer_ids = (*turn.pending_message_ids, posted.message_id)
    last = turn.question_index + 1 >= len(questions)
    move = Move.ASSESS if turn.follow_ups < max_follow_ups else Move.CLOSE if last else Move.NEXT
    return Plan(move, turn, question=question, total=len(questions), answer_ids=answer_ids)


def resolve(plan: Plan, state: SessionState, *, follow_up: bool) -> Resolution:
    """The state after the reply, and what the service adds and publishes."""
    turn = plan.turn
    if plan.move is Move.GREET:
        return Resolution(turn, suffix=_ask(plan.question, 1, plan.total))
    if plan.move not in (Move.ASSESS, Move.NEXT, Move.CLOSE):
        return Resolution(turn)
    if plan.move is Move.ASSESS and follow_up:
        return Resolution(
            turn.model_copy(
                update={
                    "step": turn.step + 1,
                    "follow_ups": turn.follow_ups + 1,
                    "pending_message_ids": plan.answer_ids,
                }
            )
        )
    following = turn.question_index + 1
    if following >= plan.total or state.context is None:
        closed = InterviewTurn(
            step=turn.step + 1, phase="closed", question_index=turn.question_index
        )
        return Resolution(closed, suffix=" " + CLOSING, answered=plan.question, complete=True)
    moved = InterviewTurn(step=turn.step + 1, phase="asking", question_index=following)
    question = state.context.questions[following]
    return Resolution(
        moved, suffix=_ask(question, following + 1, plan.total), answered=plan.question
    )


def request_for(plan: Plan, state: SessionState, posted: ChatMessagePosted) -> TurnRequest:
    """What the interviewer is told about this turn."""
    assert plan.move is not None
    answer = (
        " ".join([*state.texts(plan.answer_ids[:-1]), posted.content]) if plan.answer_ids else ""
    )
    question = plan.question
    return TurnRequest(
        move=plan.move,
        message=posted.content,
        history=state.history(excluding=posted.message_id),
        interview_title=state.context.title if state.context else None,
        question=question.text if question else None,
        question_number=plan.turn.question_index + 1,
        total_questions=plan.total,
        answer=answer,
        follow_ups=plan.turn.follow_ups,
        thin=question is not None and is_thin(answer, question),
    )


def is_thin(answer: str, question: QuestionSnapshot) -> bool:
    """Too short to judge, or sharing no content word with the question and its reference."""
    words = {w.lower().strip(".") for w in re.findall(r"[A-Za-z][A-Za-z0-9+#.-]*", answer)}
    if len(re.findall(r"\w+", answer)) < THIN_WORDS:
        return True
    material = " ".join(
        (question.text, question.reference_answer, *question.key_points, *question.skills)
    )
    topic = set(keywords(material, limit=200))
    return bool(topic) and not topic & words


def _ask(question: QuestionSnapshot | None, number: int, total: int) -> str:
    return f"\n\nQuestion {number} of {total}: {question.text}" if question else ""
