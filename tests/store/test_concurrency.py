"""Concurrent writers on both backends: nothing is lost, no invalid state is ever reached."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

from interview_shared.domain import InterviewStatus as S
from interview_store.port import ListQuery, Outcome, Store

from . import factories as f


async def test_racing_status_changes_keep_a_legal_history(store: Store) -> None:
    interview = f.interview()
    await store.apply([interview])
    targets = [S.READY, S.IN_PROGRESS, S.COMPLETED, S.CANCELLED] * 12
    random.Random(7).shuffle(targets)
    changes = [f.status(interview.interview_id, t) for t in targets]
    results = await asyncio.gather(*(store.apply([c]) for c in changes))
    applied = [
        c.status for c, [r] in zip(changes, results, strict=True) if r.outcome is Outcome.APPLIED
    ]
    # Each applied change was legal from the state the previous one left: replaying them in any
    # order consistent with the transition rule must be possible, and each target at most once.
    assert len(applied) == len(set(applied))
    assert not {S.COMPLETED, S.CANCELLED} <= set(applied)
    stored = await store.get_interview(interview.interview_id)
    assert stored is not None
    chain = [S.READY, S.IN_PROGRESS, S.COMPLETED]
    forward = [s for s in chain if s in applied]
    assert forward == chain[: len(forward)], "forward steps must form a prefix of the lifecycle"
    expected = S.CANCELLED if S.CANCELLED in applied else (forward[-1] if forward else S.PREPARING)
    assert stored.status is expected
    assert (stored.started_at is not None) == (S.IN_PROGRESS in applied)
    assert (stored.completed_at is not None) == (S.COMPLETED in applied)
    assert all(r.reason == "invalid_transition" for [r] in results if r.outcome is Outcome.REJECTED)


async def test_concurrent_chat_writers_lose_nothing(store: Store) -> None:
    session = f.session()
    await store.apply([session])
    batches = [
        [f.message(session.chat_session_id, f"{w}-{n}") for n in range(5)] for w in range(20)
    ]
    await asyncio.gather(*(store.apply(b) for b in batches))
    messages = await store.list_chat_messages(session.chat_session_id)
    assert [m.sequence for m in messages] == list(range(1, 101))
    assert Counter(m.content for m in messages) == Counter(e.content for b in batches for e in b)
    # Each batch is atomic: its messages got consecutive sequence numbers.
    by_content = {m.content: m.sequence for m in messages}
    for batch in batches:
        numbers = [by_content[e.content] for e in batch]
        assert numbers == list(range(numbers[0], numbers[0] + 5))


async def test_concurrent_registrations_and_redeliveries(store: Store) -> None:
    emails = [f"user{n}@example.com" for n in range(10)]
    batches = [[f.candidate(e.upper() if w % 2 else e) for e in emails] for w in range(8)]
    redelivered = batches[0]
    results = await asyncio.gather(
        *(store.apply(b) for b in batches), *(store.apply(redelivered) for _ in range(4))
    )
    flat = [r for batch in results for r in batch]
    assert Counter(r.outcome for r in flat)[Outcome.APPLIED] == len(emails)
    page = await store.list_candidates(ListQuery(limit=100))
    assert sorted(c.email.lower() for c in page.items) == emails
    # The same batch delivered five times at once: each event is processed exactly once.
    deliveries = [results[0], *results[8:]]
    for n in range(len(emails)):
        assert Counter(d[n].outcome for d in deliveries)[Outcome.DUPLICATE] == 4
