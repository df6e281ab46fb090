"""The referring partner of each referral, and the outcomes it has been told, numbered per partner.

Revision ID: 0003
Revises: 0002
Create Date: 2026-06-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("referrals") as batch:
        batch.add_column(sa.Column("partner_id", sa.String, nullable=True))
    op.create_table(
        "outcomes",
        sa.Column("outcome_id", sa.String, primary_key=True),
        sa.Column("partner_id", sa.String, nullable=False),
        sa.Column("partner_seq", sa.BigInteger, nullable=False),
        sa.Column("referral_id", sa.String, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("occurred_at", sa.DateTime, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
    )
    op.create_index("outcomes_by_partner", "outcomes", ["partner_id", "partner_seq"], unique=True)
    op.create_index("outcomes_by_referral", "outcomes", ["referral_id", "seq"])


def downgrade() -> None:
    op.drop_table("outcomes")
    with op.batch_alter_table("referrals") as batch:
        batch.drop_column("partner_id")
