"""The in-memory Store: dictionaries plus sorted indexes, for development and tests.

Listings never scan the whole table: every table keeps, per partition (all rows, rows of one
status, of one candidate, ...) and per sort field, a sorted list of `(sort value, id)` keys, so a
page is a bisection plus `limit` steps, like a btree range scan in PostgreSQL.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any, Generic, TypeVar

from interview_shared.domain import ChatRole, email_key
from interview_shared.events import Event
from interview_shared.projections import utc
from interview_shared.reviews import HUMAN_SCORER
from sortedcontainers import SortedList

from interview_store.port import (
    Answer,
    AnswerFilter,
    ApplyResult,
    Candidate,
    ChatMessage,
    ChatSession,
    CvAnalysis,
    Evaluation,
    EvaluationFilter,
    Interview,
    InterviewFilter,
    InterviewLogEntry,
    InterviewReport,
    KeptOffset,
    ListQuery,
    Offsets,
    Outcome,
    Page,
    Question,
    QuestionFilter,
    Replay,
    ReviewFilter,
)
from interview_store.query import ListRequest, Position, SortValue, page, prepare, score_key
from interview_store.rules import (
    AnswerRow,
    Changes,
    Kind,
    build_log,
    latest_answer,
    plan_batch,
    trusted,
    with_evaluation,
)
from interview_store.vectors import MemoryQuestionVectors

R = TypeVar("R")
Key = tuple[Any, ...]
"""An index key: `(sort value, id as an int)`, or a one-element prefix used as a range bound.

The id is kept as `UUID.int` (which orders like the UUID): a tuple of a timestamp, text or float
and an int holds no object the garbage collector tracks, so the collector stops visiting the
millions of keys a large store holds.
"""
Partition = tuple[str, Hashable]

ALL: Partition = ("all", True)


class _SortedKeys:
    """A typed face over SortedList (which ships without type hints)."""

    def __init__(self) -> None:
        self._keys: Any = SortedList()

    def add(self, key: Key) -> None:
        self._keys.add(key)

    def discard(self, key: Key) -> None:
        self._keys.discard(key)

    def scan(
        self, *, descending: bool, after: Key | None, lower: Key | None, upper: Key | None
    ) -> Iterator[Key]:
        """Keys strictly after `after` in sort order, within `[lower, upper)`."""
        if descending:
            top = min((k for k in (after, upper) if k is not None), default=None)
            keys: Iterable[Key] = self._keys.irange(lower, top, (True, False), reverse=True)
        elif after is not None and (lower is None or after >= lower):
            keys = self._keys.irange(after, upper, (False, False))
        else:
            keys = self._keys.irange(lower, upper, (True, False))
        return iter(keys)


class _Table(Generic[R]):
    """Rows by id, indexed per partition and sort field."""

    def __init__(
        self,
        ident: Callable[[R], uuid.UUID],
        sorts: Mapping[str, Callable[[R], SortValue]],
        partitions: Mapping[str, Callable[[R], Iterable[Hashable]]],
    ) -> None:
        self.rows: dict[uuid.UUID, R] = {}
        self._by_key: dict[int, R] = {}
        """The same rows by `id.int`, the id form index keys hold."""
        self._ident = ident
        self._sorts = sorts
        self._partitions = {"all": lambda _: (True,), **partitions}
        self._index: defaultdict[tuple[str, Hashable, str], _SortedKeys] = defaultdict(_SortedKeys)

    def put(self, row: R) -> None:
        """Insert or replace a row, moving only the index entries whose key changed."""
        ident = self._ident(row)
        row_id = ident.int
        old = self.rows.get(ident)
        self.rows[ident] = row
        self._by_key[row_id] = row
        if old is None:
            for index, key in self._entries(row):
                self._index[index].add(key)
            return
        old_values = {field: value_of(old) for field, value_of in self._sorts.items()}
        new_values = {field: value_of(row) for field, value_of in self._sorts.items()}
        moved = [field for field in self._sorts if old_values[field] != new_values[field]]
        for name, keys_of in self._partitions.items():
            old_parts, new_parts = set(keys_of(old)), set(keys_of(row))
            for part in old_parts | new_parts:
                # A partition the row stays in keeps the entries of unchanged sort values.
                fields = moved if part in old_parts and part in new_parts else self._sorts
                for field in fields:
                    if part in old_parts:
                        self._index[(name, part, field)].discard((old_values[field], row_id))
                    if part in new_parts:
                        self._index[(name, part, field)].add((new_values[field], row_id))

    def remove(self, ident: uuid.UUID) -> None:
        """Drop a row and its index entries (a no-op for an unknown id)."""
        row = self.rows.pop(ident, None)
        if row is None:
            return
        del self._by_key[ident.int]
        for index, key in self._entries(row):
            self._index[index].discard(key)

    def _entries(self, row: R) -> Iterator[tuple[tuple[str, Hashable, str], Key]]:
        row_id = self._ident(row).int
        for name, keys_of in self._partitions.items():
            for part in keys_of(row):
                for field, value_of in self._sorts.items():
                    yield (name, part, field), (value_of(row), row_id)

    def position(self, row: R, field: str) -> Position:
        """The cursor position of a row under a sort field."""
        return Position(self._sorts[field](row), self._ident(row))

    def scan(
        self,
        request: ListRequest,
        partition: Partition,
        lower: Key | None = None,
        upper: Key | None = None,
    ) -> Iterator[R]:
        """Rows of a partition in the request's order, starting after its cursor."""
        keys = self._index.get((partition[0], partition[1], request.sort.field))
        if keys is None:
            return iter(())
        after = (request.after.value, request.after.id.int) if request.after else None
        scan = keys.scan(descending=request.sort.descending, after=after, lower=lower, upper=upper)
        return (self._by_key[key[-1]] for key in scan)

    def list(
        self,
        request: ListRequest,
        rows: Iterator[R],
        keep: Callable[[R], bool] = lambda _: True,
    ) -> Page[R]:
        """Skip `offset` matching rows, take `limit + 1`, and cut the page."""
        matched = (row for row in rows if keep(row))
        fetched = list(islice(matched, request.offset, request.offset + request.fetch))
        return page(fetched, request, lambda row: self.position(row, request.sort.field))


