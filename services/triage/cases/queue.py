"""The duty-officer queues' pure core: officer actions, SLA breaches and queue views.

No I/O and no clock reads: the time is an argument. The per-referral state these functions take and
return (`Case`, `QueueItem`) and `apply_decision` live in `services.triage.cases.case`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.action import ActionKind, OfficerAction
from schemas.decision import Assignment, DecisionKind, TriageDecision
from schemas.escalation import Escalation
from schemas.vocabulary import PRIORITY_RANK, Service
from services.triage.cases.case import (
    FINAL_STATES,
    OPEN_STATES,
    ActionRecord,
    ActionStatus,
    Case,
    ItemState,
    QueueItem,
    Refusal,
    apply_decision,
)
from services.triage.routing.deadlines import DueAt

REASSIGN_RULE_ID = "officer.reassign"
DECLINE_FALLBACK_RULE_ID = "officer.decline_fallback"
OFFICER_REASON_CAP = 200
"""Officer-written text copied into a follow-up decision's reason is cut to this many characters."""
REFUSED_ACTIONS_KEPT = 50
"""A case keeps the outcomes of at most this many refused actions (the oldest go first); applied ones are
all kept. A redelivered refused action whose record was dropped is checked again and refused again: the
refusals kept are about the request itself or about an item's state, which only ever moves forward."""
UNRECORDED_REFUSALS: frozenset[Refusal] = frozenset({Refusal.officer_mismatch, Refusal.out_of_scope})
"""Refusals not stored in the case: the sender had no business with this queue, so what they send must not
grow the referral's state. A redelivery of one is checked again, and refused again while the officer's
scope is unchanged. (The HTTP API refuses these, and an action on a referral with no item in the queue,
before publishing anything.)"""

_FINAL_TRANSITIONS: dict[ActionKind, ItemState] = {
    ActionKind.accept: ItemState.accepted,
    ActionKind.decline: ItemState.declined,
    ActionKind.reassign: ItemState.reassigned,
    ActionKind.close: ItemState.closed,
}


class OfficerScope(BaseModel):
    """Who is acting: an officer sees and acts on the services in their scope; a manager on all."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    officer_id: str
    services: frozenset[Service] = Field(default_factory=frozenset)
    manager: bool = False

    def covers(self, service: Service) -> bool:
        return self.manager or service in self.services


class ActionOutcome(BaseModel):
    """The answer to an officer action: for the HTTP caller, the table and the topics."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    action_id: str
    status: ActionStatus
    refusal: Refusal | None = None
    """Why the action was refused, e.g. `Refusal.claimed_by_another`; None when applied."""
    detail: str | None = None
    """Plain English for the officer; never personal data."""
    case: Case
    item: QueueItem | None = None
    """The item acted on, as the action left it (None when there is no such item)."""
    follow_up: TriageDecision | None = None
    """A reassignment or decline-fallback decision to publish on `triage.decisions` (already applied)."""
    follow_up_items: list[QueueItem] = Field(default_factory=list)
    redelivered: bool = False
    """True when the action_id was seen before and this is its recorded outcome, nothing changed."""

    @property
    def error(self) -> str | None:
        """The refusal's code (for logs); None when applied."""
        return None if self.refusal is None else self.refusal.value


@dataclass(frozen=True)
class _Refused:
    refusal: Refusal
    detail: str


