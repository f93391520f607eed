"""The interview-level verdict: per skill and overall, strengths and weaknesses."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import fmean

from interview_shared.events import InterviewEvaluated, SkillScore

STRONG_AT = 70.0
WEAK_BELOW = 50.0
GENERAL_SKILL = "general"


@dataclass(frozen=True, slots=True)
class CurrentScore:
    """The current evaluation of the newest answer to one question, with the question's skills."""

    evaluation_id: uuid.UUID
    score: float | None
    rubric_version: str
    skills: tuple[str, ...]
    created_at: datetime


def summarise(interview_id: uuid.UUID, current: Sequence[CurrentScore]) -> InterviewEvaluated:
    """Aggregate current evaluations; unscorable answers count in no average."""
    by_skill: dict[str, list[float]] = defaultdict(list)
    scores: list[float] = []
    versions: set[str] = set()
    evaluation_ids: list[uuid.UUID] = []
    for item in current:
        if item.score is None:
            continue
        scores.append(item.score)
        versions.add(item.rubric_version)
        evaluation_ids.append(item.evaluation_id)
        for skill in item.skills or (GENERAL_SKILL,):
            by_skill[skill].append(item.score)
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
        evaluation_ids=tuple(sorted(evaluation_ids, key=str)),
    )
