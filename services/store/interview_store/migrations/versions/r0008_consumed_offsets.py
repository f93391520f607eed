"""Consumed offsets: the Kafka position the data was applied up to, kept with the data.

Revision ID: r0008
Revises: r0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "r0008"
down_revision = "r0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """One row per partition, written in each batch's transaction (so an empty database has
    none, and a store pointed at it rebuilds from offset 0)."""
    op.execute(
        """
        CREATE TABLE consumed_offsets (
            topic text NOT NULL,
            kafka_partition integer NOT NULL,
            next_offset bigint NOT NULL CHECK (next_offset >= 0),
            -- Below this offset outcomes were announced (in an earlier life too): a rebuild
            -- that crashes half-way must not announce them again when it resumes.
            announced bigint NOT NULL CHECK (announced >= 0),
            updated_at timestamptz NOT NULL,
            PRIMARY KEY (topic, kafka_partition)
        )
        """
    )


def downgrade() -> None:
    """Drop the table (the next start resumes from offset 0 and re-applies, idempotently)."""
    op.execute("DROP TABLE consumed_offsets")
