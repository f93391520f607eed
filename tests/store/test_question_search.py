"""Semantic question search, the same on memory and PostgreSQL (`store` runs both)."""

from __future__ import annotations

import asyncpg
import pytest
from interview_shared.domain import Difficulty
from interview_shared.read_models import InvalidQueryError, ListQuery, QuestionFilter
from interview_store.memory import MemoryStore
from interview_store.port import Store
from interview_store.postgres import PostgresStore

from . import factories as f

BANK = {
    "deadlock": "What is a deadlock and how can it be prevented?",
    "gil": "Why does CPython have a global interpreter lock?",
    "sql_index": "How does a B-tree index speed up a database query?",
    "tcp": "What happens during the TCP three-way handshake?",
    "gc": "How does a tracing garbage collector decide what memory to free?",
}
# Shares no content word with its target ("deadlock", "prevented"): only meaning links them.
PARAPHRASE = "Two threads are stuck forever, each waiting for the other to release a mutex."


async def _bank(store: Store, **overrides: Difficulty) -> dict[str, object]:
    created = {
        name: f.question(text=text, difficulty=overrides.get(name, Difficulty.MEDIUM))
        for name, text in BANK.items()
    }
    await store.apply(list(created.values()))
    return {name: event.question_id for name, event in created.items()}


def _search(text: str, **filters: object) -> QuestionFilter:
    return QuestionFilter.model_validate({"similar_to": text} | filters)


async def test_a_paraphrase_with_no_shared_words_finds_its_question_first(store: Store) -> None:
    ids = await _bank(store)

    page = await store.list_questions(ListQuery(limit=3), _search(PARAPHRASE))

    assert next(q.id for q in page.items) == ids["deadlock"]
    similarities = [q.similarity for q in page.items]
    assert all(s is not None for s in similarities)
    assert similarities == sorted(similarities, reverse=True)  # type: ignore[type-var]
    assert len(page.items) == 3
    assert page.next_cursor is None


async def test_similarity_combines_with_filters_and_pages_by_offset(store: Store) -> None:
    ids = await _bank(store, deadlock=Difficulty.HARD, gc=Difficulty.HARD)

    hard = await store.list_questions(
        ListQuery(limit=10), _search(PARAPHRASE, difficulty=Difficulty.HARD)
    )
    second = await store.list_questions(ListQuery(limit=1, offset=1), _search(PARAPHRASE))

    assert [q.id for q in hard.items] == [ids["deadlock"], ids["gc"]]
    everything = await store.list_questions(ListQuery(limit=10), _search(PARAPHRASE))
    assert [q.id for q in second.items] == [everything.items[1].id]


async def test_plain_listings_carry_no_similarity(store: Store) -> None:
    await _bank(store)
    page = await store.list_questions(ListQuery(), QuestionFilter())
    assert {q.similarity for q in page.items} == {None}


async def test_a_cursor_is_refused_with_similar_to(store: Store) -> None:
    await _bank(store)
    first = await store.list_questions(ListQuery(limit=1), QuestionFilter())
    assert first.next_cursor is not None
    with pytest.raises(InvalidQueryError):
        await store.list_questions(
            ListQuery(limit=1, cursor=first.next_cursor), _search(PARAPHRASE)
        )


@pytest.mark.postgres
async def test_both_backends_return_the_same_items_and_similarities(
    memory_store: MemoryStore, postgres_store: PostgresStore
) -> None:
    events = [f.question(text=text) for text in BANK.values()]
    pages = []
    for backend in (memory_store, postgres_store):
        await backend.apply(events)
        page = await backend.list_questions(ListQuery(limit=5), _search("memory management"))
        pages.append([(q.id, q.similarity) for q in page.items])
    assert pages[0] == pages[1]


@pytest.mark.postgres
async def test_created_questions_are_embedded_in_the_background(
    postgres_store: PostgresStore, migrated_database: str
) -> None:
    # Off the ingest path, but without waiting for a search: the rows appear on their own.
    await _bank(postgres_store)
    await postgres_store._vectors.background.drain()
    conn = await asyncpg.connect(migrated_database)
    try:
        count = await conn.fetchval("SELECT count(*) FROM question_embeddings")
    finally:
        await conn.close()
    assert count == len(BANK)
