"""Audit hash chains: built deterministically, verified strictly."""

from __future__ import annotations

from datetime import UTC, datetime

from schemas.audit import ActorKind, AuditAction, AuditEvent
from schemas.audit_details import QueuedDetails
from schemas.vocabulary import Priority, Service
from services.common.audit_chain import ChainHead, next_event
from services.common.audit_verify import verify_chains

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def chain(n: int, key: str = "r1") -> list[AuditEvent]:
    head: ChainHead | None = None
    events = []
    for i in range(n):
        event, head = next_event(
            head,
            emitter="triage",
            chain_key=key,
            referral_id=key,
            action=AuditAction.queued,
            actor_kind=ActorKind.service,
            actor="triage",
            occurred_at=T0,
            details=QueuedDetails(service=Service.sada, priority=Priority.high, due_at=T0, rule_ids=[f"rule-{i}"]),
        )
        events.append(event)
    return events


def test_same_inputs_give_the_same_event() -> None:
    """Redelivery re-emits identical events (ids and hashes are derived, not random)."""
    assert chain(3) == chain(3)


def test_an_intact_chain_verifies_and_redelivered_copies_are_fine() -> None:
    """Each event links to the one before; an identical duplicate is not a problem."""
    events = chain(4)
    report = verify_chains([*events, events[1]])
    assert report.problems == [] and report.chains == 1 and report.events == 5


def test_tampered_content_and_forged_rewrites_are_found() -> None:
    """Changing content without rehashing, or rehashing a rewrite, both break the chain."""
    events = chain(3)
    tampered = events[1].model_copy(update={"details": {"i": 99}})
    assert verify_chains([events[0], tampered, events[2]]).broken_referrals == ["r1"]
    rewritten = tampered.model_copy(update={"hash": tampered.computed_hash()})
    report = verify_chains([*events, rewritten])
    assert report.broken_referrals == ["r1"]


def test_a_missing_event_is_found() -> None:
    """A gap in the sequence is reported."""
    events = chain(3)
    report = verify_chains([events[0], events[2]])
    assert [p.problem for p in report.problems] == ["event missing"]
