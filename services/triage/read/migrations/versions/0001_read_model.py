"""The read model: referrals with their cases, queue items, audit events, and the projector's offsets.

Revision ID: 0001
Revises:
Create Date: 2026-05-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "referrals",
        sa.Column("referral_id", sa.String, primary_key=True),
        sa.Column("accepted_at", sa.DateTime, nullable=True),
        sa.Column("record", sa.Text, nullable=True),
        sa.Column("case_state", sa.Text, nullable=True),
    )
    op.create_index("referrals_accepted_at", "referrals", ["accepted_at"])
    op.create_table(
        "queue_items",
        sa.Column("referral_id", sa.String, primary_key=True),
        sa.Column("service", sa.String, primary_key=True),
        sa.Column("state", sa.String, nullable=False),
        sa.Column("priority_rank", sa.Integer, nullable=False),
        sa.Column("due_at", sa.DateTime, nullable=False),
        sa.Column("item", sa.Text, nullable=False),
    )
    op.create_index(
        "queue_items_by_queue", "queue_items", ["service", "state", "priority_rank", "due_at", "referral_id"]
    )
    op.create_table(
        "audit_events",
        sa.Column("chain", sa.String, primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("referral_id", sa.String, nullable=False),
        sa.Column("occurred_at", sa.DateTime, nullable=False),
        sa.Column("emitter_rank", sa.Integer, nullable=False),
        sa.Column("event", sa.Text, nullable=False),
    )
    op.create_index("audit_events_by_referral", "audit_events", ["referral_id", "occurred_at"])
    op.create_table(
        "projector_offsets",
        sa.Column("topic", sa.String, primary_key=True),
        sa.Column("partition", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("next_offset", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("projector_offsets")
    op.drop_table("audit_events")
    op.drop_table("queue_items")
    op.drop_table("referrals")
