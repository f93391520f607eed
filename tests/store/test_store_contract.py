"""The Store contract: one suite, run unchanged against the memory and PostgreSQL backends."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from interview_shared import events as ev
from interview_shared.domain import ChatRole, Difficulty, QuestionType
from interview_shared.domain import InterviewStatus as S
from interview_store.port import (
    AnswerFilter,
    EvaluationFilter,
    InterviewFilter,
    InvalidQueryError,
    KeptOffset,
    ListQuery,
    Outcome,
    QuestionFilter,
    Store,
)
from pydantic import ValidationError

from . import factories as f

APPLIED, DUPLICATE, REJECTED = Outcome.APPLIED, Outcome.DUPLICATE, Outcome.REJECTED


async def outcomes(store: Store, *events: ev.Event) -> list[tuple[Outcome, str | None]]:
    """Apply one batch and return (outcome, reason) per event."""
    return [(r.outcome, r.reason) for r in await store.apply(list(events))]


# --- apply: candidates ---------------------------------------------------------------------------


async def test_candidate_registered_is_stored_with_event_time(store: Store) -> None:
    event = f.candidate("Ada@Example.com", cv_path="cv/ada.pdf")
    assert await outcomes(store, event) == [(APPLIED, None)]
    stored = await store.get_candidate(event.candidate_id)
    assert stored is not None
    assert (stored.name, stored.email, stored.cv_path) == ("Ada", "Ada@Example.com", "cv/ada.pdf")
    assert stored.created_at == stored.updated_at == event.occurred_at
    assert await store.get_candidate_by_email("ada@EXAMPLE.COM") == stored


# Every length from the shortest address up: the key once ignored case at 6 characters or fewer.
@pytest.mark.parametrize(
    "email", ["a@b", "ab@c.d", "Ab@c.io", "bob@example.com", "straße@example.com"]
)
async def test_email_is_unique_case_insensitively(store: Store, email: str) -> None:
    first = f.candidate(email)
    await store.apply([first])
    clash = f.candidate(email.upper())
    assert await outcomes(store, clash) == [(REJECTED, "email_taken")]
    assert await store.get_candidate(clash.candidate_id) is None
    assert await store.get_candidate_by_email(email.swapcase()) is not None


async def test_same_candidate_id_is_already_exists(store: Store) -> None:
    first = f.candidate()
    again = f.candidate(candidate_id=first.candidate_id, email="other@example.com")
    assert await outcomes(store, first, again) == [(APPLIED, None), (REJECTED, "already_exists")]


async def test_email_taken_within_one_batch(store: Store) -> None:
    result = await outcomes(store, f.candidate("x@example.com"), f.candidate("X@example.com"))
    assert result == [(APPLIED, None), (REJECTED, "email_taken")]


async def test_cv_analyses_are_listed_oldest_first(store: Store) -> None:
    cid = f.new_id()
    second = ev.CvAnalyzed(
        candidate_id=cid, skills={"python": 5}, summary="b", occurred_at=f.at(20)
    )
    first = ev.CvAnalyzed(candidate_id=cid, skills={"go": 1}, summary="a", occurred_at=f.at(10))
    await store.apply([second, first])
    analyses = await store.list_cv_analyses(cid)
    assert [a.summary for a in analyses] == ["a", "b"]
    assert analyses[1].skills == {"python": 5}


# --- apply: idempotency and outcomes -------------------------------------------------------------


async def test_redelivered_batch_changes_nothing(store: Store) -> None:
    q = f.question()
    i = f.interview(question_ids=(q.question_id,))
    a = f.answer(i.interview_id, q.question_id)
    batch: list[ev.Event] = [
        f.candidate(),
        q,
        i,
        f.status(i.interview_id, S.READY),
        a,
        f.evaluation(a),
    ]
    assert {o for o, _ in await outcomes(store, *batch)} == {APPLIED}
    assert {o for o, _ in await outcomes(store, *batch)} == {DUPLICATE}
    assert len((await store.list_candidates(ListQuery())).items) == 1
    assert len((await store.list_evaluations(ListQuery(), EvaluationFilter())).items) == 1
    interview = await store.get_interview(i.interview_id)
    assert interview is not None
    assert interview.status is S.READY


async def test_duplicate_within_one_batch(store: Store) -> None:
    event = f.question()
    assert await outcomes(store, event, event) == [(APPLIED, None), (DUPLICATE, None)]


async def test_event_outcome_is_recorded_for_applied_and_rejected(store: Store) -> None:
    good, bad = f.candidate("a@example.com"), f.candidate("A@example.com")
    await store.apply([good, bad])
    applied = await store.event_outcome(good.event_id)
    rejected = await store.event_outcome(bad.event_id)
    assert applied is not None
    assert rejected is not None
    assert (applied.outcome, rejected.outcome, rejected.reason) == (
        APPLIED,
        REJECTED,
        "email_taken",
    )
    assert await store.event_outcome(uuid.uuid4()) is None
    # A redelivery is reported as a duplicate, but the recorded outcome stays the original.
    assert await outcomes(store, bad) == [(DUPLICATE, None)]
    assert await store.event_outcome(bad.event_id) == rejected


async def test_reply_delta_is_ignored(store: Store) -> None:
    s = f.session()
    posted = f.message(s.chat_session_id)
    d = f.delta(posted)
    assert await outcomes(store, s, posted, d, d) == [(APPLIED, None)] * 4
    assert await store.event_outcome(d.event_id) is None
    assert len(await store.list_chat_messages(s.chat_session_id)) == 1


async def test_empty_batch(store: Store) -> None:
    assert await store.apply([]) == []


async def test_offsets_are_kept_with_the_batch_and_never_move_back(store: Store) -> None:
    assert await store.consumed_offsets() == {}  # empty: a consumer starts at offset 0
    a, b = ("interview.candidates.v1", 0), ("interview.candidates.v1", 1)
    await store.apply([f.candidate()], offsets={a: KeptOffset(5, 5), b: KeptOffset(2, 0)})
    await store.apply([], offsets={a: KeptOffset(9, 5)})  # a batch of dead letters only
    await store.apply([f.candidate()], offsets={a: KeptOffset(7, 8)})  # a late former owner
    assert await store.consumed_offsets() == {a: KeptOffset(9, 8), b: KeptOffset(2, 0)}


@pytest.mark.parametrize("text", ["nul\x00byte", "lone \ud800 surrogate"])
async def test_unstorable_text_is_rejected_cleanly(store: Store, text: str) -> None:
    bad = f.question(text=text)
    assert await outcomes(store, bad, f.candidate(name=text)) == [(REJECTED, "invalid_text")] * 2
    assert await store.get_question(bad.question_id) is None
    outcome = await store.event_outcome(bad.event_id)
    assert outcome is not None
    assert outcome.reason == "invalid_text"


async def test_non_finite_number_is_rejected(store: Store) -> None:
    a = f.answer(f.new_id(), f.new_id())
    bad = f.evaluation(a, explanation={"x": float("nan")})
    assert await outcomes(store, bad) == [(REJECTED, "invalid_number")]


# --- apply: questions and interviews -------------------------------------------------------------


async def test_question_round_trips(store: Store) -> None:
    event = f.question(skills=("python", "sql"), tags=("db",), key_points=("a", "b"))
    await store.apply([event])
    stored = await store.get_question(event.question_id)
    assert stored is not None
    assert stored.skills == ("python", "sql")
    assert stored.tags == ("db",)
    assert stored.key_points == ("a", "b")
    assert stored.rubric == event.rubric
    assert stored.type is QuestionType.TECHNICAL
    clash = f.question(question_id=event.question_id)
    assert await outcomes(store, clash) == [(REJECTED, "already_exists")]


async def test_interview_created_preparing_with_unknown_references(store: Store) -> None:
    event = f.interview(question_ids=(f.new_id(), f.new_id()))
    assert await outcomes(store, event) == [(APPLIED, None)]
    stored = await store.get_interview(event.interview_id)
    assert stored is not None
    assert stored.status is S.PREPARING
    assert stored.question_ids == event.question_ids
    assert stored.started_at is None
    assert stored.completed_at is None
    clash = f.interview(interview_id=event.interview_id)
    assert await outcomes(store, clash) == [(REJECTED, "already_exists")]


async def test_status_lifecycle_sets_timestamps(store: Store) -> None:
    i = f.interview()
    ready, started, done = (
        f.status(i.interview_id, S.READY, occurred_at=f.at(100)),
        f.status(i.interview_id, S.IN_PROGRESS, occurred_at=f.at(200)),
        f.status(i.interview_id, S.COMPLETED, occurred_at=f.at(300)),
    )
    await store.apply([i, ready])
    await store.apply([started, done])
    stored = await store.get_interview(i.interview_id)
    assert stored is not None
    assert stored.status is S.COMPLETED
    assert stored.started_at == f.at(200)
    assert stored.completed_at == stored.updated_at == f.at(300)
    assert stored.created_at == i.occurred_at


async def test_invalid_transitions_are_rejected(store: Store) -> None:
    i = f.interview()
    result = await outcomes(
        store,
        f.status(i.interview_id, S.READY),
        i,
        f.status(i.interview_id, S.IN_PROGRESS),
        f.status(i.interview_id, S.CANCELLED),
        f.status(i.interview_id, S.READY),
    )
    assert result == [
        (REJECTED, "interview_not_found"),
        (APPLIED, None),
        (REJECTED, "invalid_transition"),
        (APPLIED, None),
        (REJECTED, "invalid_transition"),
    ]
    stored = await store.get_interview(i.interview_id)
    assert stored is not None
    assert stored.status is S.CANCELLED


async def test_timestamps_are_normalised_to_utc(store: Store) -> None:
    plus2 = timezone(timedelta(hours=2))
    event = f.candidate(occurred_at=datetime(2025, 6, 1, 12, 0, 0, 123456, tzinfo=plus2))
    await store.apply([event])
    stored = await store.get_candidate(event.candidate_id)
    assert stored is not None
    assert stored.created_at == datetime(2025, 6, 1, 10, 0, 0, 123456, tzinfo=UTC)
    assert stored.created_at.utcoffset() == timedelta(0)


# --- apply: answers, evaluations, reports --------------------------------------------------------


async def test_answers_and_log_show_the_newest_answer(store: Store) -> None:
    q1, q2 = f.question(text="One?"), f.question(text="Two?")
    i = f.interview(question_ids=(q1.question_id, q2.question_id, f.new_id()))
    old = f.answer(i.interview_id, q1.question_id, "old", occurred_at=f.at(10))
    new = f.answer(i.interview_id, q1.question_id, "new", occurred_at=f.at(20))
    await store.apply([q1, q2, i, new, old, f.evaluation(new, 80.0), f.evaluation(old, 10.0)])
    stored = await store.get_answer(old.answer_id)
    assert stored is not None
    assert stored.submitted_at == stored.created_at == f.at(10)
    log = await store.interview_log(i.interview_id)
    assert [(e.position, e.question, e.answer, e.score) for e in log] == [
        (1, "One?", "new", 80.0),
        (2, "Two?", None, None),
        (3, "", None, None),
    ]
    assert await store.interview_log(f.new_id()) == []


async def test_log_uses_snapshot_text_when_question_unknown(store: Store) -> None:
    qid = f.new_id()
    i = f.interview(question_ids=(qid,))
    await store.apply([i, f.answer(i.interview_id, qid, "x", question_text="Snapshot?")])
    log = await store.interview_log(i.interview_id)
    assert log[0].question == "Snapshot?"


async def test_evaluations_are_append_only(store: Store) -> None:
    a = f.answer(f.new_id(), f.new_id())
    first, second = f.evaluation(a, 40.0), f.evaluation(a, 60.0)
    await store.apply([a, first])
    await store.apply([second])
    page = await store.list_evaluations(ListQuery(sort="created_at"), EvaluationFilter())
    assert [e.score for e in page.items] == [40.0, 60.0]
    clash = f.evaluation(a, 1.0, evaluation_id=first.evaluation_id)
    assert await outcomes(store, clash) == [(REJECTED, "already_exists")]
    evaluation = page.items[0]
    assert evaluation.lineage == first.lineage
    assert evaluation.criteria == first.criteria
    assert evaluation.explanation == first.explanation


async def test_current_evaluation_prefers_the_active_rubric(store: Store) -> None:
    q = f.question(rubric_version="v2")
    a = f.answer(f.new_id(), q.question_id)
    matching = f.evaluation(a, 70.0, rubric_version="v2", occurred_at=f.at(10))
    newer_other = f.evaluation(a, 20.0, rubric_version="v1", occurred_at=f.at(20))
    await store.apply([q, a, matching, newer_other])
    stored = await store.get_answer(a.answer_id)
    assert stored is not None
    assert stored.evaluation is not None
    assert stored.evaluation.id == matching.evaluation_id
    newest_matching = f.evaluation(a, 90.0, rubric_version="v2", occurred_at=f.at(30))
    await store.apply([newest_matching])
    stored = await store.get_answer(a.answer_id)
    assert stored is not None
    assert stored.evaluation is not None
    assert stored.evaluation.score == 90.0


async def test_rubric_change_replaces_the_rubric_and_rejects_unknown_questions(
    store: Store,
) -> None:
    q = f.question(rubric_version="v1")
    later = f.rubric_changed(q.question_id, "v3")
    # Created and changed twice in one batch: the last change wins, as in two batches.
    assert (
        await outcomes(store, q, f.rubric_changed(q.question_id, "v2"), later)
        == [(APPLIED, None)] * 3
    )
    stored = await store.get_question(q.question_id)
    assert stored is not None
    assert stored.rubric == later.rubric
    assert stored.updated_at == later.occurred_at
    unknown = f.rubric_changed(f.new_id(), "v2")
    assert await outcomes(store, unknown) == [(REJECTED, "question_not_found")]
    assert await outcomes(store, later) == [(DUPLICATE, None)]


async def test_current_evaluation_follows_a_rubric_change_once_rescored(store: Store) -> None:
    q = f.question(rubric_version="v1")
    a = f.answer(f.new_id(), q.question_id)
    old = f.evaluation(a, 40.0, rubric_version="v1")
    await store.apply([q, a, old, f.rubric_changed(q.question_id, "v2")])
    stored = await store.get_answer(a.answer_id)
    assert stored is not None
    assert stored.evaluation is not None
    assert stored.evaluation.id == old.evaluation_id  # no v2 evaluation yet: the old one stays
    rescored = f.evaluation(a, 80.0, rubric_version="v2")
    await store.apply([rescored, f.evaluation(a, 10.0, rubric_version="v1")])
    stored = await store.get_answer(a.answer_id)
    assert stored is not None
    assert stored.evaluation is not None
    assert stored.evaluation.id == rescored.evaluation_id


async def test_a_replay_reads_as_its_last_report(store: Store) -> None:
    replay_id = f.new_id()
    requested = ev.ReplayRequested(replay_id=replay_id, scope=ev.ReplayScope(), occurred_at=f.at())
    assert await outcomes(store, requested) == [(APPLIED, None)]
    running = await store.get_replay(replay_id)
    assert running is not None
    assert running.model_dump() == {
        "id": replay_id, "status": "running", "scanned": 0, "evaluated": 0, "skipped": 0,
        "cost_usd": 0.0, "org_id": "default",
    }  # fmt: skip
    await store.apply(
        [
            ev.ReplayProgressed(replay_id=replay_id, scanned=4, evaluated=2, occurred_at=f.at()),
            ev.ReplayFinished(
                replay_id=replay_id,
                status="capped",
                scanned=9,
                evaluated=3,
                skipped=1,
                cost_usd=0.25,
                occurred_at=f.at(),
            ),
        ]
    )
    done = await store.get_replay(replay_id)
    assert done is not None
    assert (done.status, done.scanned, done.evaluated, done.skipped, done.cost_usd) == (
        "capped", 9, 3, 1, 0.25,
    )  # fmt: skip
    assert await store.get_replay(f.new_id()) is None


async def test_current_evaluation_falls_back_to_newest(store: Store) -> None:
    a = f.answer(f.new_id(), f.new_id())  # question unknown
    await store.apply([a])
    stored = await store.get_answer(a.answer_id)
    assert stored is not None
    assert stored.evaluation is None
    older = f.evaluation(a, 30.0, rubric_version="v9", occurred_at=f.at(10))
    newer = f.evaluation(a, None, rubric_version="v8", occurred_at=f.at(20))
    await store.apply([newer, older])
    stored = await store.get_answer(a.answer_id)
    assert stored is not None
    assert stored.evaluation is not None
    assert stored.evaluation.id == newer.evaluation_id
    assert stored.evaluation.outcome == "UNSCORABLE"


async def test_interview_report_is_upserted(store: Store) -> None:
    iid = f.new_id()
    first = ev.InterviewEvaluated(interview_id=iid, overall_score=50, strengths=("a",))
    second = ev.InterviewEvaluated(
        interview_id=iid,
        overall_score=75.5,
        skills=(ev.SkillScore(skill="python", score=80, answers=2),),
        rubric_versions=("v1",),
        occurred_at=f.at(50),
    )
    await store.apply([first])
    await store.apply([second])
    report = await store.get_interview_report(iid)
    assert report is not None
    assert (report.overall_score, report.strengths, report.created_at) == (75.5, (), f.at(50))
    assert report.skills == second.skills
    assert await store.get_interview_report(f.new_id()) is None


# --- apply: chat ---------------------------------------------------------------------------------


async def test_chat_messages_are_numbered_per_session(store: Store) -> None:
    s1, s2 = f.session(f.new_id()), f.session()
    m1 = f.message(s1.chat_session_id, "q1")
    m2 = f.message(s2.chat_session_id, "other")
    await store.apply([s1, s2, m1, f.reply(m1, "a1"), m2])
    m3 = f.message(s1.chat_session_id, "q2")
    clash = f.message(s1.chat_session_id, "dup id", message_id=m3.message_id)
    assert await outcomes(store, m3, clash) == [(APPLIED, None), (REJECTED, "already_exists")]
    messages = await store.list_chat_messages(s1.chat_session_id)
    assert [(m.sequence, m.role, m.content) for m in messages] == [
        (1, ChatRole.USER, "q1"),
        (2, ChatRole.ASSISTANT, "a1"),
        (3, ChatRole.USER, "q2"),
    ]
    assert [m.sequence for m in await store.list_chat_messages(s2.chat_session_id)] == [1]
    session = await store.get_chat_session(s1.chat_session_id)
    assert session is not None
    assert session.interview_id == s1.interview_id
    assert await outcomes(store, f.session(chat_session_id=s1.chat_session_id)) == [
        (REJECTED, "already_exists")
    ]


async def test_healthy(store: Store) -> None:
    assert await store.healthy() is True


# --- listing -------------------------------------------------------------------------------------


async def seed_interviews(store: Store, count: int, **kw: object) -> list[ev.InterviewCreated]:
    """Interviews with distinct, increasing created_at."""
    events = [f.interview(title=f"t{n % 7}", **kw) for n in range(count)]  # type: ignore[arg-type]
    await store.apply(events)
    return events


async def walk(store: Store, query: ListQuery, filters: InterviewFilter) -> list[uuid.UUID]:
    """Follow next_cursor to the end and return every id seen."""
    seen: list[uuid.UUID] = []
    cursor: str | None = None
    while True:
        page = await store.list_interviews(query.model_copy(update={"cursor": cursor}), filters)
        seen += [i.id for i in page.items]
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


async def test_default_limit_and_order(store: Store) -> None:
    events = await seed_interviews(store, 25)
    page = await store.list_interviews(ListQuery(), InterviewFilter())
    assert len(page.items) == 20
    assert page.next_cursor is not None
    assert [i.id for i in page.items] == [e.interview_id for e in reversed(events)][:20]
    with pytest.raises(ValidationError):
        ListQuery(limit=101)
    assert len((await store.list_interviews(ListQuery(limit=100), InterviewFilter())).items) == 25


@pytest.mark.parametrize(
    "sort", ["created_at", "-created_at", "updated_at", "-updated_at", "title", "-title"]
)
async def test_cursor_walk_matches_full_sort(store: Store, sort: str) -> None:
    await seed_interviews(store, 23)
    everything = (
        await store.list_interviews(ListQuery(limit=100, sort=sort), InterviewFilter())
    ).items
    field, reverse = sort.lstrip("-"), sort.startswith("-")
    expected = sorted(everything, key=lambda i: (getattr(i, field), i.id), reverse=reverse)
    assert [i.id for i in everything] == [i.id for i in expected]
    assert await walk(store, ListQuery(limit=4, sort=sort), InterviewFilter()) == [
        i.id for i in expected
    ]


async def test_ties_are_broken_by_id(store: Store) -> None:
    same = f.at(5000)
    events = [f.interview(occurred_at=same) for _ in range(6)]
    await store.apply(events)
    ids = sorted(e.interview_id for e in events)
    assert await walk(store, ListQuery(limit=2, sort="created_at"), InterviewFilter()) == ids
    assert await walk(store, ListQuery(limit=2), InterviewFilter()) == ids[::-1]


async def test_cursor_is_stable_while_rows_are_inserted(store: Store) -> None:
    events = await seed_interviews(store, 6)
    first = await store.list_interviews(ListQuery(limit=3, sort="created_at"), InterviewFilter())
    # New rows sort before and after the cursor; the next page neither repeats nor skips.
    await store.apply([f.interview(occurred_at=f.T0), f.interview(occurred_at=f.at(10**6))])
    second = await store.list_interviews(
        ListQuery(limit=3, sort="created_at", cursor=first.next_cursor), InterviewFilter()
    )
    assert [i.id for i in first.items + second.items] == [e.interview_id for e in events]


async def test_offset_paging(store: Store) -> None:
    events = await seed_interviews(store, 10)
    page = await store.list_interviews(
        ListQuery(limit=3, offset=4, sort="created_at"), InterviewFilter()
    )
    assert [i.id for i in page.items] == [e.interview_id for e in events[4:7]]
    tail = await store.list_interviews(
        ListQuery(limit=5, offset=8, sort="created_at"), InterviewFilter()
    )
    assert [i.id for i in tail.items] == [e.interview_id for e in events[8:]]
    assert tail.next_cursor is None


@pytest.mark.parametrize(
    "query",
    [
        ListQuery(sort="score"),
        ListQuery(sort="-name"),
        ListQuery(sort="id"),
        ListQuery(cursor="not base64!"),
        ListQuery(cursor="bm90IGpzb24"),
        ListQuery(cursor="WyJpbnRlcnZpZXdzIiwiLWNyZWF0ZWRfYXQiLDUsIngiXQ"),
    ],
)
async def test_invalid_queries(store: Store, query: ListQuery) -> None:
    with pytest.raises(InvalidQueryError):
        await store.list_interviews(query, InterviewFilter())


async def test_cursor_of_another_sort_or_with_offset_is_invalid(store: Store) -> None:
    await seed_interviews(store, 3)
    page = await store.list_interviews(ListQuery(limit=1), InterviewFilter())
    with pytest.raises(InvalidQueryError):
        await store.list_interviews(
            ListQuery(sort="title", cursor=page.next_cursor), InterviewFilter()
        )
    with pytest.raises(InvalidQueryError):
        await store.list_interviews(ListQuery(cursor=page.next_cursor, offset=1), InterviewFilter())
    with pytest.raises(InvalidQueryError):
        await store.list_candidates(ListQuery(cursor=page.next_cursor))


async def test_interview_filters(store: Store) -> None:
    cid = f.new_id()
    events = [f.interview(candidate_id=cid, occurred_at=f.at(9000 + n)) for n in range(5)]
    await store.apply([*events, f.interview(), f.status(events[1].interview_id, S.READY)])
    ids = [e.interview_id for e in events]

    async def ids_for(filters: InterviewFilter) -> list[uuid.UUID]:
        page = await store.list_interviews(ListQuery(sort="created_at"), filters)
        return [i.id for i in page.items]

    assert await ids_for(InterviewFilter(candidate_id=cid)) == ids
    assert await ids_for(InterviewFilter(status=S.READY)) == [ids[1]]
    assert await ids_for(InterviewFilter(candidate_id=cid, status=S.PREPARING)) == [
        ids[0],
        *ids[2:],
    ]
    # created range: inclusive from, exclusive to.
    window = InterviewFilter(created_from=f.at(9001), created_to=f.at(9003))
    assert await ids_for(window) == ids[1:3]
    by_title = await store.list_interviews(ListQuery(sort="-title"), window)
    assert {i.id for i in by_title.items} == set(ids[1:3])


async def test_question_filters(store: Store) -> None:
    py = f.question(skills=("python",), tags=("backend",), difficulty=Difficulty.EASY)
    go = f.question(
        skills=("go", "sql"), tags=("backend", "infra"), question_type=QuestionType.CODING
    )
    none = f.question(skills=(), tags=())
    await store.apply([py, go, none])

    async def ids_for(filters: QuestionFilter) -> set[uuid.UUID]:
        return {q.id for q in (await store.list_questions(ListQuery(), filters)).items}

    assert await ids_for(QuestionFilter()) == {py.question_id, go.question_id, none.question_id}
    assert await ids_for(QuestionFilter(skills=("sql", "python"))) == {
        py.question_id,
        go.question_id,
    }
    assert await ids_for(QuestionFilter(skills=("go",))) == {go.question_id}
    assert await ids_for(QuestionFilter(tags=("infra",))) == {go.question_id}
    assert await ids_for(QuestionFilter(tags=("backend",), difficulty=Difficulty.EASY)) == {
        py.question_id
    }
    assert await ids_for(QuestionFilter(type=QuestionType.CODING)) == {go.question_id}
    assert await ids_for(QuestionFilter(skills=("rust",))) == set()


async def test_evaluation_filters_and_score_sort(store: Store) -> None:
    a1, a2 = f.answer(f.new_id(), f.new_id()), f.answer(f.new_id(), f.new_id())
    scores = [0.0, 12.5, 12.5, 50.0, 99.99, 100.0, None]
    evaluations = [f.evaluation(a1 if n % 2 else a2, s) for n, s in enumerate(scores)]
    await store.apply(evaluations)

    async def scores_for(filters: EvaluationFilter, sort: str = "score") -> list[float | None]:
        page = await store.list_evaluations(ListQuery(sort=sort, limit=3), filters)
        found = [e.score for e in page.items]
        while page.next_cursor:
            page = await store.list_evaluations(
                ListQuery(sort=sort, limit=3, cursor=page.next_cursor), filters
            )
            found += [e.score for e in page.items]
        return found

    assert await scores_for(EvaluationFilter()) == [None, 0.0, 12.5, 12.5, 50.0, 99.99, 100.0]
    assert await scores_for(EvaluationFilter(), "-score") == [
        100.0,
        99.99,
        50.0,
        12.5,
        12.5,
        0.0,
        None,
    ]
    assert await scores_for(EvaluationFilter(min_score=12.5, max_score=99.99)) == [
        12.5,
        12.5,
        50.0,
        99.99,
    ]
    assert await scores_for(EvaluationFilter(max_score=0)) == [0.0]
    assert len(await scores_for(EvaluationFilter(answer_id=a1.answer_id))) == 3
    assert len(await scores_for(EvaluationFilter(interview_id=a2.interview_id))) == 4
    assert await scores_for(EvaluationFilter(answer_id=a1.answer_id, min_score=50)) == [50.0, 100.0]


async def test_answer_filters_and_current_evaluation_in_listing(store: Store) -> None:
    iid, q1, q2 = f.new_id(), f.new_id(), f.new_id()
    answers = [f.answer(iid, q1), f.answer(iid, q2), f.answer(f.new_id(), q1)]
    await store.apply([*answers, f.evaluation(answers[0], 42.0)])

    async def ids_for(filters: AnswerFilter) -> list[uuid.UUID]:
        page = await store.list_answers(ListQuery(sort="created_at"), filters)
        return [a.id for a in page.items]

    assert await ids_for(AnswerFilter(interview_id=iid)) == [a.answer_id for a in answers[:2]]
    assert await ids_for(AnswerFilter(question_id=q1)) == [
        answers[0].answer_id,
        answers[2].answer_id,
    ]
    assert await ids_for(AnswerFilter(interview_id=iid, question_id=q2)) == [answers[1].answer_id]
    listed = await store.list_answers(ListQuery(sort="created_at", limit=1), AnswerFilter())
    assert listed.items[0].evaluation is not None
    assert listed.items[0].evaluation.score == 42.0
    assert listed.next_cursor is not None


async def test_candidate_listing_by_name_uses_code_point_order(store: Store) -> None:
    names = ["bob", "Bob", "Émile", "alice", "Zoë", "zed", "ßeta"]
    await store.apply([f.candidate(name=n) for n in names])
    page = await store.list_candidates(ListQuery(sort="name"))
    assert [c.name for c in page.items] == sorted(names)
    by_updated = await store.list_candidates(ListQuery(sort="-updated_at", limit=2))
    assert [c.name for c in by_updated.items] == ["ßeta", "zed"]
