"""The SQL of the PostgreSQL backend: snapshot reads, batch writes and listing queries.

Listing queries are built from whitelisted column names only (the sort field was checked against
port.SORT_FIELDS); every value travels as a bind parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from interview_store.query import ListRequest

# --- apply: the snapshot a batch is planned against ---------------------------------------------

# Everything a batch's rules ask about, in one round trip: recorded outcomes (`event`), which new
# row ids are taken (one kind per table) and which e-mails are registered (`email`, whose `a` is
# the normalised e-mail). Interviews are asked about here only when the batch creates them; those
# it changes are read and locked by LOCK_INTERVIEWS.
SNAPSHOT = """
SELECT 'event' AS kind, event_id AS id, outcome AS a, reason AS b
FROM processed_events WHERE event_id = ANY($1::uuid[])
UNION ALL SELECT 'candidate', id, NULL, NULL FROM candidates WHERE id = ANY($2::uuid[])
UNION ALL SELECT 'cv_analysis', id, NULL, NULL FROM cv_analyses WHERE id = ANY($3::uuid[])
UNION ALL SELECT 'question', id, NULL, NULL FROM questions WHERE id = ANY($4::uuid[])
UNION ALL SELECT 'interview', id, NULL, NULL FROM interviews WHERE id = ANY($5::uuid[])
UNION ALL SELECT 'answer', id, NULL, NULL FROM answers WHERE id = ANY($6::uuid[])
UNION ALL SELECT 'evaluation', id, NULL, NULL FROM evaluations WHERE id = ANY($7::uuid[])
UNION ALL SELECT 'chat_session', id, NULL, NULL FROM chat_sessions WHERE id = ANY($8::uuid[])
UNION ALL SELECT 'chat_message', id, NULL, NULL FROM chat_messages WHERE id = ANY($9::uuid[])
UNION ALL SELECT 'email', id, email_lower, NULL FROM candidates WHERE email_lower = ANY($10::text[])
"""

# Row locks in id order: concurrent batches touching the same interviews queue instead of
# deadlocking, and a status change always sees the status it replaces.
LOCK_INTERVIEWS = """
SELECT id, candidate_id, title, question_ids, status, created_at, updated_at, started_at,
       completed_at, org_id
FROM interviews WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE
"""

# Locking the sessions serialises writers of one session; the unique (session_id, sequence)
# index still guards sessions whose start event has not arrived yet (the batch is then retried).
LOCK_CHAT_SESSIONS = """
SELECT id FROM chat_sessions WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE
"""

LAST_SEQUENCES = """
SELECT session_id, max(sequence) AS last FROM chat_messages
WHERE session_id = ANY($1::uuid[]) GROUP BY session_id
"""

# --- apply: writes ------------------------------------------------------------------------------

COLUMNS: dict[str, tuple[str, ...]] = {
    "processed_events": ("event_id", "event_type", "outcome", "reason", "processed_at"),
    "candidates": (
        "id", "name", "email", "email_lower", "cv_path", "created_at", "updated_at", "org_id",
    ),
    "cv_analyses": ("id", "candidate_id", "skills", "summary", "created_at"),
    "questions": (
        "id", "text", "type", "difficulty", "skills", "tags", "reference_answer", "key_points",
        "rubric", "rubric_version", "created_at", "updated_at", "org_id",
    ),
    "interviews": (
        "id", "candidate_id", "title", "question_ids", "status", "created_at", "updated_at",
        "started_at", "completed_at", "org_id",
    ),
    "answers": (
        "id", "interview_id", "question_id", "text", "question_text", "submitted_at", "created_at",
        "audio_uri",
    ),
    "evaluations": (
        "id", "answer_id", "interview_id", "question_id", "outcome", "score", "criteria",
        "feedback", "unscorable_reason", "explanation", "flags", "lineage", "rubric_version",
        "usage", "created_at", "confidence", "review", "review_reasons",
    ),
    "chat_sessions": ("id", "interview_id", "created_at", "org_id"),
    "chat_messages": ("id", "session_id", "role", "content", "sequence", "created_at"),
}  # fmt: skip

UPDATE_INTERVIEWS = """
UPDATE interviews AS i
SET status = u.status, updated_at = u.updated_at, started_at = u.started_at,
    completed_at = u.completed_at
FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::timestamptz[])
     AS u(id, status, updated_at, started_at, completed_at)
WHERE i.id = u.id
"""

UPDATE_RUBRIC = """
UPDATE questions SET rubric = $2::jsonb, rubric_version = $3, updated_at = $4 WHERE id = $1
"""

# created_at is the first report's time: an upsert keeps it and moves updated_at on.
UPSERT_REPLAY = """
INSERT INTO replays
    (id, status, scanned, evaluated, skipped, cost_usd, created_at, updated_at, org_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)