def follow_up_decision_id(referral_id: str, action_id: str) -> str:
    """The deterministic id of the decision an officer action leads to (redeliveries give the same)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sosafe:decision:{referral_id}:action:{action_id}"))


def apply_action(
    case: Case,
    action: OfficerAction,
    officer: OfficerScope,
    now: datetime,
    ruleset_version: str,
    due_at: DueAt,
) -> ActionOutcome:
    """Apply one officer action to a referral's case, or refuse it.

    A redelivered action (same action_id) returns its recorded outcome, with the same follow-up
    decision so a publish lost before a crash is made good, and changes nothing.
    """
    if action.referral_id != case.referral_id:
        raise ValueError("action belongs to another referral")
    record = case.actions.get(action.action_id)
    if record is not None:
        return ActionOutcome(
            action_id=action.action_id,
            status=record.status,
            refusal=record.refusal,
            detail=record.detail,
            case=case,
            item=case.items.get(action.service),
            follow_up=record.follow_up,
            redelivered=True,
        )

    item = case.items.get(action.service)
    checked = _check(action, officer, item)
    if isinstance(checked, _Refused):
        refused = checked
        record = ActionRecord(status="refused", refusal=refused.refusal, detail=refused.detail)
        return ActionOutcome(
            action_id=action.action_id,
            status="refused",
            refusal=refused.refusal,
            detail=refused.detail,
            case=case if refused.refusal in UNRECORDED_REFUSALS else _record_refusal(case, action.action_id, record),
            item=item,
        )

    changed = _transition(checked, action, officer, now)
    case = case.model_copy(update={"items": {**case.items, changed.service: changed}})
    follow_up = _follow_up(case, changed, action, now, ruleset_version, due_at)
    follow_up_items: list[QueueItem] = []
    if follow_up is not None:
        case, follow_up_items = apply_decision(case, follow_up, now)
    record = ActionRecord(status="applied", follow_up=follow_up)
    return ActionOutcome(
        action_id=action.action_id,
        status="applied",
        case=_record(case, action.action_id, record),
        item=changed,
        follow_up=follow_up,
        follow_up_items=follow_up_items,
    )


def _record(case: Case, action_id: str, record: ActionRecord) -> Case:
    return case.model_copy(update={"actions": {**case.actions, action_id: record}})


def _record_refusal(case: Case, action_id: str, record: ActionRecord) -> Case:
    """The case with a refused action's record, keeping only the newest `REFUSED_ACTIONS_KEPT` refusals."""
    actions = {**case.actions, action_id: record}
    refused = [key for key, kept in actions.items() if kept.status == "refused"]
    for key in refused[: max(0, len(refused) - REFUSED_ACTIONS_KEPT)]:
        del actions[key]
    return case.model_copy(update={"actions": actions})


def _check(action: OfficerAction, officer: OfficerScope, item: QueueItem | None) -> QueueItem | _Refused:
    """The item to act on, or why not, checked in order: who, which item, the request, the state."""
    if officer.officer_id != action.officer_id:
        return _Refused(Refusal.officer_mismatch, "the action was sent under another officer's identity")
    if not officer.covers(action.service):
        return _Refused(Refusal.out_of_scope, f"the {action.service} queue is outside your scope")
    if item is None:
        return _Refused(Refusal.item_not_found, f"this referral has no item in the {action.service} queue")
    needs_reason = action.kind in (ActionKind.decline, ActionKind.close)
    if needs_reason and not (action.reason or "").strip():
        return _Refused(Refusal.reason_required, f"{action.kind} needs a reason")
    if action.kind is ActionKind.reassign:
        if action.to is None:
            return _Refused(Refusal.target_required, "reassign needs the service to reassign to")
        if action.to == action.service:
            return _Refused(Refusal.target_same_service, "reassign needs a service other than this one")
    if item.state in FINAL_STATES:
        return _Refused(Refusal.item_final, f"the item is already {item.state} and can no longer change")
    claimed_by_another = item.state is ItemState.claimed and item.claimed_by != officer.officer_id
    if claimed_by_another and (action.kind is ActionKind.claim or not officer.manager):
        return _Refused(Refusal.claimed_by_another, "the item is claimed by another officer")
    return item


def _transition(item: QueueItem, action: OfficerAction, officer: OfficerScope, now: datetime) -> QueueItem:
    """The item after an allowed action (a claim of one's own claim changes nothing)."""
    if action.kind is ActionKind.claim:
        if item.state is ItemState.claimed:
            return item
        return item.model_copy(update={"state": ItemState.claimed, "claimed_by": officer.officer_id, "updated_at": now})
    reason = (action.reason or "").strip() or None
    return item.model_copy(
        update={
            "state": _FINAL_TRANSITIONS[action.kind],
            "claimed_by": officer.officer_id,
            "final_reason": reason,
            "updated_at": now,
        }
    )


