"""The referrer's new information and withdrawal, as the case agent's pure steps apply them."""

from __future__ import annotations

from datetime import timedelta

from schemas.action import ActionKind, OfficerAction
from schemas.audit import AuditAction, AuditEvent
from schemas.codec import decode
from schemas.decision import DecisionKind, TriageDecision
from schemas.update import NewInformation, ReferralUpdate, RiskChange, Withdrawal, WithdrawalReason
from schemas.vocabulary import Concern, Priority, RiskLevel, Service
from services.common import topics
from services.triage.cases.case import ItemState
from services.triage.cases.changes import case_changes
from services.triage.cases.queue import OfficerScope
from services.triage.cases.referral_state import ReferralState
from services.triage.cases.steps import on_action, on_decision, on_referral, on_update
from services.triage.cases.updates import WITHDRAWN_BY_REFERRER
from services.triage.routing.rules import decide
from services.triage.routing.ruleset import Ruleset
from tests.triage.decision_factory import due_at
from tests.triage.referral_factory import SUBMITTED_AT, build_referral

LATER = SUBMITTED_AT + timedelta(hours=2)


def decided(ruleset: Ruleset, **facts: object) -> ReferralState:
    referral = build_referral(**facts)  # type: ignore[arg-type]
    state = on_referral(None, referral).state
    step = on_decision(state, decide(referral, ruleset, referral.accepted_at, []))
    assert step.state is not None
    return step.state


def information(state: ReferralState, update_id: str = "u1", **fields: object) -> ReferralUpdate:
    assert state.case is not None
    return ReferralUpdate(
        update_id=update_id,
        referral_id=state.case.referral_id,
        partner_id="dev-partner",
        received_at=LATER,
        information=NewInformation.model_validate({"schema_version": "1", **fields}),
    )


def withdrawal(state: ReferralState, update_id: str = "w1") -> ReferralUpdate:
    assert state.case is not None
    return ReferralUpdate(
        update_id=update_id,
        referral_id=state.case.referral_id,
        partner_id="dev-partner",
        received_at=LATER,
        withdrawal=Withdrawal(schema_version="1", reason=WithdrawalReason.support_in_place),
    )


def audit_actions(sent: list) -> list[AuditAction]:
    return [decode(s.value, AuditEvent).action for s in sent if s.topic == topics.AUDIT]


def test_raised_risk_is_a_follow_up_decision_with_a_sooner_deadline(default_ruleset: Ruleset) -> None:
    """A medium DA referral whose risk goes high: SADA raised to high, due 24 h from the update, published."""
    state = decided(default_ruleset, dash_score=5, risk_level="standard")
    assert state.case is not None and state.case.items[Service.sada].priority is Priority.medium
    update = information(state, risk=RiskChange(level=RiskLevel.high))
    step = on_update(state, update, default_ruleset)
    decision = step.decision
    assert decision is not None and decision.kind is DecisionKind.follow_up and decision.caused_by == "u1"
    # High risk is MARAC level: since ruleset 2026.12.1 the marac flag also queues the MARAC coordinator.
    assert [a.service for a in decision.assignments] == [Service.marac, Service.sada]
    assert step.state is not None and step.state.case is not None
    item = step.state.case.items[Service.sada]
    assert item.priority is Priority.high and item.due_at == LATER + timedelta(hours=24)
    assert audit_actions(step.sent) == [
        AuditAction.information_added,
        AuditAction.triaged,
        AuditAction.queued,  # one per assignment: MARAC's and SADA's
        AuditAction.queued,
    ]
    published = [decode(s.value, TriageDecision) for s in step.sent if s.topic == topics.DECISIONS]
    assert published == [decision]
    again = on_update(step.state, update, default_ruleset)
    assert again.redelivered and again.state is None and again.sent == step.sent
    assert on_decision(step.state, decision).redelivered, "its echo from triage.decisions is already applied"


def test_lower_risk_changes_no_assignment_and_is_still_audited(default_ruleset: Ruleset) -> None:
    state = decided(default_ruleset, dash_score=20, risk_level="high")
    step = on_update(
        state, information(state, risk=RiskChange(level=RiskLevel.standard, dash_score=1)), default_ruleset
    )
    assert step.decision is None and [s.topic for s in step.sent] == [topics.AUDIT]
    assert audit_actions(step.sent) == [AuditAction.information_added]
    event = decode(step.sent[0].value, AuditEvent)
    assert event.details["fields"] == ["risk.dash_score", "risk.level"] and "decision_id" not in event.details
    assert step.state is not None and step.state.case is not None
    assert step.state.case.items[Service.sada].priority is Priority.high


def test_a_new_concern_adds_its_service_and_keeps_the_others(default_ruleset: Ruleset) -> None:
    state = decided(default_ruleset)
    step = on_update(state, information(state, concerns=[Concern.hate_crime]), default_ruleset)
    assert step.decision is not None and [a.service for a in step.decision.assignments] == [Service.hate_crime]
    assert step.state is not None and step.state.case is not None
    assert set(step.state.case.items) == {Service.sada, Service.hate_crime}