ON CONFLICT (id) DO UPDATE SET
    status = excluded.status, scanned = excluded.scanned, evaluated = excluded.evaluated,
    skipped = excluded.skipped, cost_usd = excluded.cost_usd, updated_at = excluded.updated_at
"""
REPLAY = (
    "SELECT id, status, scanned, evaluated, skipped, cost_usd, org_id FROM replays WHERE id = $1"
)

UPSERT_REPORT = """
INSERT INTO interview_reports
    (interview_id, overall_score, skills, strengths, weaknesses, rubric_versions, created_at)
VALUES ($1, $2, $3::jsonb, $4::text[], $5::text[], $6::text[], $7)
ON CONFLICT (interview_id) DO UPDATE SET
    overall_score = excluded.overall_score, skills = excluded.skills,
    strengths = excluded.strengths, weaknesses = excluded.weaknesses,
    rubric_versions = excluded.rubric_versions, created_at = excluded.created_at
"""

# Sorted input (the caller sorts) keeps the row-lock order the same in every transaction; GREATEST
# keeps an offset from moving back when a partition's former owner commits a late batch.
ADVANCE_OFFSETS = """
INSERT INTO consumed_offsets (topic, kafka_partition, next_offset, announced, updated_at)
SELECT topic, kafka_partition, next_offset, announced, now()
FROM unnest($1::text[], $2::integer[], $3::bigint[], $4::bigint[])
    AS o(topic, kafka_partition, next_offset, announced)
ON CONFLICT (topic, kafka_partition) DO UPDATE SET
    next_offset = GREATEST(consumed_offsets.next_offset, excluded.next_offset),
    announced = GREATEST(consumed_offsets.announced, excluded.announced),
    updated_at = excluded.updated_at
