"""Revoked console sessions: the sessions signed out before they expired, until they expire.

Revision ID: 0002
Revises: 0001
Create Date: 2026-06-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "revoked_sessions",
        sa.Column("session_hash", sa.String, primary_key=True),
        sa.Column("expires_at", sa.DateTime, nullable=False),
    )
    op.create_index("revoked_sessions_expiry", "revoked_sessions", ["expires_at"])


def downgrade() -> None:
    op.drop_table("revoked_sessions")
