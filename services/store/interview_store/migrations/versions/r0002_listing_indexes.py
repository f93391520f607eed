"""Listing indexes: one btree per (filter, sort, id) the read side uses, GIN on skills and tags.

Indexes only, so downgrading this revision never loses data.

Revision ID: r0002
Revises: r0001
Create Date: 2025-01-02
"""

from __future__ import annotations

from alembic import op

revision = "r0002"
down_revision = "r0001"
branch_labels = None
depends_on = None

# name -> definition; keyset pages read (sort value, id) in either direction from these.
INDEXES: dict[str, str] = {
    "candidates_created_idx": "candidates (created_at, id)",
    "candidates_updated_idx": "candidates (updated_at, id)",
    "candidates_name_idx": "candidates (name, id)",
    "cv_analyses_candidate_idx": "cv_analyses (candidate_id, created_at, id)",
    "questions_created_idx": "questions (created_at, id)",
    "questions_updated_idx": "questions (updated_at, id)",
    "questions_skills_gin": "questions USING gin (skills)",
    "questions_tags_gin": "questions USING gin (tags)",
    "questions_difficulty_idx": "questions (difficulty, created_at, id)",
    "questions_type_idx": "questions (type, created_at, id)",
    "interviews_created_idx": "interviews (created_at, id)",
    "interviews_updated_idx": "interviews (updated_at, id)",
    "interviews_title_idx": "interviews (title, id)",
    "interviews_status_created_idx": "interviews (status, created_at, id)",
    "interviews_status_updated_idx": "interviews (status, updated_at, id)",
    "interviews_status_title_idx": "interviews (status, title, id)",
    "interviews_candidate_created_idx": "interviews (candidate_id, created_at, id)",
    "answers_created_idx": "answers (created_at, id)",
    "answers_interview_idx": "answers (interview_id, created_at, id)",
    "answers_question_idx": "answers (question_id, created_at, id)",
    "answers_latest_idx": "answers (interview_id, question_id, submitted_at, id)",
    "evaluations_answer_idx": "evaluations (answer_id, created_at, id)",
    "evaluations_interview_idx": "evaluations (interview_id, created_at, id)",
    "evaluations_created_idx": "evaluations (created_at, id)",
    # Same expression as the listing's sort: NULL scores sort as -1.
    "evaluations_score_idx": "evaluations ((coalesce(score, -1.0::float8)), id)",
}


def upgrade() -> None:
    """Create the listing indexes."""
    for name, definition in INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def downgrade() -> None:
    """Drop the listing indexes (tables and rows stay)."""
    for name in reversed(INDEXES):
        op.execute(f"DROP INDEX IF EXISTS {name}")
