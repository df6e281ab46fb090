"""The questions the officer API, the console, the KPI report and the trail view ask, answered in SQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from schemas.audit import AuditEvent
from schemas.codec import decode
from schemas.outcome import ReferralOutcome
from schemas.vocabulary import Service
from services.triage.cases.case import OPEN_STATES, Case, QueueItem
from services.triage.cases.records import ReferralRecord
from services.triage.cases.trail import MAX_TRAIL, Trail
from services.triage.read.tables import audit_events, outcomes, queue_items, referrals, routing_facts, ruleset_events
from services.triage.reports.kpis import ReportInput
from services.triage.routing.replay import StoredReferral, facts_from_json

OPEN = [state.value for state in OPEN_STATES]


class ReadModel:
    """Every referral's case, record and trail, whichever replica owns it; `caught_up` once projected."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.caught_up = asyncio.Event()

    async def case(self, referral_id: str) -> Case | None:
        async with self.engine.connect() as connection:
            raw = await connection.scalar(select(referrals.c.case_state).where(referrals.c.referral_id == referral_id))
        return decode(raw.encode(), Case) if raw else None

    async def referral(self, referral_id: str) -> tuple[Case | None, ReferralRecord | None]:
        """The referral's case and record (either None until projected)."""
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(referrals.c.case_state, referrals.c.record).where(referrals.c.referral_id == referral_id)
                )
            ).first()
        if row is None:
            return None, None
        return (
            decode(row.case_state.encode(), Case) if row.case_state else None,
            decode(row.record.encode(), ReferralRecord) if row.record else None,
        )

    async def trail(self, referral_id: str) -> Trail:
        """Every service's audit events for the referral, in the order they happened (the latest MAX_TRAIL)."""
        query = (
            select(audit_events.c.event)
            .where(audit_events.c.referral_id == referral_id)
            .order_by(
                audit_events.c.occurred_at.desc(),
                audit_events.c.emitter_rank.desc(),
                audit_events.c.chain.desc(),
                audit_events.c.seq.desc(),
            )
            .limit(MAX_TRAIL)
        )
        async with self.engine.connect() as connection:
            raws = (await connection.scalars(query)).all()
        return Trail.of(decode(raw.encode(), AuditEvent) for raw in raws)

    async def queue(self, service: Service, state_filter: Literal["open", "all"] = "open") -> list[QueueItem]:
        """One service's queue, most pressing first: priority, then due time (then referral id)."""
        query = select(queue_items.c.item).where(queue_items.c.service == service.value)
        if state_filter == "open":
            query = query.where(queue_items.c.state.in_(OPEN))
        query = query.order_by(queue_items.c.priority_rank, queue_items.c.due_at, queue_items.c.referral_id)
        async with self.engine.connect() as connection:
            raws = (await connection.scalars(query)).all()
        return [decode(raw.encode(), QueueItem) for raw in raws]

    async def open_and_overdue(self, services: Iterable[Service], now: datetime) -> dict[Service, tuple[int, int]]:
        """Per asked-for service, in the order asked: (open items, open items past their deadline)."""
        wanted = list(services)
        query = (
            select(
                queue_items.c.service,
                func.count(),
                func.coalesce(func.sum(case((queue_items.c.due_at < now, 1), else_=0)), 0),
            )
            .where(queue_items.c.service.in_([s.value for s in wanted]), queue_items.c.state.in_(OPEN))
            .group_by(queue_items.c.service)
        )
        async with self.engine.connect() as connection:
            counts = {row[0]: (int(row[1]), int(row[2])) for row in await connection.execute(query)}
        return {service: counts.get(service.value, (0, 0)) for service in wanted}

    async def ruleset_chain(self, chain: str) -> list[AuditEvent]:
        """The `ruleset_live` events of one ruleset version's chain, in order."""
        query = select(ruleset_events.c.event).where(ruleset_events.c.chain == chain).order_by(ruleset_events.c.seq)
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [decode(row[0].encode(), AuditEvent) for row in rows]

    async def routing_facts(self, start: datetime, end: datetime) -> list[StoredReferral]:
        """The routing facts of every referral accepted in [start, end), oldest first."""
        query = (
            select(
                routing_facts.c.referral_id,
                routing_facts.c.accepted_at,
                routing_facts.c.subject_key,
                routing_facts.c.facts,
            )
            .where(routing_facts.c.accepted_at >= start, routing_facts.c.accepted_at < end)
            .order_by(routing_facts.c.accepted_at, routing_facts.c.referral_id)
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [StoredReferral(row[0], row[1], row[2], facts_from_json(row[3])) for row in rows]

    async def report_inputs(self, start: datetime, end: datetime) -> list[ReportInput]:
        """Every referral accepted in [start, end), with its case and audit trail."""
        in_period = (referrals.c.accepted_at >= start) & (referrals.c.accepted_at < end)
        held = select(referrals.c.referral_id, referrals.c.record, referrals.c.case_state).where(
            in_period, referrals.c.record.is_not(None)
        )
        events = (
            select(audit_events.c.referral_id, audit_events.c.event)
            .join(referrals, referrals.c.referral_id == audit_events.c.referral_id)
            .where(in_period, referrals.c.record.is_not(None))
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(held)).all()
            trails: dict[str, list[AuditEvent]] = {}
            for referral_id, raw in await connection.execute(events):
                trails.setdefault(referral_id, []).append(decode(raw.encode(), AuditEvent))
        return [
            ReportInput.of(
                decode(row.record.encode(), ReferralRecord),
                decode(row.case_state.encode(), Case) if row.case_state else None,
                Trail.of(trails.get(row.referral_id, ())),
            )
            for row in rows
        ]

    async def partner_referral(
        self, partner_id: str, referral_id: str
    ) -> tuple[ReferralRecord, list[ReferralOutcome]] | None:
        """The partner's own referral and what it has been told, in order; None for anyone else's (or unknown)."""
        mine = (referrals.c.referral_id == referral_id) & (referrals.c.partner_id == partner_id)
        told = (
            select(outcomes.c.outcome)
            .where(outcomes.c.referral_id == referral_id, outcomes.c.partner_id == partner_id)
            .order_by(outcomes.c.seq)
        )
        async with self.engine.connect() as connection:
            raw = await connection.scalar(select(referrals.c.record).where(mine, referrals.c.record.is_not(None)))
            if raw is None:
                return None
            events = (await connection.scalars(told)).all()
        return decode(raw.encode(), ReferralRecord), [decode(e.encode(), ReferralOutcome) for e in events]

    async def partner_changes(self, partner_id: str, after: int, limit: int) -> list[tuple[int, ReferralOutcome]]:
        """The partner's outcomes numbered after `after`, in order: (its number for the partner, the outcome)."""
        query = (
            select(outcomes.c.partner_seq, outcomes.c.outcome)
            .where(outcomes.c.partner_id == partner_id, outcomes.c.partner_seq > after)
            .order_by(outcomes.c.partner_seq)
            .limit(limit)
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [(int(seq), decode(raw.encode(), ReferralOutcome)) for seq, raw in rows]