"""
CONSUMED_OFFSETS = "SELECT topic, kafka_partition, next_offset, announced FROM consumed_offsets"

# Erasure: what a store rebuilt from the log would hold once the candidates' keys are gone (no
# record, no CV analyses, their answers and their own chat messages blank), run last in the
# batch so that it also covers rows the same batch wrote.
ERASE_CANDIDATES = (
    "DELETE FROM cv_analyses WHERE candidate_id = ANY($1::uuid[])",
    "DELETE FROM candidates WHERE id = ANY($1::uuid[])",
    """UPDATE answers SET text = '' WHERE interview_id IN
        (SELECT id FROM interviews WHERE candidate_id = ANY($1::uuid[]))""",
    """UPDATE chat_messages SET content = '' WHERE role = 'user' AND session_id IN
        (SELECT s.id FROM chat_sessions s JOIN interviews i ON i.id = s.interview_id
         WHERE i.candidate_id = ANY($1::uuid[]))""",
)

# --- reads --------------------------------------------------------------------------------------

CANDIDATE_COLUMNS = "id, name, email, cv_path, created_at, updated_at, org_id"
QUESTION_COLUMNS = (
    "id, text, type, difficulty, skills, tags, reference_answer, key_points, rubric, created_at,"
    " updated_at, org_id"
)
INTERVIEW_COLUMNS = (
    "id, candidate_id, title, question_ids, status, created_at, updated_at, started_at,"
    " completed_at, org_id"
)
ANSWER_COLUMNS = (
    "id, interview_id, question_id, text, question_text, submitted_at, created_at, audio_uri"
)
EVALUATION_COLUMNS = (
    "id, answer_id, interview_id, question_id, outcome, score, criteria, feedback,"
    " unscorable_reason, explanation, flags, lineage, usage, created_at, confidence, review,"
    " review_reasons"
)

EVENT_OUTCOME = "SELECT event_id, outcome, reason FROM processed_events WHERE event_id = $1"
CANDIDATE = f"SELECT {CANDIDATE_COLUMNS} FROM candidates WHERE id = $1"
CANDIDATE_BY_EMAIL = f"SELECT {CANDIDATE_COLUMNS} FROM candidates WHERE email_lower = $1"
CV_ANALYSES = """
SELECT id, candidate_id, skills, summary, created_at FROM cv_analyses
WHERE candidate_id = $1 ORDER BY created_at, id
"""
QUESTION = f"SELECT {QUESTION_COLUMNS} FROM questions WHERE id = $1"
QUESTIONS_BY_ID = f"SELECT {QUESTION_COLUMNS} FROM questions WHERE id = ANY($1::uuid[])"
RUBRIC_VERSIONS = "SELECT id, rubric_version FROM questions WHERE id = ANY($1::uuid[])"
INTERVIEW = f"SELECT {INTERVIEW_COLUMNS} FROM interviews WHERE id = $1"
INTERVIEWS_BY_ID = f"SELECT {INTERVIEW_COLUMNS} FROM interviews WHERE id = ANY($1::uuid[])"
REPORT = """
SELECT interview_id, overall_score, skills, strengths, weaknesses, rubric_versions, created_at
FROM interview_reports WHERE interview_id = $1
"""
ANSWER = f"SELECT {ANSWER_COLUMNS} FROM answers WHERE id = $1"
# The newest answer per question of one interview: what the interview log shows.
LATEST_ANSWERS = f"""
SELECT DISTINCT ON (question_id) {ANSWER_COLUMNS} FROM answers
WHERE interview_id = $1 ORDER BY question_id, submitted_at DESC, id DESC
"""
EVALUATION = f"SELECT {EVALUATION_COLUMNS} FROM evaluations WHERE id = $1"
EVALUATIONS_OF = f"SELECT {EVALUATION_COLUMNS} FROM evaluations WHERE answer_id = ANY($1::uuid[])"
CHAT_SESSION = "SELECT id, interview_id, created_at, org_id FROM chat_sessions WHERE id = $1"
CHAT_MESSAGES = """
SELECT id, session_id, role, content, sequence, created_at FROM chat_messages
WHERE session_id = $1 ORDER BY sequence
"""


@dataclass(frozen=True, slots=True)
class Listing:
    """One listable table: what to select and how each sort field is written in SQL."""

    table: str
    columns: str
    sorts: dict[str, tuple[str, str]]
    """Sort field -> (SQL expression, parameter type), matching the btree indexes."""


LISTINGS: dict[str, Listing] = {
    "candidates": Listing(
        "candidates",
        CANDIDATE_COLUMNS,
        {"created_at": ("created_at", "timestamptz"), "updated_at": ("updated_at", "timestamptz"),
         "name": ("name", "text")},
    ),
    "questions": Listing(
        "questions",
        QUESTION_COLUMNS,
        {"created_at": ("created_at", "timestamptz"), "updated_at": ("updated_at", "timestamptz")},
    ),
    "interviews": Listing(
        "interviews",
        INTERVIEW_COLUMNS,
        {"created_at": ("created_at", "timestamptz"), "updated_at": ("updated_at", "timestamptz"),
         "title": ("title", "text")},
    ),
    "answers": Listing("answers", ANSWER_COLUMNS, {"created_at": ("created_at", "timestamptz")}),
    "evaluations": Listing(
        "evaluations",
        EVALUATION_COLUMNS,
        # NULL scores sort as -1 (query.NULL_SCORE); the expression index uses the same form.
        {"created_at": ("created_at", "timestamptz"),
         "score": ("coalesce(score, -1.0::float8)", "float8")},
    ),
    # The review queue: flagged rows (`evaluations_review_queue` index) of answers without a
    # human grade (`evaluations_human_grades`); `REVIEW_QUEUE` is its base condition.
    "reviews": Listing(
        "evaluations", EVALUATION_COLUMNS, {"created_at": ("created_at", "timestamptz")}
    ),
}  # fmt: skip

REVIEW_QUEUE = (
    "review_reasons <> '{{}}' AND NOT EXISTS (SELECT 1 FROM evaluations AS h"
    " WHERE h.answer_id = evaluations.answer_id AND h.lineage->>'scorer' = 'human')"
)
"""A `Where.add` template (its braces doubled: it takes no parameter)."""


@dataclass
class Where:
    """Conditions and their bind parameters, numbered as they are added."""

    conditions: list[str] = field(default_factory=list)
    params: list[object] = field(default_factory=list)

    def add(self, template: str, *values: object) -> None:
        """Add a condition whose `{}` placeholders become the next parameter numbers."""
        numbers = [f"${len(self.params) + i + 1}" for i in range(len(values))]
        self.conditions.append(template.format(*numbers))
        self.params.extend(values)


def listing_query(name: str, request: ListRequest, where: Where) -> tuple[str, list[object]]:
    """A keyset (or offset) page query: `limit + 1` rows ordered by (sort value, id)."""
    listing = LISTINGS[name]
    expr, kind = listing.sorts[request.sort.field]
    direction = "DESC" if request.sort.descending else "ASC"
    if request.after is not None:
        op = "<" if request.sort.descending else ">"
        where.add(f"({expr}, id) {op} ({{}}::{kind}, {{}}::uuid)", *_after(request))
    condition = " AND ".join(where.conditions) or "TRUE"
    limit, offset = len(where.params) + 1, len(where.params) + 2
    sql = (
        f"SELECT {listing.columns} FROM {listing.table} WHERE {condition}"
        f" ORDER BY {expr} {direction}, id {direction} LIMIT ${limit} OFFSET ${offset}"
    )
    return sql, [*where.params, request.fetch, request.offset]


def _after(request: ListRequest) -> tuple[object, object]:
    assert request.after is not None
    return request.after.value, request.after.id