def _created_bounds(filters: InterviewFilter) -> tuple[Key | None, Key | None]:
    lower = (utc(filters.created_from),) if filters.created_from else None
    upper = (utc(filters.created_to),) if filters.created_to else None
    return lower, upper


class MemoryStore:
    """The Store port held in process memory; data is lost on restart."""

    backend = "memory"

    def __init__(self, *, vectors: MemoryQuestionVectors | None = None) -> None:
        self._lock = asyncio.Lock()
        self._offsets: dict[tuple[str, int], KeptOffset] = {}
        self._vectors = vectors or MemoryQuestionVectors()
        # (outcome, reason) rather than ApplyResult: plain strings, which the collector ignores.
        self._outcomes: dict[uuid.UUID, tuple[str, str | None]] = {}
        self._emails: dict[str, uuid.UUID] = {}
        self._candidates = _Table[Candidate](
            lambda r: r.id,
            {"created_at": lambda r: r.created_at, "updated_at": lambda r: r.updated_at,
             "name": lambda r: r.name},
            {},
        )  # fmt: skip
        self._cv: dict[uuid.UUID, CvAnalysis] = {}
        self._questions = _Table[Question](
            lambda r: r.id,
            {"created_at": lambda r: r.created_at, "updated_at": lambda r: r.updated_at},
            {"skill": lambda r: set(r.skills), "tag": lambda r: set(r.tags)},
        )
        self._interviews = _Table[Interview](
            lambda r: r.id,
            {"created_at": lambda r: r.created_at, "updated_at": lambda r: r.updated_at,
             "title": lambda r: r.title},
            {"status": lambda r: (r.status,), "candidate": lambda r: (r.candidate_id,)},
        )  # fmt: skip
        self._answers = _Table[AnswerRow](
            lambda r: r.answer.id,
            {"created_at": lambda r: r.answer.created_at},
            {"interview": lambda r: (r.answer.interview_id,),
             "question": lambda r: (r.answer.question_id,)},
        )  # fmt: skip
        self._evaluations = _Table[Evaluation](
            lambda r: r.id,
            {"created_at": lambda r: r.created_at, "score": lambda r: score_key(r.score)},
            {"answer": lambda r: (r.answer_id,), "interview": lambda r: (r.interview_id,)},
        )
        self._evaluations_of: defaultdict[uuid.UUID, list[Evaluation]] = defaultdict(list)
        # The review queue: flagged evaluations of answers no person has graded yet.
        self._queue = _Table[Evaluation](
            lambda r: r.id,
            {"created_at": lambda r: r.created_at},
            {"reason": lambda r: set(r.review_reasons)},
        )
        self._graded: set[uuid.UUID] = set()
        """Answers with a human grade: none of their evaluations is queued any more."""
        self._answers_of: defaultdict[tuple[uuid.UUID, uuid.UUID], list[AnswerRow]] = defaultdict(
            list
        )
        self._reports: dict[uuid.UUID, InterviewReport] = {}
        self._sessions: dict[uuid.UUID, ChatSession] = {}
        self._messages: defaultdict[uuid.UUID, list[ChatMessage]] = defaultdict(list)
        self._message_ids: set[uuid.UUID] = set()
        self._replays: dict[uuid.UUID, Replay] = {}
        self._by_kind = self._kinds()

    # --- StateView, read by the shared rules -------------------------------------------------

    def outcome(self, event_id: uuid.UUID) -> ApplyResult | None:
        """The recorded outcome of an event."""
        recorded = self._outcomes.get(event_id)
        if recorded is None:
            return None
        outcome, reason = recorded
        return trusted(
            ApplyResult, {"event_id": event_id, "outcome": Outcome(outcome), "reason": reason}
        )

    def exists(self, kind: Kind, row_id: uuid.UUID) -> bool:
        """Whether a row of this kind has this id."""
        return row_id in self._by_kind[kind]

    def _kinds(self) -> dict[Kind, Mapping[uuid.UUID, object] | set[uuid.UUID]]:
        return {
            Kind.CANDIDATE: self._candidates.rows,
            Kind.CV_ANALYSIS: self._cv,
            Kind.QUESTION: self._questions.rows,
            Kind.INTERVIEW: self._interviews.rows,
            Kind.ANSWER: self._answers.rows,
            Kind.EVALUATION: self._evaluations.rows,
            Kind.CHAT_SESSION: self._sessions,
            Kind.CHAT_MESSAGE: self._message_ids,
        }

    def email_owner(self, email_key: str) -> uuid.UUID | None:
        """The candidate holding a normalised e-mail."""
        return self._emails.get(email_key)

    def interview(self, interview_id: uuid.UUID) -> Interview | None:
        """An interview's current state."""
        return self._interviews.rows.get(interview_id)

    def last_sequence(self, session_id: uuid.UUID) -> int:
        """The highest sequence in a chat session."""
        return len(self._messages.get(session_id, ()))

    # --- write side --------------------------------------------------------------------------

    async def apply(
        self, events: Sequence[Event], *, offsets: Offsets | None = None
    ) -> list[ApplyResult]:
        """Apply a batch atomically: plan it against current state, then commit in one step."""
        # The lock makes plan + commit one critical section, so concurrent batches serialise.
        async with self._lock:
            changes = plan_batch(self, events)
            self._commit(changes)
            for partition, kept in (offsets or {}).items():
                old = self._offsets.get(partition, KeptOffset(0, 0))
                self._offsets[partition] = KeptOffset(
                    max(old.next_offset, kept.next_offset), max(old.announced, kept.announced)
                )
        self._vectors.created(changes.questions)  # embedded off the ingest path
        return changes.results

    async def consumed_offsets(self) -> dict[tuple[str, int], KeptOffset]:
        """Offsets applied by this process: none at start, so every start replays the log."""
        return dict(self._offsets)

    def _commit(self, changes: Changes) -> None:
        for recorded in changes.recorded:
            result = recorded.result
            self._outcomes[result.event_id] = (result.outcome.value, result.reason)
        for candidate in changes.candidates:
            self._candidates.put(candidate)
            self._emails[email_key(candidate.email)] = candidate.id
        self._cv.update((cv.id, cv) for cv in changes.cv_analyses)
        for question in changes.questions:
            self._questions.put(question)
        for question_id, change in changes.rubrics.items():
            old = self._questions.rows[question_id]
            self._questions.put(
                old.model_copy(update={"rubric": change.rubric, "updated_at": change.at})
            )
        for interview in changes.interviews.values():
            self._interviews.put(interview)
        for row in changes.answers:
            self._answers.put(row)
            self._answers_of[(row.answer.interview_id, row.answer.question_id)].append(row)
        for evaluation in changes.evaluations:
            self._evaluations.put(evaluation)
            self._evaluations_of[evaluation.answer_id].append(evaluation)
            self._enqueue(evaluation)
        self._reports.update(changes.reports)
        self._sessions.update((s.id, s) for s in changes.chat_sessions)
        for message in changes.chat_messages:
            self._messages[message.session_id].append(message)
            self._message_ids.add(message.id)
        self._replays.update((i, row.replay) for i, row in changes.replays.items())
        for candidate_id in changes.erased:
            self._erase(candidate_id)

    def _erase(self, candidate_id: uuid.UUID) -> None:
        """What a store rebuilt from the log would hold once the key is gone (sql.ERASE_*)."""
        if (candidate := self._candidates.rows.get(candidate_id)) is not None:
            self._candidates.remove(candidate_id)
            self._emails.pop(email_key(candidate.email), None)
        for cv_id in [i for i, cv in self._cv.items() if cv.candidate_id == candidate_id]:
            del self._cv[cv_id]
        theirs = {i.id for i in self._interviews.rows.values() if i.candidate_id == candidate_id}
        for key, rows in self._answers_of.items():
            if key[0] in theirs:
                rows[:] = [_blank_answer(row) for row in rows]
                for row in rows:
                    self._answers.put(row)
        for session in self._sessions.values():
            if session.interview_id in theirs:
                self._messages[session.id] = [
                    m.model_copy(update={"content": ""}) if m.role is ChatRole.USER else m
                    for m in self._messages[session.id]
                ]

    def _enqueue(self, evaluation: Evaluation) -> None:
        """Keep the review queue: a human grade takes every verdict of its answer out, and a
        verdict arriving later (a replay's) for a graded answer never goes in."""
        answer_id = evaluation.answer_id
        if evaluation.lineage.scorer == HUMAN_SCORER:
            self._graded.add(answer_id)
            for queued in self._evaluations_of[answer_id]:
                self._queue.remove(queued.id)
        elif evaluation.review_reasons and answer_id not in self._graded:
            self._queue.put(evaluation)

    async def event_outcome(self, event_id: uuid.UUID) -> ApplyResult | None:
        """The recorded outcome of an event, or None."""
        return self.outcome(event_id)

    async def healthy(self) -> bool:
        """Memory is always reachable."""
        return True

    async def close(self) -> None:
        """Stop embedding in the background."""
        await self._vectors.background.close()

    # --- read side ---------------------------------------------------------------------------

    async def get_candidate(self, candidate_id: uuid.UUID) -> Candidate | None:
        """A candidate by id."""
        return self._candidates.rows.get(candidate_id)

    async def get_candidate_by_email(self, email: str) -> Candidate | None:
        """A candidate by e-mail, case-insensitively."""
        owner = self._emails.get(email_key(email))
        return self._candidates.rows.get(owner) if owner else None

    async def list_candidates(self, query: ListQuery) -> Page[Candidate]:
        """A page of candidates."""
        request = prepare("candidates", query)
        rows = self._candidates.scan(request, ALL)
        return self._candidates.list(request, rows, lambda c: _in_org(c.org_id, query))

    async def list_cv_analyses(self, candidate_id: uuid.UUID) -> list[CvAnalysis]:
        """A candidate's CV analyses, oldest first."""
        rows = (cv for cv in self._cv.values() if cv.candidate_id == candidate_id)
        return sorted(rows, key=lambda cv: (cv.created_at, cv.id))

    async def get_question(self, question_id: uuid.UUID) -> Question | None:
        """A question by id."""
        return self._questions.rows.get(question_id)

    async def list_questions(self, query: ListQuery, filters: QuestionFilter) -> Page[Question]:
        """A page of questions matching any of the skills, any of the tags, and the rest."""
        request = prepare("questions", query)
        partition = ALL
        if len(filters.skills) == 1:
            partition = ("skill", filters.skills[0])
        elif len(filters.tags) == 1 and not filters.skills:
            partition = ("tag", filters.tags[0])

        def keep(q: Question) -> bool:
            return (
                (not filters.skills or not set(filters.skills).isdisjoint(q.skills))
                and (not filters.tags or not set(filters.tags).isdisjoint(q.tags))
                and (filters.difficulty is None or q.difficulty == filters.difficulty)
                and (filters.type is None or q.type == filters.type)
                and _in_org(q.org_id, query)
            )

        if filters.similar_to is not None:
            matching = (q for q in self._questions.rows.values() if keep(q))
            return self._vectors.search(filters.similar_to, query, matching)
        return self._questions.list(request, self._questions.scan(request, partition), keep)

    async def get_interview(self, interview_id: uuid.UUID) -> Interview | None:
        """An interview by id."""
        return self._interviews.rows.get(interview_id)

    async def get_interviews(self, interview_ids: Sequence[uuid.UUID]) -> list[Interview]:
        """The interviews among `interview_ids` that exist, in no particular order."""
        rows = self._interviews.rows
        return [row for i in interview_ids if (row := rows.get(i)) is not None]

    async def list_interviews(self, query: ListQuery, filters: InterviewFilter) -> Page[Interview]:
        """A page of interviews, scanning the most selective index."""
        request = prepare("interviews", query)
        partition = ALL
        if filters.candidate_id is not None:
            partition = ("candidate", filters.candidate_id)
        elif filters.status is not None:
            partition = ("status", filters.status)
        lower, upper = _created_bounds(filters)
        if request.sort.field != "created_at":
            lower = upper = None  # the range is then checked row by row in `keep`
        rows = self._interviews.scan(request, partition, lower, upper)
        return self._interviews.list(
            request, rows, lambda i: _in_org(i.org_id, query) and _interview_matches(i, filters)
        )

    async def interview_log(self, interview_id: uuid.UUID) -> list[InterviewLogEntry]:
        """The interview's questions with their latest answers and current scores."""
        interview = self._interviews.rows.get(interview_id)
        if interview is None:
            return []
        questions = {q: self._questions.rows[q] for q in interview.question_ids
                     if q in self._questions.rows}  # fmt: skip
        latest: dict[uuid.UUID, Answer] = {}
        texts: dict[uuid.UUID, str] = {}
        for question_id in interview.question_ids:
            row = latest_answer(self._answers_of.get((interview_id, question_id), ()))
            if row is not None:
                latest[question_id] = self._with_evaluation(row)
                texts[question_id] = row.question_text
        return build_log(interview, questions, latest, texts)

    async def get_interview_report(self, interview_id: uuid.UUID) -> InterviewReport | None:
        """The interview's latest report."""
        return self._reports.get(interview_id)

    def _with_evaluation(self, row: AnswerRow) -> Answer:
        question = self._questions.rows.get(row.answer.question_id)
        active = question.rubric.version if question else None
        return with_evaluation(row, self._evaluations_of.get(row.answer.id, ()), active)

    async def get_answer(self, answer_id: uuid.UUID) -> Answer | None:
        """An answer with its current evaluation."""
        row = self._answers.rows.get(answer_id)
        return self._with_evaluation(row) if row else None

    async def list_answers(self, query: ListQuery, filters: AnswerFilter) -> Page[Answer]:
        """A page of answers, each with its current evaluation."""
        request = prepare("answers", query)
        partition = ALL
        if filters.interview_id is not None:
            partition = ("interview", filters.interview_id)
        elif filters.question_id is not None:
            partition = ("question", filters.question_id)

        def keep(row: AnswerRow) -> bool:
            a = row.answer
            return (filters.interview_id is None or a.interview_id == filters.interview_id) and (
                filters.question_id is None or a.question_id == filters.question_id
            )

        rows = self._answers.list(request, self._answers.scan(request, partition), keep)
        items = tuple(self._with_evaluation(row) for row in rows.items)
        return Page[Answer](items=items, next_cursor=rows.next_cursor)

    async def list_evaluations(
        self, query: ListQuery, filters: EvaluationFilter
    ) -> Page[Evaluation]:
        """A page of evaluations (the whole history, not only current ones)."""
        request = prepare("evaluations", query)
        partition = ALL
        if filters.answer_id is not None:
            partition = ("answer", filters.answer_id)
        elif filters.interview_id is not None:
            partition = ("interview", filters.interview_id)
        rows = self._evaluations.scan(request, partition)

        def keep(e: Evaluation) -> bool:
            # An evaluation belongs to its interview's organisation.
            interview = self._interviews.rows.get(e.interview_id)
            org = interview.org_id if interview else None
            return (query.org_id is None or org == query.org_id) and _evaluation_matches(e, filters)

        return self._evaluations.list(request, rows, keep)

    async def get_evaluation(self, evaluation_id: uuid.UUID) -> Evaluation | None:
        """An evaluation by id."""
        return self._evaluations.rows.get(evaluation_id)

    async def list_reviews(self, query: ListQuery, filters: ReviewFilter) -> Page[Evaluation]:
        """A page of the review queue, of one reason if asked."""
        request = prepare("reviews", query)
        partition = ALL if filters.reason is None else ("reason", filters.reason)

        def in_org(e: Evaluation) -> bool:  # an evaluation belongs to its interview's org
            interview = self._interviews.rows.get(e.interview_id)
            return query.org_id is None or (
                interview is not None and _in_org(interview.org_id, query)
            )

        return self._queue.list(request, self._queue.scan(request, partition), in_org)

    async def get_chat_session(self, session_id: uuid.UUID) -> ChatSession | None:
        """A chat session by id."""
        return self._sessions.get(session_id)

    async def get_replay(self, replay_id: uuid.UUID) -> Replay | None:
        """A replay's latest state."""
        return self._replays.get(replay_id)

    async def list_chat_messages(self, session_id: uuid.UUID) -> list[ChatMessage]:
        """A session's messages in sequence order."""
        return list(self._messages.get(session_id, ()))


def _blank_answer(row: AnswerRow) -> AnswerRow:
    return AnswerRow(row.answer.model_copy(update={"text": ""}), row.question_text)


def _in_org(org_id: str, query: ListQuery) -> bool:
    return query.org_id is None or org_id == query.org_id


def _interview_matches(interview: Interview, filters: InterviewFilter) -> bool:
    return (
        (filters.status is None or interview.status == filters.status)
        and (filters.candidate_id is None or interview.candidate_id == filters.candidate_id)
        and (filters.created_from is None or interview.created_at >= utc(filters.created_from))
        and (filters.created_to is None or interview.created_at < utc(filters.created_to))
    )


def _evaluation_matches(evaluation: Evaluation, filters: EvaluationFilter) -> bool:
    score = evaluation.score
    if (filters.min_score is not None or filters.max_score is not None) and score is None:
        return False
    return (
        (filters.answer_id is None or evaluation.answer_id == filters.answer_id)
        and (filters.interview_id is None or evaluation.interview_id == filters.interview_id)
        and (filters.min_score is None or (score is not None and score >= filters.min_score))
        and (filters.max_score is None or (score is not None and score <= filters.max_score))
    )
