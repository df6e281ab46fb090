"""What a referrer's update does to a referral's case (pure): new information re-decided as a follow-up
that only adds services or raises priorities, and a withdrawal that closes what nobody has taken on.

No I/O and no clock reads: the update's receipt time is the time.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from schemas.decision import DecisionKind, TriageDecision
from schemas.referral import Referral
from schemas.submission import ReferralSubmission
from schemas.update import NewInformation, ReferralUpdate, Withdrawal
from schemas.vocabulary import PRIORITY_RANK, Service
from services.triage.cases.case import Case, ItemState
from services.triage.routing.rules import decide
from services.triage.routing.ruleset import Ruleset

WITHDRAWN_BY_REFERRER = "withdrawn_by_referrer"
"""The `final_reason` of an item closed because its referrer withdrew the referral."""


def follow_up_decision_id(referral_id: str, update_id: str) -> str:
    """The deterministic id of the follow-up decision an update leads to (a redelivery gives the same)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sosafe:decision:{referral_id}:update:{update_id}"))


def information_fields(information: NewInformation) -> list[str]:
    """The names of what an update carried (for the audit trail: names, never values)."""
    fields = [f"risk.{name}" for name in sorted(information.risk.model_fields_set)] if information.risk else []
    fields += [name for name in ("concerns",) if information.concerns]
    for name in ("household", "custody", "safe_to_contact", "narrative_addendum"):
        if getattr(information, name) is not None:
            fields.append(name)
    return fields


def with_information(referral: Referral, updates: Iterable[NewInformation]) -> Referral:
    """The referral as its routing facts stand after the updates, in order: risk fields, household,
    custody and contact safety replaced where given, concerns added. The narrative is left as it was
    (addenda are kept with their updates)."""
    submission = referral.submission
    for information in updates:
        changes: dict[str, object] = {}
        if information.risk is not None:
            changes["risk"] = submission.risk.model_copy(update=information.risk.model_dump(exclude_none=True))
        if information.concerns:
            changes["concerns"] = list(dict.fromkeys([*submission.concerns, *information.concerns]))
        if information.household is not None:
            changes["household"] = information.household
        if information.custody is not None:
            changes["custody"] = information.custody
        if information.safe_to_contact is not None:
            changes["subject"] = submission.subject.model_copy(update={"safe_to_contact": information.safe_to_contact})
        submission = ReferralSubmission.model_validate({**dict(submission), **changes})
    return referral.model_copy(update={"submission": submission})


def follow_up_decision(
    case: Case, referral: Referral, update: ReferralUpdate, ruleset: Ruleset
) -> TriageDecision | None:
    """Re-decide `referral` (its facts with the update applied) as of the update's receipt and keep what it
    adds to the case: a service with no item yet, or a higher priority for an open item (its deadline
    recomputed from now; the earlier one stands when sooner). Items officers settled, and lower
    priorities, are left alone: only officers lower or remove. None when nothing would change, and for a
    withdrawn referral.

    The subject's earlier referrals are not consulted (they live with the decide agent): the flags the
    initial decision raised from them stay on the case's items."""
    if case.withdrawn:
        return None
    fresh = decide(referral, ruleset, update.received_at, ())
    kept = []
    for assignment in fresh.assignments:
        item = case.items.get(assignment.service)
        if item is None or (item.is_open and PRIORITY_RANK[assignment.priority] < PRIORITY_RANK[item.priority]):
            kept.append(assignment)
    if not kept:
        return None
    return fresh.model_copy(
        update={
            "decision_id": follow_up_decision_id(case.referral_id, update.update_id),
            "kind": DecisionKind.follow_up,
            "assignments": kept,
            "caused_by": update.update_id,
        }
    )


def withdraw(case: Case, withdrawal: Withdrawal, update: ReferralUpdate) -> tuple[Case, list[Service], list[Service]]:
    """The case withdrawn: each unclaimed item closed as `withdrawn_by_referrer`; each claimed or accepted one
    kept as it is and marked withdrawn (its officer settles it). Returns the case, the services whose items
    were closed and those whose items were marked. A second withdrawal changes nothing."""
    if case.withdrawn:
        return case, [], []
    items = dict(case.items)
    closed: list[Service] = []
    marked: list[Service] = []
    for service, item in case.items.items():
        if item.state is ItemState.new:
            items[service] = item.model_copy(
                update={
                    "state": ItemState.closed,
                    "final_reason": WITHDRAWN_BY_REFERRER,
                    "withdrawn": True,
                    "updated_at": update.received_at,
                }
            )
            closed.append(service)
        elif item.state in (ItemState.claimed, ItemState.accepted):
            items[service] = item.model_copy(update={"withdrawn": True, "updated_at": update.received_at})
            marked.append(service)
    withdrawn = case.model_copy(update={"items": items, "withdrawal_reason": withdrawal.reason.value})
    return withdrawn, closed, marked
