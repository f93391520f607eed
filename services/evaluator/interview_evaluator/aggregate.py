"""The interview-level verdict: per skill and overall, strengths and weaknesses."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict
from statistics import fmean

from interview_shared.events import InterviewEvaluated, SkillScore
from interview_shared.read_client import ReadSide
from interview_shared.read_models import Answer, AnswerFilter, ListQuery, Question

STRONG_AT = 70.0
WEAK_BELOW = 50.0
GENERAL_SKILL = "general"


def latest_answers(answers: list[Answer]) -> list[Answer]:
    """The newest answer per question: what the interview log shows and what counts."""
    newest: dict[uuid.UUID, Answer] = {}
    for answer in sorted(answers, key=lambda a: (a.submitted_at, str(a.id))):
        newest[answer.question_id] = answer
    return list(newest.values())


def summarise(
    interview_id: uuid.UUID, answers: list[Answer], questions: dict[uuid.UUID, Question]
) -> InterviewEvaluated:
    """Aggregate current evaluations; unscorable or unscored answers count in no average."""
    by_skill: dict[str, list[float]] = defaultdict(list)
    scores: list[float] = []
    versions: set[str] = set()
    evaluation_ids: list[uuid.UUID] = []
    for answer in latest_answers(answers):
        evaluation = answer.evaluation
        if evaluation is None or evaluation.score is None:
            continue
        scores.append(evaluation.score)
        versions.add(evaluation.lineage.rubric_version)
        evaluation_ids.append(evaluation.id)
        question = questions.get(answer.question_id)
        for skill in question.skills if question and question.skills else (GENERAL_SKILL,):
            by_skill[skill].append(evaluation.score)
    skills = tuple(
        SkillScore(skill=name, score=round(fmean(values), 2), answers=len(values))
        for name, values in sorted(by_skill.items())
    )
    return InterviewEvaluated(
        interview_id=interview_id,
        overall_score=round(fmean(scores), 2) if scores else None,
        skills=skills,
        strengths=tuple(s.skill for s in skills if s.score >= STRONG_AT),
        weaknesses=tuple(s.skill for s in skills if s.score < WEAK_BELOW),
        rubric_versions=tuple(sorted(versions)),
        evaluation_ids=tuple(evaluation_ids),
    )


async def collect(
    read: ReadSide, interview_id: uuid.UUID, *, wait_s: float, poll_s: float = 0.5
) -> tuple[list[Answer], dict[uuid.UUID, Question]]:
    """The interview's answers and questions, waiting up to `wait_s` for pending scores."""
    deadline = time.monotonic() + wait_s
    while True:
        answers = await _all_answers(read, interview_id)
        pending = [a for a in latest_answers(answers) if a.evaluation is None]
        if not pending or time.monotonic() >= deadline:
            break
        await asyncio.sleep(poll_s)
    questions: dict[uuid.UUID, Question] = {}
    for question_id in {a.question_id for a in answers}:
        if (question := await read.get_question(question_id)) is not None:
            questions[question_id] = question
    return answers, questions


async def _all_answers(read: ReadSide, interview_id: uuid.UUID) -> list[Answer]:
    answers: list[Answer] = []
    cursor: str | None = None
    while True:
        page = await read.list_answers(
            ListQuery(limit=100, cursor=cursor, sort="created_at"),
            AnswerFilter(interview_id=interview_id),
        )
        answers.extend(page.items)
        if page.next_cursor is None:
            return answers
        cursor = page.next_cursor
