"""Triage's audit events and the per-referral trail it serves (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from schemas.action import ActionKind, OfficerAction
from schemas.audit import EMITTERS, ActorKind, AuditAction, AuditEvent
from schemas.audit_details import (
    AuditDetails,
    EscalationDetails,
    InformationDetails,
    OfficerActionDetails,
    QueuedDetails,
    TriagedDetails,
    WithdrawalDetails,
)
from schemas.decision import TriageDecision
from schemas.escalation import Escalation
from schemas.update import ReferralUpdate
from schemas.vocabulary import Service
from services.common.audit_chain import ChainHead, next_event
from services.triage.cases.case import QueueItem
from services.triage.cases.queue import ActionOutcome

MAX_TRAIL = 500

ACTION_AUDIT = {
    ActionKind.claim: AuditAction.claimed,
    ActionKind.accept: AuditAction.item_accepted,
    ActionKind.decline: AuditAction.declined,
    ActionKind.reassign: AuditAction.reassigned,
    ActionKind.close: AuditAction.closed,
}

REASON_CODES = frozenset(
    {
        "not_eligible",
        "out_of_area",
        "already_supported",
        "declined_by_person",
        "insufficient_information",
        "no_capacity",
        "no_further_action",
        "duplicate",
        "referred_elsewhere",
        "not_contactable",
        "wrong_service",
        "other",
    }
)
"""Reasons counted in reports. Officer text outside this list is counted as `other` and never audited."""

EMITTER_ORDER = {emitter: rank for rank, emitter in enumerate(EMITTERS)}


def reason_code(reason: str | None) -> str | None:
    if reason is None:
        return None
    code = reason.strip().lower().replace(" ", "_").split(":", 1)[0]
    return code if code in REASON_CODES else "other"


def _event(
    head: ChainHead | None,
    referral_id: str,
    action: AuditAction,
    actor_kind: ActorKind,
    actor: str,
    occurred_at: datetime,
    details: AuditDetails,
) -> tuple[AuditEvent, ChainHead]:
    return next_event(
        head,
        emitter="triage",
        chain_key=referral_id,
        referral_id=referral_id,
        action=action,
        actor_kind=actor_kind,
        actor=actor,
        occurred_at=occurred_at,
        details=details,
    )


def decision_events(
    head: ChainHead | None, decision: TriageDecision, items: Iterable[QueueItem]
) -> tuple[list[AuditEvent], ChainHead | None]:
    """`triaged`, then `queued` for each item the decision created or changed."""
    events = []
    event, head = _event(
        head,
        decision.referral_id,
        AuditAction.triaged,
        ActorKind.service,
        "triage",
        decision.decided_at,
        TriagedDetails(
            decision_id=decision.decision_id,
            kind=decision.kind,
            ruleset_version=decision.ruleset_version,
            services=[a.service for a in decision.assignments],
            flags=list(decision.flags),
        ),
    )
    events.append(event)
    for item in items:
        event, head = _event(
            head,
            decision.referral_id,
            AuditAction.queued,
            ActorKind.service,
            "triage",
            decision.decided_at,
            QueuedDetails(
                service=item.service, priority=item.priority, due_at=item.due_at, rule_ids=list(item.rule_ids)
            ),
        )
        events.append(event)
    return events, head


def action_events(
    head: ChainHead | None, action: OfficerAction, outcome: ActionOutcome
) -> tuple[list[AuditEvent], ChainHead | None]:
    """The officer's step, then the follow-up decision's events if the action led to one."""
    if outcome.status != "applied" or outcome.redelivered:
        return [], head
    details = OfficerActionDetails(
        service=action.service, action_id=action.action_id, to=action.to, reason_code=reason_code(action.reason)
    )
    event, head = _event(
        head,
        action.referral_id,
        ACTION_AUDIT[action.kind],
        ActorKind.officer,
        action.officer_id,
        action.requested_at,
        details,
    )
    events = [event]
    if outcome.follow_up is not None:
        more, head = decision_events(head, outcome.follow_up, outcome.follow_up_items)
        events.extend(more)
    return events, head


def escalation_event(head: ChainHead | None, escalation: Escalation) -> tuple[AuditEvent, ChainHead]:
    return _event(
        head,
        escalation.referral_id,
        AuditAction.escalated,
        ActorKind.service,
        "triage",
        escalation.detected_at,
        EscalationDetails(
            service=escalation.service,
            priority=escalation.priority,
            due_at=escalation.due_at,
            escalation_id=escalation.escalation_id,
        ),
    )


def information_event(
    head: ChainHead | None, update: ReferralUpdate, fields: list[str], follow_up: TriageDecision | None
) -> tuple[AuditEvent, ChainHead]:
    """`information_added`: which fields the referrer sent (never their values) and the follow-up, if any."""
    return _event(
        head,
        update.referral_id,
        AuditAction.information_added,
        ActorKind.partner,
        update.partner_id,
        update.received_at,
        InformationDetails(
            update_id=update.update_id,
            fields=fields,
            decision_id=follow_up.decision_id if follow_up else None,
            services=[a.service for a in follow_up.assignments] if follow_up else None,
        ),
    )


def withdrawal_event(
    head: ChainHead | None, update: ReferralUpdate, reason: str, closed: list[Service], marked: list[Service]
) -> tuple[AuditEvent, ChainHead]:
    """`withdrawn`: the referrer's reason code and what became of each item."""
    return _event(
        head,
        update.referral_id,
        AuditAction.withdrawn,
        ActorKind.partner,
        update.partner_id,
        update.received_at,
        WithdrawalDetails(update_id=update.update_id, reason=reason, services_closed=closed, services_marked=marked),
    )


class Trail(BaseModel):
    """A referral's audit events from every service, each chain position once, in the order they happened."""

    model_config = ConfigDict(frozen=True)

    events: list[AuditEvent] = Field(default_factory=list)

    @classmethod
    def of(cls, events: Iterable[AuditEvent]) -> Trail:
        """The trail of `events`, in any order and with repeats (redelivered events)."""
        unique = {(e.chain, e.seq): e for e in events}
        ordered = sorted(unique.values(), key=lambda e: (e.occurred_at, EMITTER_ORDER[e.emitted_by], e.chain, e.seq))
        return cls(events=ordered[-MAX_TRAIL:])
