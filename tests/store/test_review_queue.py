"""The review queue and human grades: one suite, run against the memory and PostgreSQL stores."""

from __future__ import annotations

import uuid
from typing import Any

from interview_shared import events as ev
from interview_shared.reviews import HumanReview
from interview_store.port import ListQuery, ReviewFilter, Store

from . import factories as f


def flagged(submitted: ev.AnswerSubmitted, *flags: str, **kw: Any) -> ev.AnswerEvaluated:
    """A machine verdict with review flags."""
    return f.evaluation(submitted, kw.pop("score", 50.0), flags=flags, **kw)


def human(
    submitted: ev.AnswerSubmitted, reviewed: ev.AnswerEvaluated, score: float, **kw: Any
) -> ev.AnswerEvaluated:
    """A person's grade of `reviewed`, as the gateway publishes it."""
    return ev.AnswerEvaluated(
        answer_id=submitted.answer_id,
        interview_id=submitted.interview_id,
        question_id=submitted.question_id,
        score=score,
        feedback="Checked by hand.",
        lineage=ev.Lineage(
            scorer="human",
            scorer_version="1",
            rubric_version=reviewed.lineage.rubric_version,
            evaluator_version="api",
        ),
        review=HumanReview(
            reviewed_evaluation_id=reviewed.evaluation_id, reviewer="ada", reasons=("mid_band",)
        ),
        occurred_at=kw.pop("occurred_at", None) or f.at(),
        **kw,
    )


async def queue(store: Store, reason: str | None = None, **query: Any) -> list[uuid.UUID]:
    page = await store.list_reviews(ListQuery(**query), ReviewFilter(reason=reason))
    return [e.id for e in page.items]


async def test_flagged_and_unscorable_verdicts_are_queued_with_their_reasons(store: Store) -> None:
    q = f.question()
    a = f.answer(f.new_id(), q.question_id)
    plain = f.evaluation(a, 90.0, occurred_at=f.at(1))
    disagree = flagged(a, "judges_disagree", "needs_human_review", occurred_at=f.at(2))
    injection = flagged(
        a, "possible_prompt_injection", "needs_human_review", score=None, occurred_at=f.at(3)
    )
    empty = f.evaluation(a, None, unscorable_reason="empty", occurred_at=f.at(4))
    vague = flagged(a, "needs_human_review", occurred_at=f.at(5), confidence=0.3)
    await store.apply([q, a, plain, disagree, injection, empty, vague])

    ids = [vague, empty, injection, disagree]
    assert await queue(store) == [e.evaluation_id for e in ids]  # newest first by default
    reasons = {
        e.id: e.review_reasons
        for e in (await store.list_reviews(ListQuery(), ReviewFilter())).items
    }
    assert reasons == {
        disagree.evaluation_id: ("judges_disagree",),
        injection.evaluation_id: ("injection_suspected",),
        empty.evaluation_id: ("unscorable",),
        vague.evaluation_id: ("flagged",),
    }
    assert await queue(store, "unscorable") == [empty.evaluation_id]
    assert await queue(store, "judges_disagree") == [disagree.evaluation_id]
    assert await queue(store, "low_confidence") == []
    stored = await store.get_evaluation(vague.evaluation_id)
    assert stored is not None
    assert (stored.confidence, stored.review, stored.review_reasons) == (0.3, None, ("flagged",))
    assert await store.get_evaluation(f.new_id()) is None


async def test_the_queue_pages_with_a_cursor(store: Store) -> None:
    q = f.question()
    a = f.answer(f.new_id(), q.question_id)
    verdicts = [flagged(a, "mid_band", "needs_human_review", occurred_at=f.at(i)) for i in range(5)]
    await store.apply([q, a, *verdicts])
    first = await store.list_reviews(ListQuery(limit=2, sort="created_at"), ReviewFilter())
    assert [e.id for e in first.items] == [v.evaluation_id for v in verdicts[:2]]
    assert first.next_cursor is not None
    rest = await store.list_reviews(
        ListQuery(limit=10, sort="created_at", cursor=first.next_cursor), ReviewFilter()
    )
    assert [e.id for e in rest.items] == [v.evaluation_id for v in verdicts[2:]]
    assert rest.next_cursor is None


async def test_a_human_grade_is_current_and_takes_the_answer_out_of_the_queue(
    store: Store,
) -> None:
    q = f.question(rubric_version="v2")
    a = f.answer(f.new_id(), q.question_id)
    other = f.answer(a.interview_id, q.question_id)
    old = flagged(a, "mid_band", "needs_human_review", rubric_version="v1", occurred_at=f.at(1))
    active = flagged(a, "low_confidence", "needs_human_review", rubric_version="v2",
                     occurred_at=f.at(2))  # fmt: skip
    kept = flagged(other, "mid_band", "needs_human_review", occurred_at=f.at(3))
    await store.apply([q, a, other, old, active, kept])
    grade = human(a, old, 12.0, occurred_at=f.at(4))
    assert [r.outcome.value for r in await store.apply([grade])] == ["applied"]

    assert await queue(store) == [kept.evaluation_id]  # both verdicts of the graded answer left
    # A machine verdict after the grade (a replay under the active rubric) neither becomes
    # current nor puts the answer back in the queue.
    rescored = flagged(
        a, "mid_band", "needs_human_review", rubric_version="v2", occurred_at=f.at(9)
    )
    await store.apply([rescored])
    assert await queue(store) == [kept.evaluation_id]
    stored = await store.get_answer(a.answer_id)
    assert stored is not None
    assert stored.evaluation is not None
    assert stored.evaluation.id == grade.evaluation_id
    assert stored.evaluation.score == 12.0
    assert stored.evaluation.review == grade.review
    assert stored.evaluation.review_reasons == ()
    log = await store.interview_log(a.interview_id)
    assert log == [] or all(entry.score is not None for entry in log)
    # A second grade of the same answer replaces the first as current.
    regrade = human(a, active, 55.0, occurred_at=f.at(10))
    await store.apply([regrade])
    stored = await store.get_answer(a.answer_id)
    assert stored is not None
    assert stored.evaluation is not None
    assert stored.evaluation.id == regrade.evaluation_id


async def test_a_grade_in_the_same_batch_as_its_verdict_leaves_nothing_queued(
    store: Store,
) -> None:
    # A rebuild from the log reads the verdict and its grade in one batch.
    q = f.question()
    a = f.answer(f.new_id(), q.question_id)
    verdict = flagged(a, "judges_disagree", "needs_human_review", occurred_at=f.at(1))
    grade = human(a, verdict, 70.0, occurred_at=f.at(2))
    await store.apply([q, a, verdict, grade])
    assert await queue(store) == []
    assert await outcomes_of(store, grade) == ["duplicate"]


async def outcomes_of(store: Store, *events: ev.Event) -> list[str]:
    return [r.outcome.value for r in await store.apply(list(events))]
