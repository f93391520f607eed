"""Semantic search over the question bank: question embeddings and ranking by similarity.

The store owns the question bank, so it owns the question embeddings: a derived index of its own
rows, like a GIN index on skills. A question is embedded when its `question.created` event is
applied (before the database transaction opens, so no lock is held during inference), and again
whenever its text no longer matches the text the stored vector was made from (`text_sha`), which
covers a future `question.updated`. The search text of `GET /questions?similar_to=` is embedded
here too, so the gateway forwards a string and no service calls another to get a vector.

Both backends rank the same way: cosine of float32 unit vectors, ties by id, rounded to 6
decimals, so memory and PostgreSQL return the same items with the same `similarity`.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from interview_shared.embeddings import Embedder, Vectors, default_embedder
from interview_shared.events import Event, QuestionCreated
from interview_shared.read_models import InvalidQueryError, ListQuery, Page, Question

__all__ = [
    "MemoryQuestionVectors",
    "QuestionEmbedder",
    "QuestionVector",
    "rank_page",
    "text_sha",
]

_DECIMALS = 6


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

    def of_events(self, events: Iterable[Event]) -> dict[uuid.UUID, QuestionVector]:
        """Vectors for the questions these events create (computed before any lock is taken)."""
        return self.of_texts(
            {e.question_id: e.text for e in events if isinstance(e, QuestionCreated)}
        )

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


class MemoryQuestionVectors:
    """The memory backend's vector index: one unit vector per question id."""

    def __init__(self, embedder: QuestionEmbedder | None = None) -> None:
        self._embedder = embedder or QuestionEmbedder()
        self._vectors: dict[uuid.UUID, QuestionVector] = {}

    @property
    def embedder(self) -> QuestionEmbedder:
        """The embedder used for questions and search texts."""
        return self._embedder

    def put(self, vectors: Iterable[QuestionVector]) -> None:
        """Keep these vectors (replacing older ones of the same questions)."""
        self._vectors.update((v.question_id, v) for v in vectors)

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
