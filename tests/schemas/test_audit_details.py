"""Typed audit details: each action's model writes the keys its events always carried, and reads them back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from schemas.audit import ActorKind, AuditAction, AuditEvent
from schemas.audit_details import (
    DETAILS_OF,
    AdmissionDetails,
    AuditDetails,
    DeadLetterDetails,
    DeliveryDetails,
    EscalationDetails,
    OfficerActionDetails,
    QueuedDetails,
    RejectionDetails,
    ServiceDetails,
    TriagedDetails,
    details_as,
    details_of,
)
from schemas.decision import DecisionKind, Flag
from schemas.notification import NotificationChannel, NotificationKind
from schemas.vocabulary import Agency, Channel, Priority, Service
from services.common.audit_chain import next_event

DUE = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)

WIRE: list[tuple[AuditAction, AuditDetails, dict[str, object]]] = [
    (
        AuditAction.accepted,
        AdmissionDetails(channel=Channel.http, submission_id="s1", agency=Agency.police),
        {"channel": "http", "submission_id": "s1", "agency": "police"},
    ),
    (
        AuditAction.rejected,
        RejectionDetails(
            channel=Channel.kafka,
            submission_id="s2",
            reason="invalid",
            error_locations=["subject.age"],
            raw_length=10,
            raw_sha256="ab" * 32,
        ),
        {
            "channel": "kafka",
            "submission_id": "s2",
            "reason": "invalid",
            "error_locations": ["subject.age"],
            "raw_length": 10,
            "raw_sha256": "ab" * 32,
        },
    ),
    (
        AuditAction.triaged,
        TriagedDetails(
            decision_id="d1",
            kind=DecisionKind.initial,
            ruleset_version="2026.11.1",
            services=[Service.sada, Service.no_more],
            flags=[Flag.marac],
        ),
        {
            "decision_id": "d1",
            "kind": "initial",
            "ruleset_version": "2026.11.1",
            "services": ["sada", "no_more"],
            "flags": ["marac"],
        },
    ),
    (
        AuditAction.queued,
        QueuedDetails(service=Service.sada, priority=Priority.high, due_at=DUE, rule_ids=["da-victim"]),
        {"service": "sada", "priority": "high", "due_at": DUE.isoformat(), "rule_ids": ["da-victim"]},
    ),
    (
        AuditAction.claimed,
        OfficerActionDetails(service=Service.sada, action_id="a1"),
        {"service": "sada", "action_id": "a1"},
    ),
    (
        AuditAction.reassigned,
        OfficerActionDetails(service=Service.sada, action_id="a2", to=Service.sos, reason_code="wrong_service"),
        {"service": "sada", "action_id": "a2", "to": "sos", "reason_code": "wrong_service"},
    ),
    (
        AuditAction.escalated,
        EscalationDetails(service=Service.sos, priority=Priority.urgent, due_at=DUE, escalation_id="e1"),
        {"service": "sos", "priority": "urgent", "due_at": DUE.isoformat(), "escalation_id": "e1"},
    ),
    (
        AuditAction.notification_failed,
        DeliveryDetails(
            notification_id="n1",
            channel=NotificationChannel.webhook,
            service=Service.mnwg,
            kind=NotificationKind.assignment,
            attempt=2,
            failure="timeout",
        ),
        {
            "notification_id": "n1",
            "channel": "webhook",
            "service": "mnwg",
            "kind": "assignment",
            "attempt": 2,
            "failure": "timeout",
        },
    ),
    (
        AuditAction.dead_lettered,
        DeadLetterDetails(
            source_topic="triage.actions",
            partition=0,
            offset=7,
            reason="undecodable",
            error_count=1,
            raw_length=3,
            raw_sha256="cd" * 32,
        ),
        {
            "source_topic": "triage.actions",
            "partition": 0,
            "offset": 7,
            "reason": "undecodable",
            "error_count": 1,
            "raw_length": 3,
            "raw_sha256": "cd" * 32,
        },
    ),
]


def _event(action: AuditAction, details: AuditDetails) -> AuditEvent:
    event, _ = next_event(
        None,
        emitter="triage",
        chain_key="r1",
        referral_id="r1",
        action=action,
        actor_kind=ActorKind.service,
        actor="triage",
        occurred_at=DUE,
        details=details,
    )
    return event


@pytest.mark.parametrize(("action", "details", "wire"), WIRE, ids=[type(d).__name__ for _, d, _ in WIRE])
def test_details_keep_their_wire_format_and_read_back(
    action: AuditAction, details: AuditDetails, wire: dict[str, object]
) -> None:
    """The keys and JSON values emitters always wrote (the hash covers them); read back to the same model."""
    event = _event(action, details)
    assert event.details == wire
    assert event.hash == event.computed_hash()
    assert details_of(event) == details
    assert details_as(event, type(details)) == details


def test_every_action_says_which_details_it_writes() -> None:
    assert set(DETAILS_OF) == set(AuditAction)


def test_details_of_another_action_are_not_read_as_this_one() -> None:
    """An escalation is about a service but is no officer action."""
    event = _event(AuditAction.escalated, WIRE[6][1])
    assert details_as(event, OfficerActionDetails) is None
    assert details_as(event, ServiceDetails) == WIRE[6][1]


def test_details_that_fit_no_model_read_as_none_and_unknown_keys_are_ignored() -> None:
    queued = _event(AuditAction.queued, WIRE[3][1])
    broken = queued.model_copy(update={"details": {"service": "nowhere", "priority": "high"}})
    assert details_of(broken) is None
    newer = queued.model_copy(update={"details": {**queued.details, "added_later": 1}})
    assert details_of(newer) == WIRE[3][1]
