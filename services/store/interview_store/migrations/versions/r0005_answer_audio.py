"""Answers keep the URI of the recording they were transcribed from (spoken answers).

Revision ID: r0005
Revises: r0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0005"
down_revision = "r0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """A nullable column: typed and chat answers have no recording."""
    op.add_column("answers", sa.Column("audio_uri", sa.Text(), nullable=True))


def downgrade() -> None:
    """Drop the column."""
    op.drop_column("answers", "audio_uri")
