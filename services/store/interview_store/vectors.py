"""Semantic search over the question bank: question embeddings and ranking by similarity.

The store owns the question bank, so it owns the question embeddings: a derived index of its own
rows, like a GIN index on skills. A question is embedded as soon as its `question.created` event
has been applied, in a background task (`EmbedLater`): inference costs tens of milliseconds of
CPU, and ingest (so the offset commit and every other event behind it) must not wait on it. A
search embeds, before ranking, any matching question whose vector is missing (still pending) or
stale (its text no longer matches the text the vector was made from, `text_sha`, which covers a
future `question.updated`), so results never depend on the background task's progress. The
search text of `GET /questions?similar_to=` is embedded here too: the gateway forwards a string
and no service calls another to get a vector.

Both backends rank the same way: cosine of float32 unit vectors, ties by id, rounded to 6
decimals, so memory and PostgreSQL return the same items with the same `similarity`.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from interview_shared.embeddings import Embedder, Vectors, default_embedder
from interview_shared.logging import get_logger
from interview_shared.read_models import InvalidQueryError, ListQuery, Page, Question

__all__ = [
    "EmbedLater",
    "MemoryQuestionVectors",
    "QuestionEmbedder",
    "QuestionVector",
    "rank_page",
    "text_sha",
]

_DECIMALS = 6
log = get_logger(__name__)


def text_sha(text: str) -> str:
    """What a vector was made from: the sha256 of the question text."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class QuestionVector:
    """One question's embedding and the text it was computed from."""

    question_id: uuid.UUID
    text_sha: str
    model: str
    vector: Vectors


class QuestionEmbedder:
    """Embeds question texts and search texts with one model (loaded once per process)."""

    def __init__(self, embedder: Embedder | None = None) -> None:
        self._embedder = embedder or default_embedder()

    @property
    def model_id(self) -> str:
        """The model that made the vectors."""
        return self._embedder.model_id

    def of_texts(self, texts: dict[uuid.UUID, str]) -> dict[uuid.UUID, QuestionVector]:
        """A vector per question id."""
        ids = list(texts)
        rows = self._embedder.embed([texts[i] for i in ids])
        model = self._embedder.model_id
        return {i: QuestionVector(i, text_sha(texts[i]), model, rows[n]) for n, i in enumerate(ids)}

    async def of_questions(self, questions: Sequence[Question]) -> list[QuestionVector]:
        """Vectors for these questions, computed in a worker thread."""
        texts = {q.id: q.text for q in questions}
        return list((await asyncio.to_thread(self.of_texts, texts)).values())

    def query(self, text: str) -> Vectors:
        """The vector of a search text."""
        vector: Vectors = self._embedder.embed([text])[0]
        return vector


def _check_paging(query: ListQuery) -> None:
    if query.cursor is not None:
        raise InvalidQueryError("similar_to pages by offset; a cursor is not accepted with it")


def rank_page(
    candidates: Sequence[tuple[Question, Vectors]], target: Vectors, query: ListQuery
) -> Page[Question]:
    """The page of candidates most similar to `target`, each with its `similarity`."""
    _check_paging(query)
    if not candidates:
        return Page[Question](items=())
    matrix = np.stack([vector for _, vector in candidates])
    scores = [round(float(s), _DECIMALS) for s in matrix @ target]
    order = sorted(range(len(candidates)), key=lambda n: (-scores[n], candidates[n][0].id))
    window = order[query.offset : query.offset + query.limit]
    items = tuple(candidates[n][0].model_copy(update={"similarity": scores[n]}) for n in window)
    return Page[Question](items=items)


class EmbedLater:
    """Background embedding of new questions: kept tasks, failures logged, cancelled on close.

    A failure loses nothing: the next search embeds whatever is still missing.
    """

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, work: Callable[[], Awaitable[None]]) -> None:
        """Run `work` in the background."""
        task = asyncio.get_running_loop().create_task(self._guarded(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _guarded(work: Callable[[], Awaitable[None]]) -> None:
        try:
            await work()
        except Exception:
            log.exception("question_embedding_deferred")  # the next search retries

    async def drain(self) -> None:
        """Wait for the pending tasks (tests, shutdown of a clean store)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def close(self) -> None:
        """Cancel what is still pending."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


class MemoryQuestionVectors:
    """The memory backend's vector index: one unit vector per question id."""

    def __init__(self, embedder: QuestionEmbedder | None = None) -> None:
        self._embedder = embedder or QuestionEmbedder()
        self._vectors: dict[uuid.UUID, QuestionVector] = {}
        self.background = EmbedLater()

    @property
    def embedder(self) -> QuestionEmbedder:
        """The embedder used for questions and search texts."""
        return self._embedder

    def put(self, vectors: Iterable[QuestionVector]) -> None:
        """Keep these vectors (replacing older ones of the same questions)."""
        self._vectors.update((v.question_id, v) for v in vectors)

    def created(self, questions: Sequence[Question]) -> None:
        """Embed newly created questions in the background."""
        if questions:
            chosen = list(questions)

            async def work() -> None:
                self.put(await self._embedder.of_questions(chosen))

            self.background.spawn(work)

    def _vector(self, question: Question) -> Vectors:
        stored = self._vectors.get(question.id)
        if stored is None or stored.text_sha != text_sha(question.text):
            stored = self._embedder.of_texts({question.id: question.text})[question.id]
            self._vectors[question.id] = stored
        return stored.vector

    def search(self, text: str, query: ListQuery, questions: Iterable[Question]) -> Page[Question]:
        """Rank the (already filtered) questions by similarity to `text`."""
        _check_paging(query)
        target = self._embedder.query(text)
        return rank_page([(q, self._vector(q)) for q in questions], target, query)
