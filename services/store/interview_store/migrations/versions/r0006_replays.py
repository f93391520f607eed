"""Replays: the state of each re-scoring run, from its replay.* events.

Revision ID: r0006
Revises: r0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "r0006"
down_revision = "r0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """One row per replay, upserted by each progress report."""
    op.execute(
        """
        CREATE TABLE replays (
            id uuid PRIMARY KEY,
            status text NOT NULL
                CHECK (status IN ('running', 'completed', 'capped', 'failed')),
            scanned bigint NOT NULL,
            evaluated bigint NOT NULL,
            skipped bigint NOT NULL,
            cost_usd double precision NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        )
        """
    )


def downgrade() -> None:
    """Drop the replays table."""
    op.execute("DROP TABLE replays")
