"""The `ruleset_live` audit events (no referral, so not in `audit_events`), so that triage announces each
ruleset version once.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ruleset_events",
        sa.Column("chain", sa.String, primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("ruleset_version", sa.String, nullable=False),
        sa.Column("sha256", sa.String, nullable=False),
        sa.Column("event", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ruleset_events")
