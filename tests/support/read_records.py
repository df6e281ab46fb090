"""Referral states and audit events as the case table's changelog and `audit.events` carry them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from schemas.audit import AuditEvent
from schemas.codec import encode
from schemas.decision import Assignment
from schemas.vocabulary import Service
from services.common.audit_chain import ChainHead
from services.common.topics import AUDIT
from services.triage.cases.case import ItemState, apply_decision
from services.triage.cases.referral_state import ReferralState
from services.triage.cases.trail import decision_events
from services.triage.read.projection import CASES
from tests.support.read_database import Consumed
from tests.triage.decision_factory import T0, decision
from tests.triage.referral_factory import build_referral


def queued(
    reference: str, *assignments: Assignment | Service, accepted_at: datetime = T0
) -> tuple[ReferralState, list[AuditEvent]]:
    """A referral triaged into the given queues, and the audit events triage wrote for it."""
    referral = build_referral(reference=reference, accepted_at=accepted_at)
    made = decision(*assignments, referral_id=referral.referral_id, at=accepted_at)
    case, items = apply_decision(None, made, accepted_at)
    events, head = decision_events(None, made, items)
    return ReferralState(referral=referral, decisions=[made], head=head or ChainHead(), case=case), events


def with_item(state: ReferralState, service: Service, item_state: ItemState) -> ReferralState:
    """The state after the service's item moved to `item_state`."""
    assert state.case is not None
    item = state.case.items[service].model_copy(update={"state": item_state})
    return state.model_copy(
        update={"case": state.case.model_copy(update={"items": {**state.case.items, service: item}})}
    )


def referral_id_of(state: ReferralState) -> str:
    assert state.referral is not None
    return state.referral.referral_id


def case_records(states: Sequence[ReferralState], first_offset: int = 0, partition: int = 0) -> list[Consumed]:
    return [
        Consumed(CASES, partition, first_offset + n, referral_id_of(state).encode(), encode(state))
        for n, state in enumerate(states)
    ]


def audit_records(events: Sequence[AuditEvent], first_offset: int = 0, partition: int = 0) -> list[Consumed]:
    return [
        Consumed(AUDIT, partition, first_offset + n, (event.referral_id or event.chain).encode(), encode(event))
        for n, event in enumerate(events)
    ]
