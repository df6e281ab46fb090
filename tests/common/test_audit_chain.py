"""Audit hash chains: built deterministically, signed with the emitting service's key, verified strictly."""

from __future__ import annotations

from datetime import UTC, datetime

from schemas.audit import ActorKind, AuditAction, AuditEvent
from schemas.audit_details import QueuedDetails
from schemas.vocabulary import Priority, Service
from services.common.audit_chain import ChainHead, next_event
from services.common.audit_keys import AuditKeyring
from services.common.audit_verify import verify_chains

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
KEYS = AuditKeyring.of("triage-1", "a-long-random-triage-audit-key")


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
        events.append(KEYS.sign(event))
    return events


def test_same_inputs_give_the_same_event() -> None:
    """Redelivery re-emits identical events (ids and hashes are derived, not random)."""
    assert chain(3) == chain(3)


def test_an_intact_chain_verifies_and_redelivered_copies_are_fine() -> None:
    """Each event links to the one before; an identical duplicate is not a problem."""
    events = chain(4)
    report = verify_chains([*events, events[1]], KEYS)
    assert report.problems == [] and report.chains == 1 and report.events == 5


def test_tampered_content_and_forged_rewrites_are_found() -> None:
    """Changing content without rehashing, or rehashing a rewrite, both break the chain."""
    events = chain(3)
    tampered = events[1].model_copy(update={"details": {"i": 99}})
    assert verify_chains([events[0], tampered, events[2]], KEYS).broken_referrals == ["r1"]
    rewritten = tampered.model_copy(update={"hash": tampered.computed_hash()})
    report = verify_chains([*events, rewritten], KEYS)
    assert report.broken_referrals == ["r1"]


def test_a_missing_event_is_found() -> None:
    """A gap in the sequence is reported."""
    events = chain(3)
    report = verify_chains([events[0], events[2]], KEYS)
    assert [p.problem for p in report.problems] == ["event missing"]


def test_the_hash_links_the_chain_before_signing_and_the_mac_covers_it() -> None:
    """Signing adds the key id and MAC without changing the chain link, so a redelivered step signs the same."""
    events = chain(2)
    assert [e.key_id for e in events] == ["triage-1", "triage-1"]
    assert events[1].prev_hash == events[0].hash == events[0].computed_hash()
    assert KEYS.sign(events[0]) == events[0]


def test_an_event_appended_without_the_key_does_not_verify() -> None:
    """Anyone may write a well-linked, well-hashed next event; without the service's key its MAC fails."""
    events = chain(2)
    head = ChainHead(seq=2, hash=events[1].hash)
    appended, _ = next_event(
        head,
        emitter="triage",
        chain_key="r1",
        referral_id="r1",
        action=AuditAction.closed,
        actor_kind=ActorKind.service,
        actor="triage",
        occurred_at=T0,
    )
    forger = AuditKeyring.of("triage-1", "a-guess-at-the-triage-audit-key")
    for forged, problem in [
        (appended, "event is not signed"),
        (forger.sign(appended), "mac does not match: not written by a holder of the audit key"),
        (AuditKeyring.of("mine", "any").sign(appended), "signed with unknown audit key 'mine'"),
    ]:
        report = verify_chains([*events, forged], KEYS)
        assert [(p.seq, p.problem) for p in report.problems] == [(3, problem)]
    assert verify_chains([*events, KEYS.sign(appended)], KEYS).problems == []


def test_events_under_the_previous_key_still_verify_after_rotation() -> None:
    """After rotating, old events verify under the key kept in the previous set, new ones under the new key;
    without the previous key the old events are reported, naming the unknown key id."""
    old = chain(2)
    previous = "triage-1:a-long-random-triage-audit-key"
    rotated = AuditKeyring.of("triage-2", "the-new-triage-audit-key", previous=previous)
    appended, _ = next_event(
        ChainHead(seq=2, hash=old[1].hash),
        emitter="triage",
        chain_key="r1",
        referral_id="r1",
        action=AuditAction.closed,
        actor_kind=ActorKind.service,
        actor="triage",
        occurred_at=T0,
    )
    newer = rotated.sign(appended)
    assert newer.key_id == "triage-2"
    assert verify_chains([*old, newer], rotated).problems == []
    forgotten = AuditKeyring.of("triage-2", "the-new-triage-audit-key")
    problems = verify_chains([*old, newer], forgotten).problems
    assert {p.problem for p in problems} >= {"signed with unknown audit key 'triage-1'"}
