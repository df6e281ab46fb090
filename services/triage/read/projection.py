"""Records from the case table's changelog, `audit.events` and `referrals.outcomes`, written as read-model rows.

`project` runs inside the projector's transaction: it writes a batch's rows and moves the stored offsets
past it, so the rows and the offsets commit together or not at all. Projectors sharing a database take
turns (an advisory lock on PostgreSQL, the write lock on SQLite) and skip what another already stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from pydantic import ValidationError
from sqlalchemy import bindparam, delete, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from schemas.audit import AuditAction, AuditEvent
from schemas.audit_details import RulesetLiveDetails, details_as
from schemas.codec import decode, encode
from schemas.outcome import ReferralOutcome
from schemas.vocabulary import PRIORITY_RANK
from services.common.logs import get_logger
from services.common.topics import AUDIT, OUTCOMES, TRIAGE_APP
from services.triage.cases.referral_state import ReferralState
from services.triage.cases.trail import EMITTER_ORDER
from services.triage.read.tables import (
    audit_events,
    outcomes,
    projector_offsets,
    queue_items,
    referrals,
    routing_facts,
    ruleset_events,
)
from services.triage.routing.conditions import facts_of
from services.triage.routing.replay import facts_json

log = get_logger("sosafe.triage.read")

CASES = f"{TRIAGE_APP}-cases-changelog"
FOLLOWED = (CASES, AUDIT, OUTCOMES)
PROJECTOR_LOCK = 7_270_012
"""PostgreSQL advisory lock each projection transaction holds, so projectors sharing a database take turns."""


class Record(Protocol):
    """What the projector needs of a consumed record (aiokafka's `ConsumerRecord` has it)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...


def _insert(connection: AsyncConnection, table: Any) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT."""
    return (postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert)(table)


async def stored_offsets(connection: AsyncConnection) -> dict[tuple[str, int], int]:
    """(topic, partition) -> the first offset not yet projected."""
    rows = await connection.execute(select(projector_offsets))
    return {(row.topic, row.partition): row.next_offset for row in rows}


async def project(connection: AsyncConnection, records: Sequence[Record]) -> int:
    """Write the rows of `records` and advance the offsets past them; how many records were new."""
    if not records:
        return 0
    if connection.dialect.name == "postgresql":
        await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PROJECTOR_LOCK})
    stored = await stored_offsets(connection)
    fresh = [r for r in records if r.offset >= stored.get((r.topic, r.partition), 0)]
    states: dict[str, ReferralState] = {}
    events: dict[tuple[str, int], dict[str, Any]] = {}
    told: dict[str, tuple[ReferralOutcome, str]] = {}
    announced: dict[tuple[str, int], dict[str, Any]] = {}
    for record in fresh:
        if record.value is None:
            continue
        if record.topic == OUTCOMES:
            if (outcome := outcome_of(record)) is not None:
                told.setdefault(outcome.outcome_id, (outcome, record.value.decode()))
        elif record.topic == AUDIT:
            row = event_row(record)
            if row is not None:
                events[(row["chain"], row["seq"])] = row
            elif (live := ruleset_row(record)) is not None:
                announced[(live["chain"], live["seq"])] = live
        elif (state := referral_state(record)) is not None:
            states[state[0]] = state[1]  # a later write of the same referral in the batch replaces it
    if events:
        await connection.execute(_insert(connection, audit_events).on_conflict_do_nothing(), list(events.values()))
    if announced:
        await connection.execute(_insert(connection, ruleset_events).on_conflict_do_nothing(), list(announced.values()))
    await _write_states(connection, states)
    await _write_outcomes(connection, list(told.values()))
    await _advance(connection, fresh, stored)
    return len(fresh)


def event_row(record: Record) -> dict[str, Any] | None:
    """The audit event's row, or None for a rejection's chain (no referral) or an unreadable event."""
    assert record.value is not None
    try:
        event = decode(record.value, AuditEvent)
    except ValidationError:  # not ours to dead-letter: the topic's writers are our own services
        log.error(
            "audit_event_unreadable_in_read_model", topic=record.topic, partition=record.partition, offset=record.offset
        )
        return None
    if event.referral_id is None:
        return None
    return {
        "chain": event.chain,
        "seq": event.seq,
        "referral_id": event.referral_id,
        "occurred_at": event.occurred_at,
        "emitter_rank": EMITTER_ORDER[event.emitted_by],
        "event": record.value.decode(),
    }


def ruleset_row(record: Record) -> dict[str, Any] | None:
    """The row of a `ruleset_live` event (which names no referral); None for any other event."""
    assert record.value is not None
    try:
        event = decode(record.value, AuditEvent)
    except ValidationError:  # logged by `event_row`
        return None
    if event.action is not AuditAction.ruleset_live:
        return None
    details = details_as(event, RulesetLiveDetails)
    if details is None:
        log.error("ruleset_event_unreadable_in_read_model", partition=record.partition, offset=record.offset)
        return None
    return {
        "chain": event.chain,
        "seq": event.seq,
        "ruleset_version": details.ruleset_version,
        "sha256": details.sha256,
        "event": record.value.decode(),
    }


def outcome_of(record: Record) -> ReferralOutcome | None:
    assert record.value is not None
    try:
        return decode(record.value, ReferralOutcome)
    except ValidationError:  # our own writer's: logged with its position, never fatal to the read model
        log.error(
            "outcome_unreadable_in_read_model", topic=record.topic, partition=record.partition, offset=record.offset
        )
        return None


async def _write_outcomes(connection: AsyncConnection, told: list[tuple[ReferralOutcome, str]]) -> None:
    """New outcomes, each numbered after its partner's last (the partner's polling cursor). Projection
    transactions take turns (the projector lock), so the numbers never collide or go back."""
    if not told:
        return
    known = set(
        await connection.scalars(
            select(outcomes.c.outcome_id).where(outcomes.c.outcome_id.in_([o.outcome_id for o, _ in told]))
        )
    )
    fresh = [(o, raw) for o, raw in told if o.outcome_id not in known]  # a redelivered outcome: stored once
    partners = sorted({o.partner_id for o, _ in fresh})
    last: dict[str, int] = {}
    if partners:
        query = (
            select(outcomes.c.partner_id, func.max(outcomes.c.partner_seq))
            .where(outcomes.c.partner_id.in_(partners))
            .group_by(outcomes.c.partner_id)
        )
        last = {partner: int(seq) for partner, seq in await connection.execute(query)}
    rows = []
    for outcome, raw in fresh:
        last[outcome.partner_id] = last.get(outcome.partner_id, 0) + 1
        rows.append(
            {
                "outcome_id": outcome.outcome_id,
                "partner_id": outcome.partner_id,
                "partner_seq": last[outcome.partner_id],
                "referral_id": outcome.referral_id,
                "seq": outcome.seq,
                "occurred_at": outcome.occurred_at,
                "outcome": raw,
            }
        )
    if rows:
        await connection.execute(outcomes.insert(), rows)


def referral_state(record: Record) -> tuple[str, ReferralState] | None:
    assert record.value is not None
    try:
        referral_id = (record.key or b"").decode()
        state = decode(record.value, ReferralState)
    except (UnicodeDecodeError, ValidationError):
        log.error(
            "case_state_unreadable_in_read_model", topic=record.topic, partition=record.partition, offset=record.offset
        )
        return None
    return (referral_id, state) if referral_id else None


async def _write_states(connection: AsyncConnection, states: dict[str, ReferralState]) -> None:
    if not states:
        return
    rows = []
    for referral_id, state in states.items():
        record = state.record()
        rows.append(
            {
                "referral_id": referral_id,
                "accepted_at": record.referral.accepted_at if record else None,
                "record": encode(record).decode() if record else None,
                "case_state": encode(state.case).decode() if state.case else None,
                "partner_id": state.partner_id,
            }
        )
    insert = _insert(connection, referrals)
    await connection.execute(
        insert.on_conflict_do_update(
            index_elements=[referrals.c.referral_id],
            set_={
                column: _newer_or_kept(insert, column)
                for column in ("accepted_at", "record", "case_state", "partner_id")
            },
        ),
        rows,
    )
    facts = [
        {
            "referral_id": referral_id,
            "accepted_at": state.referral.accepted_at,
            "subject_key": state.referral.subject_key,
            "facts": facts_json(facts_of(state.referral.submission)),
        }
        for referral_id, state in states.items()
        if state.referral is not None
    ]
    if facts:  # a referral's facts never change: the first write stands
        await connection.execute(_insert(connection, routing_facts).on_conflict_do_nothing(), facts)
    cased = [referral_id for referral_id, state in states.items() if state.case is not None]
    for chunk in _chunks(cased, 500):
        await connection.execute(delete(queue_items).where(queue_items.c.referral_id.in_(chunk)))
    items = [
        {
            "referral_id": item.referral_id,
            "service": item.service.value,
            "state": item.state.value,
            "priority_rank": PRIORITY_RANK[item.priority],
            "due_at": item.due_at,
            "item": encode(item).decode(),
        }
        for state in states.values()
        if state.case is not None
        for item in state.case.items.values()
    ]
    if items:
        await connection.execute(queue_items.insert(), items)


def _newer_or_kept(insert: Any, column: str) -> Any:
    """The new value, or the stored one when the new state lacks it (a state never loses its case)."""
    return func.coalesce(insert.excluded[column], referrals.c[column])


async def _advance(connection: AsyncConnection, fresh: Iterable[Record], stored: dict[tuple[str, int], int]) -> None:
    ends: dict[tuple[str, int], int] = {}
    for record in fresh:
        ends[(record.topic, record.partition)] = max(ends.get((record.topic, record.partition), 0), record.offset + 1)
    known = [
        {"t": topic, "p": partition, "o": end}
        for (topic, partition), end in ends.items()
        if (topic, partition) in stored
    ]
    new = [
        {"topic": topic, "partition": partition, "next_offset": end}
        for (topic, partition), end in ends.items()
        if (topic, partition) not in stored
    ]
    if known:
        await connection.execute(
            update(projector_offsets)
            .where(projector_offsets.c.topic == bindparam("t"), projector_offsets.c.partition == bindparam("p"))
            .values(next_offset=bindparam("o")),
            known,
        )
    if new:
        await connection.execute(projector_offsets.insert(), new)


def _chunks(values: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
