"""What the referring partner is told: one `ReferralOutcome` per change of an assignment, numbered per referral,
with codes for reasons and nothing about officers or the person."""

from __future__ import annotations

from datetime import timedelta

from schemas.action import ActionKind, OfficerAction
from schemas.codec import decode
from schemas.outcome import OutcomeKind, ReferralOutcome, WithdrawnState
from schemas.update import NewInformation, ReferralUpdate, RiskChange, Withdrawal, WithdrawalReason
from schemas.vocabulary import Priority, RiskLevel, Service
from services.triage.cases.queue import OfficerScope
from services.triage.cases.referral_state import ReferralState
from services.triage.cases.steps import Step, on_action, on_decision, on_referral, on_update
from services.triage.routing.rules import decide
from tests.triage.decision_factory import due_at
from tests.triage.referral_factory import build_referral

MANAGER = OfficerScope(officer_id="m1", manager=True)


def told(step: Step) -> list[ReferralOutcome]:
    return [decode(s.value, ReferralOutcome) for s in step.sent if s.topic == "referrals.outcomes"]


def act(state: ReferralState, n: int, service: Service, kind: ActionKind, **fields: object) -> Step:
    assert state.referral is not None
    action = OfficerAction(
        action_id=f"a{n}",
        referral_id=state.referral.referral_id,
        service=service,
        kind=kind,
        officer_id="m1",
        requested_at=state.referral.accepted_at + timedelta(minutes=n),
        **fields,  # type: ignore[arg-type]
    )
    return on_action(state, action, MANAGER, "v", due_at)


def test_a_referral_is_told_triage_claim_decline_with_a_code_and_the_fallback_in_order(default_ruleset) -> None:
    # Below MARAC level (DASH under 14, medium risk), so SADA's item is the only one and its decline falls
    # back to manual review; at MARAC level the coordinator's open item would stand instead.
    referral = build_referral(concerns=["domestic_abuse"], dash_score=10, risk_level="medium")
    received = on_referral(None, referral)
    assert received.state is not None and told(received) == []
    decision = decide(referral, default_ruleset, referral.accepted_at, [])
    triaged = on_decision(received.state, decision)
    assert triaged.state is not None
    first = told(triaged)
    assert [(o.kind, o.service, o.priority, o.due_at) for o in first] == [
        (OutcomeKind.triaged, a.service, a.priority, a.due_at)
        for a in sorted(decision.assignments, key=lambda a: a.service)
    ]
    assert all(o.partner_id == referral.partner_id and o.occurred_at == decision.decided_at for o in first)
    service = decision.assignments[0].service
    claimed = act(triaged.state, 1, service, ActionKind.claim)
    assert claimed.state is not None
    declined = act(claimed.state, 2, service, ActionKind.decline, reason="no_capacity: Sam Example is on our list")
    later = told(claimed) + told(declined)
    assert [(o.kind, o.service, o.reason_code) for o in later] == [
        (OutcomeKind.claimed, service, None),
        (OutcomeKind.declined, service, "no_capacity"),
        (OutcomeKind.triaged, Service.manual_review, None),
    ]
    assert [o.seq for o in first + later] == list(range(1, len(first) + len(later) + 1))
    wire = b"".join(s.value.encode() for s in declined.sent if s.topic == "referrals.outcomes")
    assert b"Sam" not in wire and b"m1" not in wire, "no officer id, no free text"


def test_a_reassignment_names_the_service_it_went_to_and_its_new_assignment(default_ruleset) -> None:
    referral = build_referral(concerns=["hate_crime"])
    state = on_referral(None, referral).state
    triaged = on_decision(state, decide(referral, default_ruleset, referral.accepted_at, []))
    assert triaged.state is not None
    moved = act(triaged.state, 1, Service.hate_crime, ActionKind.reassign, to=Service.sos, reason="wrong_service")
    assert [(o.kind, o.service, o.to) for o in told(moved)] == [
        (OutcomeKind.reassigned, Service.hate_crime, Service.sos),
        (OutcomeKind.triaged, Service.sos, None),
    ]


def test_redelivery_tells_the_same_outcomes_with_the_same_ids_and_a_refusal_tells_nothing(default_ruleset) -> None:
    referral = build_referral(concerns=["hate_crime"])
    state = on_referral(None, referral).state
    triaged = on_decision(state, decide(referral, default_ruleset, referral.accepted_at, []))
    assert triaged.state is not None
    closed = act(triaged.state, 1, Service.hate_crime, ActionKind.close, reason="declined_by_person")
    assert closed.state is not None
    again = act(closed.state, 1, Service.hate_crime, ActionKind.close, reason="declined_by_person")
    assert told(again) == told(closed) and [o.kind for o in told(closed)] == [OutcomeKind.closed]
    refused = act(closed.state, 2, Service.hate_crime, ActionKind.accept)
    assert refused.outcome is not None and refused.outcome.status == "refused" and told(refused) == []


