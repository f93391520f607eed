"""Organisations in the Store contract, on both backends: rows keep the creator's org and every
listing can be restricted to one; events from before organisations belong to "default"."""

from __future__ import annotations

import json
import uuid

from interview_shared import events as ev
from interview_shared.domain import DEFAULT_ORG
from interview_store.port import (
    EvaluationFilter,
    InterviewFilter,
    ListQuery,
    QuestionFilter,
    ReviewFilter,
    Store,
)

from . import factories as f

ACME, GLOBEX = ListQuery(org_id="acme", limit=100), ListQuery(org_id="globex", limit=100)


async def _one_of_each(store: Store, org: str) -> dict[str, object]:
    person = f.candidate(org_id=org)
    asked = f.question(org_id=org)
    scheduled = f.interview(
        candidate_id=person.candidate_id, question_ids=(asked.question_id,), org_id=org
    )
    submitted = f.answer(scheduled.interview_id, asked.question_id)
    chat = f.session(scheduled.interview_id, org_id=org)
    await store.apply([person, asked, scheduled, submitted, f.evaluation(submitted), chat])
    return {"candidate": person, "question": asked, "interview": scheduled, "chat": chat}


async def test_rows_keep_their_organisation(store: Store) -> None:
    made = await _one_of_each(store, "acme")
    person, asked = made["candidate"], made["question"]
    scheduled, chat = made["interview"], made["chat"]
    assert isinstance(person, ev.CandidateRegistered)
    assert isinstance(asked, ev.QuestionCreated)
    assert isinstance(scheduled, ev.InterviewCreated)
    assert isinstance(chat, ev.ChatSessionStarted)
    for stored in (
        await store.get_candidate(person.candidate_id),
        await store.get_question(asked.question_id),
        await store.get_interview(scheduled.interview_id),
        await store.get_chat_session(chat.chat_session_id),
    ):
        assert stored is not None
        assert stored.org_id == "acme"


async def test_listings_show_only_the_organisation_asked_for(store: Store) -> None:
    await _one_of_each(store, "acme")
    await _one_of_each(store, "acme")
    await _one_of_each(store, "globex")

    assert len((await store.list_candidates(ACME)).items) == 2
    assert len((await store.list_candidates(GLOBEX)).items) == 1
    assert len((await store.list_questions(ACME, QuestionFilter())).items) == 2
    assert len((await store.list_interviews(GLOBEX, InterviewFilter())).items) == 1
    assert len((await store.list_evaluations(ACME, EvaluationFilter())).items) == 2
    assert len((await store.list_evaluations(GLOBEX, EvaluationFilter())).items) == 1
    nobody = ListQuery(org_id="initech")
    assert (await store.list_candidates(nobody)).items == ()
    assert (await store.list_interviews(nobody, InterviewFilter())).items == ()
    # Without an organisation (the store's own tools) a listing shows every row.
    assert len((await store.list_candidates(ListQuery(limit=100))).items) == 3


async def test_paging_within_an_organisation_skips_the_others(store: Store) -> None:
    for org in ("acme", "globex", "acme", "globex", "acme"):
        await store.apply([f.candidate(org_id=org)])
    first = await store.list_candidates(ListQuery(org_id="acme", limit=2))
    assert first.next_cursor is not None
    rest = await store.list_candidates(ListQuery(org_id="acme", limit=2, cursor=first.next_cursor))
    ids = [c.id for c in (*first.items, *rest.items)]
    assert len(ids) == len(set(ids)) == 3
    assert rest.next_cursor is None


async def test_an_event_from_before_organisations_belongs_to_the_default_one(
    store: Store,
) -> None:
    old = json.loads(f.candidate().model_dump_json())
    del old["org_id"]  # as written before the field existed
    event = ev.decode_event(json.dumps(old))
    assert isinstance(event, ev.CandidateRegistered)
    await store.apply([event])
    stored = await store.get_candidate(event.candidate_id)
    assert stored is not None
    assert stored.org_id == DEFAULT_ORG
    default = ListQuery(org_id=DEFAULT_ORG)
    assert [c.id for c in (await store.list_candidates(default)).items] == [event.candidate_id]


async def test_the_review_queue_shows_only_the_organisation_asked_for(store: Store) -> None:
    queued = {}
    for org in ("acme", "globex"):
        scheduled = f.interview(org_id=org)
        submitted = f.answer(scheduled.interview_id, uuid.uuid4())
        verdict = f.evaluation(submitted, flags=("mid_band", "needs_human_review"))
        await store.apply([scheduled, submitted, verdict])
        queued[org] = verdict.evaluation_id
    for org, query in (("acme", ACME), ("globex", GLOBEX)):
        page = await store.list_reviews(query, ReviewFilter())
        assert [e.id for e in page.items] == [queued[org]]
