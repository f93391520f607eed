"""PostgreSQL side of semantic question search (see `vectors` for the design).

Vectors live in `question_embeddings` (migration r0004) as float4[]; with pgvector, also as
`vector(384)` under an HNSW index. A search first embeds any matching question whose vector is
missing or stale (text changed), then ranks:
- without pgvector: every matching question's array is read and ranked by `vectors.rank_page`;
- with pgvector: the HNSW index preselects `offset + limit` (times a margin) nearest rows, which
  are then ranked by the same `rank_page`, so `similarity` is computed exactly as in memory.
  HNSW is approximate: on very large banks a filtered search may miss a row an exact scan finds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from interview_shared.read_models import ListQuery, Page, Question

from interview_store import sql
from interview_store.vectors import EmbedLater, QuestionEmbedder, QuestionVector, rank_page

__all__ = ["PostgresQuestionVectors"]

_COLUMNS = ", ".join(f"q.{c.strip()}" for c in sql.QUESTION_COLUMNS.split(","))
_STALE = (
    "SELECT q.id, q.text FROM questions q LEFT JOIN question_embeddings e ON e.question_id = q.id"
    " WHERE (e.question_id IS NULL OR e.text_sha <> encode(sha256(convert_to(q.text, 'UTF8')),"
    " 'hex')) AND {where}"
)
_UPSERT = (
    "INSERT INTO question_embeddings (question_id, model, text_sha, embedding)"
    " VALUES ($1::uuid, $2::text, $3::text, $4::float4[])"
    " ON CONFLICT (question_id) DO UPDATE SET model = excluded.model,"
    " text_sha = excluded.text_sha, embedding = excluded.embedding"
)
_SYNC_VECTOR = (
    "UPDATE question_embeddings SET embedding_v = embedding::vector"
    " WHERE question_id = ANY($1::uuid[])"
)
_CANDIDATES = (
    f"SELECT {_COLUMNS}, e.embedding FROM questions q"
    " JOIN question_embeddings e ON e.question_id = q.id WHERE {where}"
)
_HNSW_MARGIN = 4  # preselect this many times the rows a page needs: filters drop some


class PostgresQuestionVectors:
    """Writes question vectors inside the store's transactions and answers similarity searches."""

    def __init__(self, embedder: QuestionEmbedder | None = None) -> None:
        self.embedder = embedder or QuestionEmbedder()
        self._pgvector: bool | None = None
        self.background = EmbedLater()

    def created(self, pool: Any, questions: Sequence[Question]) -> None:
        """Embed newly created questions in the background, in their own transaction."""
        if not questions:
            return
        chosen = list(questions)

        async def work() -> None:
            vectors = await self.embedder.of_questions(chosen)
            async with pool.acquire() as conn:
                await self.write(conn, vectors)

        self.background.spawn(work)

    async def _has_pgvector(self, conn: Any) -> bool:
        if self._pgvector is None:
            found = await conn.fetchval(
                "SELECT 1 FROM information_schema.columns"
                " WHERE table_name = 'question_embeddings' AND column_name = 'embedding_v'"
            )
            self._pgvector = found is not None
        return self._pgvector

    async def write(self, conn: Any, vectors: Iterable[QuestionVector]) -> None:
        """Upsert these vectors (call inside the transaction that writes the questions)."""
        # In id order: the background embedder and a search's read-through can upsert the same
        # questions at once, and two writers that lock rows in different orders deadlock.
        rows = sorted(vectors, key=lambda v: v.question_id)
        if not rows:
            return
        await conn.executemany(
            _UPSERT,
            [(v.question_id, v.model, v.text_sha, [float(x) for x in v.vector]) for v in rows],
        )
        if await self._has_pgvector(conn):
            await conn.execute(_SYNC_VECTOR, [v.question_id for v in rows])

    async def search(
        self,
        conn: Any,
        text: str,
        query: ListQuery,
        where: sql.Where,
        convert: Callable[[Any], Question],
    ) -> Page[Question]:
        """The page of matching questions most similar to `text`."""
        condition = " AND ".join(where.conditions) or "TRUE"
        stale = await conn.fetch(_STALE.format(where=condition), *where.params)
        if stale:
            fresh = self.embedder.of_texts({row["id"]: row["text"] for row in stale})
            await self.write(conn, fresh.values())
        target = self.embedder.query(text)
        statement, params = _CANDIDATES.format(where=condition), list(where.params)
        if await self._has_pgvector(conn):
            params.append("[" + ",".join(repr(float(x)) for x in target) + "]")
            statement += (
                f" ORDER BY e.embedding_v <=> ${len(params)}::vector"
                f" LIMIT {(query.offset + query.limit) * _HNSW_MARGIN}"
            )
        rows = await conn.fetch(statement, *params)
        candidates = [(convert(row), np.asarray(row["embedding"], np.float32)) for row in rows]
        return rank_page(candidates, target, query)
