"""Routing facts of each accepted referral, for what-if replay (`sosafe rules diff`); filled from the
referrals already stored.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

Built as 0002 beside the revoked-sessions and partner-outcomes migrations; renumbered to follow them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from schemas.codec import decode
from services.triage.cases.records import ReferralRecord
from services.triage.routing.conditions import facts_of
from services.triage.routing.replay import facts_json

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade() -> None:
    op.create_table(
        "routing_facts",
        sa.Column("referral_id", sa.String, primary_key=True),
        sa.Column("accepted_at", sa.DateTime, nullable=False),
        sa.Column("subject_key", sa.String, nullable=True),
        sa.Column("facts", sa.Text, nullable=False),
    )
    op.create_index("routing_facts_accepted_at", "routing_facts", ["accepted_at"])
    op.create_index("routing_facts_subject", "routing_facts", ["subject_key", "accepted_at"])
    connection = op.get_bind()
    stored = sa.table("referrals", sa.column("referral_id"), sa.column("accepted_at"), sa.column("record"))
    facts = sa.table(
        "routing_facts",
        sa.column("referral_id"),
        sa.column("accepted_at"),
        sa.column("subject_key"),
        sa.column("facts"),
    )
    rows = connection.execute(sa.select(stored.c.accepted_at, stored.c.record).where(stored.c.record.is_not(None)))
    batch: list[dict[str, object]] = []
    for accepted_at, raw in rows:
        referral = decode(raw.encode(), ReferralRecord).referral
        batch.append(
            {
                "referral_id": referral.referral_id,
                "accepted_at": accepted_at,
                "subject_key": referral.subject_key,
                "facts": facts_json(facts_of(referral.submission)),
            }
        )
        if len(batch) >= BATCH:
            connection.execute(facts.insert(), batch)
            batch = []
    if batch:
        connection.execute(facts.insert(), batch)


def downgrade() -> None:
    op.drop_table("routing_facts")
