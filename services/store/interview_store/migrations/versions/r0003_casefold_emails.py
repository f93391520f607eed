"""Recompute the case-insensitive e-mail key with casefold() for every length.

Before this revision e-mails of 6 characters or fewer kept their case in `email_lower`, so
"A@b.io" and "a@b.io" could both register. The key is computed in Python (as the store does),
not with SQL lower(), so both backends agree whatever the database's locale.

Revision ID: r0003
Revises: r0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0003"
down_revision = "r0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Rewrite each key; a pair the old bug let in keeps the older row's claim on the key."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, email, email_lower FROM candidates ORDER BY created_at, id")
    ).all()
    taken = {row.email_lower for row in rows if row.email_lower == row.email.casefold()}
    for row in rows:
        key = row.email.casefold()
        if key == row.email_lower or key in taken:
            continue  # already right, or a duplicate from before the fix: left as it was
        taken.add(key)
        bind.execute(
            sa.text("UPDATE candidates SET email_lower = :key WHERE id = :id"),
            {"key": key, "id": row.id},
        )


def downgrade() -> None:
    """Nothing to undo: the old keys were a bug, and casefolded keys are still unique."""
