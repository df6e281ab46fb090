"""What the referring partner is told when a referral's case changes (pure): `ReferralOutcome` events.

`outcomes_for` is the one mapping from a case change to outcomes: every step that changes queue items
(a decision, an officer action, a withdrawal) calls it with the case before and after. It compares the
items service by service, so a new kind of change is told as soon as it changes an item's state.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from schemas.outcome import OutcomeKind, ReferralOutcome, WithdrawnState
from schemas.vocabulary import Service
from services.triage.cases.case import Case, ItemState, QueueItem
from services.triage.cases.trail import reason_code

REASONED = frozenset({OutcomeKind.declined, OutcomeKind.closed, OutcomeKind.withdrawn})
"""Outcomes that carry the item's reason, as a code (never the officer's text)."""


def outcome_id(referral_id: str, step: str, service: Service, kind: OutcomeKind) -> str:
    """Derived from the step: a redelivered step yields the same id (receivers de-duplicate on it)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sosafe:outcome:{referral_id}:{step}:{service}:{kind}"))


def _kind(before: QueueItem | None, after: QueueItem) -> OutcomeKind | None:
    """What changed for the referrer, or None when nothing it is told about did. An item the referrer's
    withdrawal closed or marked is told as `withdrawn` (not `closed`), once."""
    if after.withdrawn and (before is None or not before.withdrawn):
        return OutcomeKind.withdrawn
    if after.state is ItemState.new:
        if before is None or before.state is not ItemState.new:
            return OutcomeKind.triaged  # a fresh item (a final one replaced by a new assignment too)
        if (before.priority, before.due_at) != (after.priority, after.due_at):
            return OutcomeKind.triaged  # a later decision raised its priority or brought its deadline forward
        return None
    if before is not None and before.state is after.state:
        return None
    return OutcomeKind(after.state.value)


def _reason(case: Case, item: QueueItem, kind: OutcomeKind) -> str | None:
    """The code a reasoned outcome carries: the referrer's own withdrawal reason (a `WithdrawalReason`
    code) for `withdrawn`, the officer's reason as a code otherwise."""
    if kind is OutcomeKind.withdrawn:
        return case.withdrawal_reason
    return reason_code(item.final_reason) if kind in REASONED else None


def outcomes_for(
    before: Case | None,
    after: Case,
    *,
    partner_id: str,
    step: str,
    occurred_at: datetime,
    first_seq: int,
    reassigned_to: Service | None = None,
) -> list[ReferralOutcome]:
    """The outcomes of one step, numbered from `first_seq`: items that changed state first (what the step
    did), then the items it created (what followed from it, as a reassignment's new assignment)."""
    previous = before.items if before is not None else {}
    changed: list[tuple[OutcomeKind, QueueItem]] = []
    created: list[tuple[OutcomeKind, QueueItem]] = []
    for service in sorted(after.items):
        item = after.items[service]
        kind = _kind(previous.get(service), item)
        if kind is not None:
            (created if kind is OutcomeKind.triaged else changed).append((kind, item))
    outcomes = []
    for seq, (kind, item) in enumerate([*changed, *created], start=first_seq):
        outcomes.append(
            ReferralOutcome(
                outcome_id=outcome_id(after.referral_id, step, item.service, kind),
                referral_id=after.referral_id,
                partner_id=partner_id,
                seq=seq,
                kind=kind,
                service=item.service,
                priority=item.priority,
                due_at=item.due_at,
                occurred_at=occurred_at,
                reason_code=_reason(after, item, kind),
                to=reassigned_to if kind is OutcomeKind.reassigned else None,
                item_state=WithdrawnState(item.state.value) if kind is OutcomeKind.withdrawn else None,
            )
        )
    return outcomes
