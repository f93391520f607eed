"""Base schema: every table, primary keys and the uniqueness rules the store enforces.

No foreign keys between aggregates: topics are consumed independently (and replayed out of order
when the store is rebuilt), so an interview may legitimately arrive before its candidate.

Revision ID: r0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from alembic import op

revision = "r0001"
down_revision = None
branch_labels = None
depends_on = None

TABLES = """
CREATE TABLE processed_events (
    event_id uuid PRIMARY KEY,
    event_type text NOT NULL,
    outcome text NOT NULL CHECK (outcome IN ('applied', 'rejected')),
    reason text,
    processed_at timestamptz NOT NULL DEFAULT now()
);

-- Text columns that listings sort by use the "C" collation: code-point order, like Python's.
CREATE TABLE candidates (
    id uuid PRIMARY KEY,
    name text COLLATE "C" NOT NULL,
    email text NOT NULL,
    -- lower(email) computed by the store in Python: the database's lower() depends on its locale.
    email_lower text NOT NULL,
    cv_path text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX candidates_email_lower_key ON candidates (email_lower);

CREATE TABLE cv_analyses (
    id uuid PRIMARY KEY,
    candidate_id uuid NOT NULL,
    skills jsonb NOT NULL,
    summary text NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE questions (
    id uuid PRIMARY KEY,
    text text NOT NULL,
    type text NOT NULL,
    difficulty text NOT NULL,
    skills text[] NOT NULL,
    tags text[] NOT NULL,
    reference_answer text NOT NULL,
    key_points text[] NOT NULL,
    rubric jsonb NOT NULL,
    rubric_version text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE interviews (
    id uuid PRIMARY KEY,
    candidate_id uuid NOT NULL,
    title text COLLATE "C" NOT NULL,
    question_ids uuid[] NOT NULL,
    status text NOT NULL
        CHECK (status IN ('PREPARING', 'READY', 'IN_PROGRESS', 'COMPLETED', 'CANCELLED')),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    started_at timestamptz,
    completed_at timestamptz
);

CREATE TABLE answers (
    id uuid PRIMARY KEY,
    interview_id uuid NOT NULL,
    question_id uuid NOT NULL,
    text text NOT NULL,
    question_text text NOT NULL,
    submitted_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL
);

-- Append-only: a re-evaluation adds a row, history is never overwritten.
CREATE TABLE evaluations (
    id uuid PRIMARY KEY,
    answer_id uuid NOT NULL,
    interview_id uuid NOT NULL,
    question_id uuid NOT NULL,
    outcome text NOT NULL CHECK (outcome IN ('SCORED', 'UNSCORABLE')),
    score double precision CHECK (score BETWEEN 0 AND 100),
    criteria jsonb NOT NULL,
    feedback text NOT NULL,
    unscorable_reason text,
    explanation jsonb NOT NULL,
    flags text[] NOT NULL,
    lineage jsonb NOT NULL,
    rubric_version text NOT NULL,
    usage jsonb NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE interview_reports (
    interview_id uuid PRIMARY KEY,
    overall_score double precision,
    skills jsonb NOT NULL,
    strengths text[] NOT NULL,
    weaknesses text[] NOT NULL,
    rubric_versions text[] NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE chat_sessions (
    id uuid PRIMARY KEY,
    interview_id uuid,
    created_at timestamptz NOT NULL
);

CREATE TABLE chat_messages (
    id uuid PRIMARY KEY,
    session_id uuid NOT NULL,
    role text NOT NULL,
    content text NOT NULL,
    sequence integer NOT NULL CHECK (sequence > 0),
    created_at timestamptz NOT NULL,
    -- Two racing writers cannot both take the same sequence number.
    UNIQUE (session_id, sequence)
);
"""

DROP = """
DROP TABLE chat_messages, chat_sessions, interview_reports, evaluations, answers, interviews,
    questions, cv_analyses, candidates, processed_events
"""


def upgrade() -> None:
    """Create every table."""
    # One statement per execute: asyncpg prepares each statement and refuses several at once.
    for statement in TABLES.split(";"):
        if statement.strip():
            op.execute(statement)


def downgrade() -> None:
    """Drop every table: only ever run on purpose (`migrate downgrade base`)."""
    op.execute(DROP)
