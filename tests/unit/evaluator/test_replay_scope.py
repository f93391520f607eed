"""What a replay selects and when its budget is spent."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from interview_evaluator.cli import app
from interview_evaluator.replay_run import Budget, ReplayScope
from interview_shared.events import AnswerSubmitted, QuestionSnapshot
from typer.testing import CliRunner

AT = datetime(2026, 10, 5, tzinfo=UTC)
INTERVIEW, QUESTION, CANDIDATE = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
ANSWER = AnswerSubmitted(
    answer_id=uuid.uuid4(),
    interview_id=INTERVIEW,
    question_id=QUESTION,
    text="A lock.",
    question=QuestionSnapshot(question_id=QUESTION, text="Q?"),
    occurred_at=AT,
)
OTHER = uuid.uuid4()


@pytest.mark.parametrize(
    ("scope", "selected"),
    [
        (ReplayScope(), True),
        (ReplayScope(since=AT, until=datetime(2026, 10, 6, tzinfo=UTC)), True),
        (ReplayScope(until=AT), False),  # `until` is exclusive
        (ReplayScope(interview_ids=frozenset({OTHER})), False),
        (ReplayScope(question_ids=frozenset({QUESTION})), True),
        (ReplayScope(question_ids=frozenset({OTHER})), False),
        (ReplayScope(candidate_ids=frozenset({CANDIDATE})), True),
        (ReplayScope(candidate_ids=frozenset({OTHER})), False),
    ],
)
def test_a_scope_selects_by_time_interview_question_and_candidate(
    scope: ReplayScope, selected: bool
) -> None:
    assert scope.matches(ANSWER, {INTERVIEW: CANDIDATE}) is selected


def test_an_organisations_replay_selects_only_its_interviews_answers() -> None:
    scope = ReplayScope(org_id="acme")
    assert scope.matches(ANSWER, {}, {INTERVIEW: "acme"})
    assert not scope.matches(ANSWER, {}, {INTERVIEW: "globex"})
    assert not scope.matches(ANSWER, {}, {})  # an interview of unknown organisation: not its
    assert ReplayScope().matches(ANSWER, {}, {INTERVIEW: "globex"})  # the CLI: every org


def test_a_budget_is_spent_at_either_cap() -> None:
    assert not Budget().spent(10**6, 10.0**6)
    assert Budget(max_evaluations=2).spent(2, 0.0)
    assert not Budget(max_evaluations=2).spent(1, 99.0)
    assert Budget(max_cost_usd=0.5).spent(0, 0.5)


def test_rescore_refuses_a_rubric_file_that_is_not_a_rubric(tmp_path: Path) -> None:
    bad = tmp_path / "rubric.json"
    bad.write_text('{"version": ""}')
    result = CliRunner().invoke(app, ["rescore", "--rubric", str(bad)])
    assert result.exit_code == 2
    assert "not a rubric" in result.output
