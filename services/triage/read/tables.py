"""The read model's tables (SQLAlchemy Core). The migrations in `migrations/versions` create them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, MetaData, String, Table, Text, TypeDecorator
from sqlalchemy.engine import Dialect

metadata = MetaData()


class UtcDateTime(TypeDecorator[datetime]):
    """An aware time stored as naive UTC, so SQLite and PostgreSQL compare and order it alike."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("the read model stores aware times only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


referrals = Table(
    "referrals",
    metadata,
    Column("referral_id", String, primary_key=True),
    Column("accepted_at", UtcDateTime, nullable=True),
    Column("record", Text, nullable=True),  # the ReferralRecord as JSON; null while a decision overtook it
    Column("case_state", Text, nullable=True),  # the Case as JSON (items, recorded actions); null before one
    Column("partner_id", String, nullable=True),  # the referring partner, once the referral is known
)
Index("referrals_accepted_at", referrals.c.accepted_at)

outcomes = Table(
    "outcomes",
    metadata,
    Column("outcome_id", String, primary_key=True),
    Column("partner_id", String, nullable=False),
    Column("partner_seq", BigInteger, nullable=False),  # 1, 2, ... per partner in projection order: the cursor
    Column("referral_id", String, nullable=False),
    Column("seq", Integer, nullable=False),  # the outcome's number within its referral
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("outcome", Text, nullable=False),  # the ReferralOutcome as JSON
)
Index("outcomes_by_partner", outcomes.c.partner_id, outcomes.c.partner_seq, unique=True)
Index("outcomes_by_referral", outcomes.c.referral_id, outcomes.c.seq)

routing_facts = Table(
    "routing_facts",
    metadata,
    Column("referral_id", String, primary_key=True),
    Column("accepted_at", UtcDateTime, nullable=False),
    Column("subject_key", String, nullable=True),
    Column("facts", Text, nullable=False),  # the routing Facts as JSON: no name, contact, postcode or narrative
)
"""What the rules read of each accepted referral, for `sosafe rules diff` (what-if replay)."""
Index("routing_facts_accepted_at", routing_facts.c.accepted_at)
Index("routing_facts_subject", routing_facts.c.subject_key, routing_facts.c.accepted_at)

queue_items = Table(
    "queue_items",
    metadata,
    Column("referral_id", String, primary_key=True),
    Column("service", String, primary_key=True),
    Column("state", String, nullable=False),
    Column("priority_rank", Integer, nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("item", Text, nullable=False),
)
Index(
    "queue_items_by_queue",
    queue_items.c.service,
    queue_items.c.state,
    queue_items.c.priority_rank,
    queue_items.c.due_at,
    queue_items.c.referral_id,
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("chain", String, primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("referral_id", String, nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("emitter_rank", Integer, nullable=False),
    Column("event", Text, nullable=False),
)
Index("audit_events_by_referral", audit_events.c.referral_id, audit_events.c.occurred_at)

ruleset_events = Table(
    "ruleset_events",
    metadata,
    Column("chain", String, primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("ruleset_version", String, nullable=False),
    Column("sha256", String, nullable=False),
    Column("event", Text, nullable=False),
)
"""Each `ruleset_live` audit event (chain `triage:ruleset:<version>`): what triage start-up reads to announce
a ruleset only once (migration `0005`)."""

projector_offsets = Table(
    "projector_offsets",
    metadata,
    Column("topic", String, primary_key=True),
    Column("partition", Integer, primary_key=True, autoincrement=False),
    Column("next_offset", BigInteger, nullable=False),  # the first offset not yet projected
)

revoked_sessions = Table(
    "revoked_sessions",
    metadata,
    Column("session_hash", String, primary_key=True),  # SHA-256 of the session's nonce, never the nonce
    Column("expires_at", UtcDateTime, nullable=False),  # the session's own expiry: the row goes after it
)
Index("revoked_sessions_expiry", revoked_sessions.c.expires_at)