def _follow_up(
    case: Case,
    item: QueueItem,
    action: OfficerAction,
    now: datetime,
    ruleset_version: str,
    due_at: DueAt,
) -> TriageDecision | None:
    """The decision a reassignment, or a decline that leaves nothing open, leads to (none for a referral
    its referrer withdrew: nothing is left for manual review to take on)."""
    officer_reason = _cap(action.reason)
    if item.state is ItemState.reassigned and action.to is not None:
        kind, rule_id, service, replaces = DecisionKind.reassignment, REASSIGN_RULE_ID, action.to, None
        reason = f"Reassigned from {item.service} by a duty officer: {officer_reason}"
    elif item.state is ItemState.declined and not case.open_items() and not case.withdrawn:
        kind, rule_id = DecisionKind.decline_fallback, DECLINE_FALLBACK_RULE_ID
        service, replaces = Service.manual_review, item.service
        reason = f"Declined by {item.service} and no other service holds it open: {officer_reason}"
    else:
        return None
    assignment = Assignment(
        service=service,
        priority=item.priority,
        due_at=due_at(item.priority, now),
        rule_ids=[rule_id],
        reasons=[reason],
        replaces=replaces,
    )
    return TriageDecision(
        decision_id=follow_up_decision_id(case.referral_id, action.action_id),
        referral_id=case.referral_id,
        kind=kind,
        decided_at=now,
        ruleset_version=ruleset_version,
        flags=list(item.flags),
        assignments=[assignment],
        source_agency=case.source_agency,
        concerns=list(case.concerns),
        caused_by=action.action_id,
    )


def _cap(reason: str | None) -> str:
    text = " ".join((reason or "").split())
    if not text:
        return "no reason given"
    if len(text) > OFFICER_REASON_CAP:
        return text[: OFFICER_REASON_CAP - 1] + "…"
    return text


def escalation_id(referral_id: str, service: Service, due_at: datetime) -> str:
    stamp = due_at.astimezone(UTC).isoformat()
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sosafe:escalation:{referral_id}:{service}:{stamp}"))


def find_breaches(case: Case, now: datetime) -> tuple[Case, list[Escalation]]:
    """Open items past their deadline not yet escalated for that deadline: one escalation each.

    The case records `escalated_for_due_at`, so the next tick stays quiet until the deadline moves.
    """
    escalations: list[Escalation] = []
    items = dict(case.items)
    for service, item in case.items.items():
        if not item.is_open or item.due_at >= now or item.escalated_for_due_at == item.due_at:
            continue
        escalations.append(
            Escalation(
                escalation_id=escalation_id(case.referral_id, service, item.due_at),
                referral_id=case.referral_id,
                service=service,
                priority=item.priority,
                due_at=item.due_at,
                detected_at=now,
                state=item.state.value,
            )
        )
        items[service] = item.model_copy(update={"escalated_for_due_at": item.due_at})
    if not escalations:
        return case, []
    return case.model_copy(update={"items": items}), escalations


def open_and_overdue(
    cases: Iterable[Case], services: Iterable[Service], now: datetime
) -> dict[Service, tuple[int, int]]:
    """Per asked-for service: (open items, open items past their deadline)."""
    counts = {service: [0, 0] for service in services}
    for case in cases:
        for service, item in case.items.items():
            if service not in counts or not item.is_open:
                continue
            counts[service][0] += 1
            if item.due_at < now:
                counts[service][1] += 1
    return {service: (opened, overdue) for service, (opened, overdue) in counts.items()}


def queue_view(
    cases: Iterable[Case], service: Service, state_filter: Literal["open", "all"] = "open"
) -> list[QueueItem]:
    """One service's queue, most pressing first: priority, then due time (then referral id)."""
    items = [
        item
        for case in cases
        if (item := case.items.get(service)) is not None and (state_filter == "all" or item.state in OPEN_STATES)
    ]
    return sorted(items, key=lambda item: (PRIORITY_RANK[item.priority], item.due_at, item.referral_id))
