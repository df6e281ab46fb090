"""Builds `TriageDecision`s and `OfficerAction`s for triage's unit tests, without the routing engine."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from schemas.action import ActionKind, OfficerAction
from schemas.decision import Assignment, DecisionKind, Flag, TriageDecision
from schemas.vocabulary import Priority, Service

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
DEADLINES: dict[Priority, timedelta] = {
    Priority.urgent: timedelta(hours=4),
    Priority.high: timedelta(hours=24),
    Priority.medium: timedelta(hours=72),
    Priority.standard: timedelta(hours=120),
}


def due_at(priority: Priority, start: datetime) -> datetime:
    """Wall-clock deadlines (`DEADLINES`), as `Ruleset.due_at` gives them for a plain ruleset."""
    return start + DEADLINES[priority]


RULESET = "test-ruleset-1"
REFERRAL_ID = "5b0f3d0e-7a43-5c8e-9a0b-000000000001"


def assignment(
    service: Service,
    priority: Priority = Priority.medium,
    *,
    at: datetime = T0,
    rule_ids: list[str] | None = None,
    reasons: list[str] | None = None,
    replaces: Service | None = None,
    replaces_all: list[Service] | None = None,
) -> Assignment:
    return Assignment(
        service=service,
        priority=priority,
        due_at=at + DEADLINES[priority],
        rule_ids=rule_ids or [f"test.{service}"],
        reasons=reasons or [f"test rule routed it to {service}"],
        replaces=replaces,
        replaces_all=replaces_all or [],
    )


def decision(
    *assignments: Assignment | Service,
    referral_id: str = REFERRAL_ID,
    decision_id: str | None = None,
    kind: DecisionKind = DecisionKind.initial,
    flags: list[Flag] | None = None,
    at: datetime = T0,
) -> TriageDecision:
    """A decision with the given assignments (a bare service means a medium-priority assignment)."""
    built = [a if isinstance(a, Assignment) else assignment(a, at=at) for a in assignments]
    return TriageDecision(
        decision_id=decision_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"test:{referral_id}:{kind}")),
        referral_id=referral_id,
        kind=kind,
        decided_at=at,
        ruleset_version=RULESET,
        flags=flags or [],
        assignments=built,
        source_agency="police",
        concerns=["domestic_abuse"],
    )


def action(
    kind: ActionKind,
    service: Service,
    officer_id: str,
    *,
    action_id: str | None = None,
    reason: str | None = None,
    to: Service | None = None,
    referral_id: str = REFERRAL_ID,
    at: datetime = T0,
) -> OfficerAction:
    return OfficerAction(
        action_id=action_id or str(uuid.uuid4()),
        referral_id=referral_id,
        service=service,
        kind=kind,
        officer_id=officer_id,
        requested_at=at,
        reason=reason,
        to=to,
    )
