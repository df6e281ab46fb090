"""A referral's case in triage: its queue items (one per service) and what has been applied to it.

Pure: no I/O, no clock reads; the time is an argument. `services.triage.cases.queue` holds the officer
actions, SLA breaches and queue views built on this state.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from schemas.decision import Assignment, Flag, TriageDecision, check_replaced_services, with_replaced_services
from schemas.vocabulary import PRIORITY_RANK, Priority, Service

Value = TypeVar("Value")


class ItemState(StrEnum):
    """Where a queue item is in its life. new and claimed are open; the rest are final."""

    new = "new"
    claimed = "claimed"
    accepted = "accepted"
    declined = "declined"
    reassigned = "reassigned"
    closed = "closed"


OPEN_STATES: frozenset[ItemState] = frozenset({ItemState.new, ItemState.claimed})
FINAL_STATES: frozenset[ItemState] = frozenset(set(ItemState) - OPEN_STATES)
SETTLED_STATES: frozenset[ItemState] = frozenset({ItemState.accepted, ItemState.closed})
"""Final states that account for a referral on their own (no open item needed beside them)."""


class _State(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class QueueItem(_State):
    """One service's assignment of a referral, as it sits in that service's duty-officer queue."""

    referral_id: str
    service: Service
    priority: Priority
    state: ItemState = ItemState.new
    due_at: AwareDatetime
    flags: list[Flag]
    rule_ids: list[str]
    reasons: list[str]
    ruleset_version: str
    decision_id: str
    """The decision that created this item (later decisions merged into it keep this id)."""
    claimed_by: str | None = None
    """Officer holding the item; for a final item, the officer who settled it."""
    created_at: AwareDatetime
    updated_at: AwareDatetime
    escalated_for_due_at: AwareDatetime | None = None
    """The due_at an SLA escalation was last emitted for, so each breach is escalated once."""
    final_reason: str | None = None
    replaces: Service | None = None
    """The first of `replaces_all` (items stored before it existed hold only this)."""
    replaces_all: list[Service] = Field(default_factory=list)
    """Every service this item stands in for, the most pressing first."""
    withdrawn: bool = False
    """The referrer withdrew the referral: an unclaimed item was closed for it; a claimed or accepted one
    stays as it is, marked, for its officer to settle."""

    @model_validator(mode="before")
    @classmethod
    def _fill_replaced(cls, data: Any) -> Any:
        return with_replaced_services(data)

    @model_validator(mode="after")
    def _replaced_agree(self) -> QueueItem:
        check_replaced_services(self.replaces, self.replaces_all)
        return self

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


ActionStatus = Literal["applied", "refused"]


class Refusal(StrEnum):
    """Why an officer action was refused, named for the reason (the value is the error code officers see).

    Only the HTTP API and the console turn a refusal into a status code (`services.triage.api.actions`).
    """

    officer_mismatch = "officer_mismatch"
    """The action was sent under another officer's identity."""
    out_of_scope = "out_of_scope"
    """The service's queue is not in the officer's scope."""
    item_not_found = "item_not_found"
    """The referral has no item in that service's queue."""
    reason_required = "reason_required"
    """A decline or close without a reason."""
    target_required = "target_required"
    """A reassignment that names no service."""
    target_same_service = "target_same_service"
    """A reassignment to the service the item is already in."""
    item_final = "item_final"
    """The item is already accepted, declined, reassigned or closed."""
    claimed_by_another = "claimed_by_another"
    """The item is claimed by another officer (only a manager may settle it)."""


class ActionRecord(_State):
    """What an officer action came to, kept so a redelivered action gets the same answer."""

    status: ActionStatus
    refusal: Refusal | None = None
    """Why it was refused; None when applied."""
    detail: str | None = None
    follow_up: TriageDecision | None = None
    """Kept so a redelivery re-publishes it (it may have been lost before it reached the topic)."""

    @model_validator(mode="before")
    @classmethod
    def _from_stored(cls, data: Any) -> Any:
        """Records stored before `refusal` existed carry `http_status` and the code as `error`."""
        if isinstance(data, dict) and ("http_status" in data or "error" in data):
            data = {k: v for k, v in data.items() if k not in ("http_status", "error")} | {
                "refusal": data.get("refusal", data.get("error"))
            }
        return data


