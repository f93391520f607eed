"""Human review: evaluations keep their confidence, their human review and their queue reasons.

`review_reasons` is what the review queue lists (`interview_shared.reviews.review_reasons`,
computed when the row is written); rows written before this revision get it here from their
flags and outcome, in SQL frozen with this revision so that later code cannot change history.
Their confidence was never stored: it stays NULL until the store is rebuilt from the log.

Revision ID: r0007
Revises: r0006
Create Date: 2026-12-09
"""

from __future__ import annotations

from alembic import op

revision = "r0007"
down_revision = "r0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the columns, fill the reasons of existing rows, index the queue."""
    op.execute(
        """
        ALTER TABLE evaluations
            ADD COLUMN confidence double precision CHECK (confidence BETWEEN 0 AND 1),
            ADD COLUMN review jsonb,
            ADD COLUMN review_reasons text[] NOT NULL DEFAULT '{}'
        """
    )
    op.execute(
        """
        UPDATE evaluations SET review_reasons = array_remove(ARRAY[
            CASE WHEN 'possible_prompt_injection' = ANY(flags) THEN 'injection_suspected' END,
            CASE WHEN 'judges_disagree' = ANY(flags) THEN 'judges_disagree' END,
            CASE WHEN 'low_confidence' = ANY(flags) THEN 'low_confidence' END,
            CASE WHEN 'mid_band' = ANY(flags) THEN 'mid_band' END,
            CASE WHEN outcome = 'UNSCORABLE' AND NOT 'possible_prompt_injection' = ANY(flags)
                 THEN 'unscorable' END
        ], NULL)
        WHERE lineage->>'scorer' IS DISTINCT FROM 'human'
        """
    )
    op.execute(
        """
        UPDATE evaluations SET review_reasons = '{flagged}'
        WHERE review_reasons = '{}' AND 'needs_human_review' = ANY(flags)
          AND lineage->>'scorer' IS DISTINCT FROM 'human'
        """
    )
    # The queue is a small part of the table: partial indexes keep its page scans short.
    op.execute(
        "CREATE INDEX evaluations_review_queue ON evaluations (created_at, id)"
        " WHERE review_reasons <> '{}'"
    )
    op.execute(
        "CREATE INDEX evaluations_human_grades ON evaluations (answer_id)"
        " WHERE lineage->>'scorer' = 'human'"
    )


def downgrade() -> None:
    """Drop the indexes and columns."""
    op.execute("DROP INDEX evaluations_human_grades")
    op.execute("DROP INDEX evaluations_review_queue")
    op.execute(
        "ALTER TABLE evaluations DROP COLUMN review_reasons, DROP COLUMN review,"
        " DROP COLUMN confidence"
    )