def test_immediate_danger_raises_every_open_item_to_urgent(default_ruleset: Ruleset) -> None:
    state = decided(default_ruleset, concerns=["domestic_abuse", "hate_crime"])
    step = on_update(state, information(state, risk=RiskChange(immediate_danger=True)), default_ruleset)
    assert step.state is not None and step.state.case is not None
    assert {i.priority for i in step.state.case.items.values()} == {Priority.urgent}


def test_a_declined_service_is_not_brought_back_by_new_information(default_ruleset: Ruleset) -> None:
    """Officers settle items; new facts never reopen what they declined."""
    state = decided(default_ruleset)
    decline = OfficerAction(
        action_id="a1",
        referral_id=state.referral.referral_id if state.referral else "",
        service=Service.sada,
        kind=ActionKind.decline,
        officer_id="o1",
        requested_at=SUBMITTED_AT,
        reason="not_eligible",
    )
    declined = on_action(state, decline, OfficerScope(officer_id="o1", services=frozenset({Service.sada})), "v", due_at)
    assert declined.state is not None
    step = on_update(
        declined.state, information(declined.state, risk=RiskChange(level=RiskLevel.high)), default_ruleset
    )
    # The raised risk is MARAC level, so the follow-up queues the MARAC coordinator (ruleset 2026.12.1), but
    # never SADA again.
    assert step.decision is not None and [a.service for a in step.decision.assignments] == [Service.marac]
    assert step.state is not None and step.state.case is not None
    assert step.state.case.items[Service.sada].state is ItemState.declined


def test_withdrawal_closes_unclaimed_items_and_marks_claimed_ones(default_ruleset: Ruleset) -> None:
    state = decided(default_ruleset, concerns=["domestic_abuse", "hate_crime"])
    assert state.case is not None
    claim = OfficerAction(
        action_id="a1",
        referral_id=state.case.referral_id,
        service=Service.sada,
        kind=ActionKind.claim,
        officer_id="o1",
        requested_at=SUBMITTED_AT,
    )
    sada = OfficerScope(officer_id="o1", services=frozenset({Service.sada}))
    claimed = on_action(state, claim, sada, "v", due_at).state
    assert claimed is not None and claimed.case is not None
    step = on_update(claimed, withdrawal(claimed), default_ruleset)
    assert step.state is not None and step.state.case is not None
    case = step.state.case
    assert case.withdrawn and case.withdrawal_reason == "support_in_place"
    hate = case.items[Service.hate_crime]
    assert hate.state is ItemState.closed and hate.final_reason == WITHDRAWN_BY_REFERRER and hate.withdrawn
    assert case.items[Service.sada].state is ItemState.claimed and case.items[Service.sada].withdrawn
    event = decode(step.sent[0].value, AuditEvent)
    assert event.action is AuditAction.withdrawn
    assert event.details == {
        "update_id": "w1",
        "reason": "support_in_place",
        "services_closed": ["hate_crime"],
        "services_marked": ["sada"],
    }
    changes = case_changes(claimed.case, case)
    assert {c.service for c in changes if c.newly_withdrawn} == {Service.sada, Service.hate_crime}
    assert [c.service for c in changes if c.state_changed] == [Service.hate_crime]
    decline = claim.model_copy(update={"action_id": "a2", "kind": ActionKind.decline, "reason": "no_capacity"})
    after = on_action(step.state, decline, sada, "v", due_at)
    assert after.outcome is not None and after.outcome.status == "applied" and after.outcome.follow_up is None
    assert on_update(step.state, withdrawal(step.state, "w2"), default_ruleset).decision is None
    more = on_update(step.state, information(step.state, "u9", risk=RiskChange(level=RiskLevel.high)), default_ruleset)
    assert more.decision is None, "a withdrawn referral is not re-decided"


def test_an_update_before_the_first_decision_waits_and_is_applied_with_it(default_ruleset: Ruleset) -> None:
    referral = build_referral(dash_score=5, risk_level="standard")
    update = ReferralUpdate(
        update_id="early",
        referral_id=referral.referral_id,
        partner_id="dev-partner",
        received_at=LATER,
        information=NewInformation(schema_version="1", risk=RiskChange(level=RiskLevel.high)),
    )
    waiting = on_update(None, update, default_ruleset)
    assert waiting.sent == [] and waiting.state is not None and waiting.state.pending_updates == [update]
    assert on_update(waiting.state, update, default_ruleset).state is None
    with_referral = on_referral(waiting.state, referral).state
    step = on_decision(with_referral, decide(referral, default_ruleset, referral.accepted_at, []), default_ruleset)
    assert step.state is not None and step.state.case is not None and step.state.pending_updates == []
    assert step.state.case.items[Service.sada].priority is Priority.high
    assert AuditAction.information_added in audit_actions(step.sent)
    assert any(s.topic == topics.DECISIONS for s in step.sent)