def _update(state: ReferralState, update_id: str, **body: object) -> ReferralUpdate:
    assert state.referral is not None
    return ReferralUpdate(
        update_id=update_id,
        referral_id=state.referral.referral_id,
        partner_id=state.referral.partner_id or "dev-partner",
        received_at=state.referral.accepted_at + timedelta(hours=1),
        **body,  # type: ignore[arg-type]
    )


def test_a_withdrawal_is_told_as_withdrawn_for_closed_and_marked_items_with_the_referrers_reason(
    default_ruleset,
) -> None:
    referral = build_referral(concerns=["domestic_abuse", "hate_crime"], dash_score=5, risk_level="standard")
    decided = on_decision(
        on_referral(None, referral).state, decide(referral, default_ruleset, referral.accepted_at, [])
    )
    assert decided.state is not None
    claimed = act(decided.state, 1, Service.sada, ActionKind.claim)
    assert claimed.state is not None
    first = len(told(decided)) + len(told(claimed))
    withdrawal = Withdrawal(schema_version="1", reason=WithdrawalReason.support_in_place)
    step = on_update(claimed.state, _update(claimed.state, "w1", withdrawal=withdrawal), default_ruleset)
    outcomes = told(step)
    assert {(o.service, o.kind, o.reason_code, o.item_state) for o in outcomes} == {
        (Service.sada, OutcomeKind.withdrawn, "support_in_place", WithdrawnState.claimed),  # kept, marked withdrawn
        (Service.hate_crime, OutcomeKind.withdrawn, "support_in_place", WithdrawnState.closed),  # closed by it
    }
    assert [o.seq for o in outcomes] == [first + 1, first + 2]
    assert step.state is not None and step.state.outcomes_told == first + 2
    again = on_update(step.state, _update(claimed.state, "w1", withdrawal=withdrawal), default_ruleset)
    assert again.redelivered and told(again) == outcomes
    declined = act(step.state, 2, Service.sada, ActionKind.decline, reason="no_capacity")
    assert [(o.service, o.kind, o.seq) for o in told(declined)] == [(Service.sada, OutcomeKind.declined, first + 3)], (
        "the officer settling a marked item is told as usual, and no fallback follows a withdrawal"
    )


def test_new_information_that_raises_a_priority_is_told_as_triaged_again(default_ruleset) -> None:
    referral = build_referral(dash_score=5, risk_level="standard")
    decided = on_decision(
        on_referral(None, referral).state, decide(referral, default_ruleset, referral.accepted_at, [])
    )
    assert decided.state is not None
    info = NewInformation(schema_version="1", risk=RiskChange(level=RiskLevel.high))
    step = on_update(decided.state, _update(decided.state, "u1", information=info), default_ruleset)
    outcomes = told(step)
    # High risk is MARAC level: the MARAC coordinator's new item is told too (ruleset 2026.12.1).
    assert [(o.service, o.kind, o.priority, o.seq) for o in outcomes] == [
        (Service.marac, OutcomeKind.triaged, Priority.high, len(told(decided)) + 1),
        (Service.sada, OutcomeKind.triaged, Priority.high, len(told(decided)) + 2),
    ]
    lower = NewInformation(schema_version="1", risk=RiskChange(level=RiskLevel.standard))
    assert step.state is not None
    assert told(on_update(step.state, _update(step.state, "u2", information=lower), default_ruleset)) == []


def test_an_early_update_applied_with_the_first_decision_is_told_once_per_service(default_ruleset) -> None:
    referral = build_referral(dash_score=5, risk_level="standard")
    state = on_referral(None, referral).state
    assert state is not None
    info = NewInformation(schema_version="1", risk=RiskChange(level=RiskLevel.high))
    waiting = on_update(state, _update(state, "early", information=info), default_ruleset)
    assert waiting.state is not None and told(waiting) == []
    step = on_decision(waiting.state, decide(referral, default_ruleset, referral.accepted_at, []), default_ruleset)
    outcomes = told(step)
    # High risk is MARAC level: the MARAC coordinator's item comes with SADA's (ruleset 2026.12.1).
    assert [(o.service, o.kind, o.priority, o.seq) for o in outcomes] == [
        (Service.marac, OutcomeKind.triaged, Priority.high, 1),
        (Service.sada, OutcomeKind.triaged, Priority.high, 2),
    ]
