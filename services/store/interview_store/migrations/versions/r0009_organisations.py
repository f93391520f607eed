"""Organisations: candidates, questions, interviews, chat sessions and replays belong to one.

Rows written before this revision belong to the "default" organisation, as events written
before `org_id` existed decode with it; a rebuilt store and a migrated one agree. Listings are
always filtered by organisation, so each listing index gains it as its leading column.

Revision ID: r0009
Revises: r0008
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "r0009"
down_revision = "r0008"
branch_labels = None
depends_on = None

TABLES = ("candidates", "questions", "interviews", "chat_sessions", "replays")
LISTED = {
    "candidates": ("created_at", "updated_at", "name"),
    "questions": ("created_at", "updated_at"),
    "interviews": ("created_at", "updated_at", "title"),
}


def upgrade() -> None:
    """Add `org_id` (default "default") and per-organisation listing indexes."""
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} ADD COLUMN org_id text NOT NULL DEFAULT 'default'")
    for table, fields in LISTED.items():
        for name in fields:
            op.execute(f"CREATE INDEX ix_{table}_org_{name} ON {table} (org_id, {name}, id)")


def downgrade() -> None:
    """Drop the organisation columns and their indexes."""
    for table, fields in LISTED.items():
        for name in fields:
            op.execute(f"DROP INDEX ix_{table}_org_{name}")
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} DROP COLUMN org_id")
