"""Question embeddings for semantic search: a float4[] column always, pgvector when available.

The array column works on any PostgreSQL (the store ranks the candidates). When the server has
the pgvector extension, it is created and a `vector(384)` copy with an HNSW index (cosine)
preselects candidates in the database. Embeddings are derived data: downgrading drops them, and
the store recomputes any missing vector on the next search.

Revision ID: r0004
Revises: r0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0004"
down_revision = "r0003"
branch_labels = None
depends_on = None

DIMENSION = 384  # all-MiniLM-L6-v2 (interview_shared.embeddings.EMBEDDING_DIMENSION)


def _pgvector_available() -> bool:
    bind = op.get_bind()
    found = bind.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'"))
    return found.first() is not None


def upgrade() -> None:
    """Create the embeddings table (and the pgvector column and index when possible)."""
    op.execute(
        "CREATE TABLE IF NOT EXISTS question_embeddings ("
        " question_id uuid PRIMARY KEY REFERENCES questions (id) ON DELETE CASCADE,"
        " model text NOT NULL, text_sha text NOT NULL, embedding float4[] NOT NULL)"
    )
    if not _pgvector_available():
        return
    # A role that may not create extensions keeps the array column only (same results, slower).
    nested = op.get_bind().begin_nested()
    try:
        op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    except sa.exc.DBAPIError:
        nested.rollback()
        return
    nested.commit()
    op.execute(
        f"ALTER TABLE question_embeddings ADD COLUMN IF NOT EXISTS embedding_v vector({DIMENSION})"
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS question_embeddings_hnsw"
        " ON question_embeddings USING hnsw (embedding_v vector_cosine_ops)"
    )


def downgrade() -> None:
    """Drop the embeddings (derived data; the extension stays for other users)."""
    op.execute("DROP TABLE IF EXISTS question_embeddings")