class Case(_State):
    """Everything triage keeps about one referral (the value of its table, keyed by referral_id)."""

    referral_id: str
    source_agency: str
    concerns: list[str]
    flags: list[Flag] = Field(default_factory=list)
    applied_decision_ids: list[str] = Field(default_factory=list)
    items: dict[Service, QueueItem] = Field(default_factory=dict)
    actions: dict[str, ActionRecord] = Field(default_factory=dict)
    """action_id -> its recorded outcome (applied and refused alike)."""
    withdrawal_reason: str | None = None
    """The referrer's reason code once it withdrew the referral (`schemas.update.WithdrawalReason`)."""

    @property
    def withdrawn(self) -> bool:
        return self.withdrawal_reason is not None

    @property
    def applied_action_ids(self) -> list[str]:
        return list(self.actions)

    def open_items(self) -> list[QueueItem]:
        return [item for item in self.items.values() if item.is_open]


def union(first: Iterable[Value], second: Iterable[Value]) -> list[Value]:
    """The values of both, first-seen order, no repeats."""
    return list(dict.fromkeys([*first, *second]))


def union_flags(first: Iterable[Flag], second: Iterable[Flag]) -> list[Flag]:
    return list(dict.fromkeys([*first, *second]))


def new_case(decision: TriageDecision) -> Case:
    return Case(
        referral_id=decision.referral_id,
        source_agency=decision.source_agency,
        concerns=list(decision.concerns),
    )


def apply_decision(case: Case | None, decision: TriageDecision, now: datetime) -> tuple[Case, list[QueueItem]]:
    """Put a decision's assignments into the case's queues; returns the case and the items it changed.

    Idempotent by decision_id: a decision already applied returns `(case, [])`. A service whose item is
    open gets the assignment merged in (state kept, priority raised if higher, the earlier deadline,
    rule ids, reasons and flags united); a service with no item or a final one gets a fresh item.
    """
    if case is None:
        case = new_case(decision)
    if decision.referral_id != case.referral_id:
        raise ValueError("decision belongs to another referral")
    if decision.decision_id in case.applied_decision_ids:
        return case, []

    items = dict(case.items)
    changed: dict[Service, QueueItem] = {}
    for assignment in decision.assignments:
        existing = items.get(assignment.service)
        if existing is not None and existing.is_open:
            item = _merge(existing, assignment, decision, now)
        else:
            item = _fresh_item(assignment, decision, now)
        if item != existing:
            items[assignment.service] = item
            changed[assignment.service] = item

    case = case.model_copy(
        update={
            "flags": union_flags(case.flags, decision.flags),
            "applied_decision_ids": [*case.applied_decision_ids, decision.decision_id],
            "items": items,
        }
    )
    return case, list(changed.values())


def _fresh_item(assignment: Assignment, decision: TriageDecision, now: datetime) -> QueueItem:
    return QueueItem(
        referral_id=decision.referral_id,
        service=assignment.service,
        priority=assignment.priority,
        due_at=assignment.due_at,
        flags=list(decision.flags),
        rule_ids=list(assignment.rule_ids),
        reasons=list(assignment.reasons),
        ruleset_version=decision.ruleset_version,
        decision_id=decision.decision_id,
        created_at=now,
        updated_at=now,
        replaces=assignment.replaces,
        replaces_all=list(assignment.replaces_all),
    )


def _merge(existing: QueueItem, assignment: Assignment, decision: TriageDecision, now: datetime) -> QueueItem:
    priority = existing.priority
    if PRIORITY_RANK[assignment.priority] < PRIORITY_RANK[priority]:
        priority = assignment.priority
    merged = existing.model_copy(
        update={
            "priority": priority,
            "due_at": min(existing.due_at, assignment.due_at),
            "flags": union_flags(existing.flags, decision.flags),
            "rule_ids": union(existing.rule_ids, assignment.rule_ids),
            "reasons": union(existing.reasons, assignment.reasons),
        }
    )
    replaced = union(existing.replaces_all, assignment.replaces_all)
    merged = merged.model_copy(update={"replaces": replaced[0] if replaced else None, "replaces_all": replaced})
    if merged == existing:
        return existing
    return merged.model_copy(update={"updated_at": now})
