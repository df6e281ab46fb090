"""The deadline watch's index: the open items of open referrals only, kept as each case changes."""

from __future__ import annotations

from datetime import timedelta

from schemas.action import ActionKind
from schemas.codec import encode
from schemas.vocabulary import Priority, Service
from services.triage.cases.case import apply_decision
from services.triage.cases.queue import OfficerScope, apply_action, find_breaches
from services.triage.cases.referral_state import ReferralState, StoredCase
from services.triage.cases.sla import DeadlineIndex, needs_escalation
from tests.triage.decision_factory import DEADLINES, RULESET, T0, action, assignment, decision

MANAGER = OfficerScope(officer_id="manager-1", manager=True)
OTHER_REFERRAL = "5b0f3d0e-7a43-5c8e-9a0b-000000000002"


def test_a_referral_is_indexed_with_its_open_items_when_its_case_is_stored() -> None:
    """Both open items of a new case are held, with their service, priority and deadline."""
    case, _ = apply_decision(
        None, decision(assignment(Service.sada, Priority.high), assignment(Service.no_more, Priority.standard)), T0
    )
    index = DeadlineIndex()
    index.note(case)
    [found] = index.open_cases()
    assert found.referral_id == case.referral_id
    assert {(item.service, item.priority) for item in found.items} == {
        (Service.sada, Priority.high),
        (Service.no_more, Priority.standard),
    }


def test_a_referral_is_dropped_when_its_last_open_item_closes() -> None:
    """Closing one of two items keeps the other; closing the last forgets the referral."""
    case, _ = apply_decision(None, decision(assignment(Service.sada), assignment(Service.no_more)), T0)
    index = DeadlineIndex()
    index.note(case)
    for service, still_open in ((Service.sada, 1), (Service.no_more, 0)):
        closed = apply_action(
            case,
            action(ActionKind.close, service, MANAGER.officer_id, reason="done"),
            MANAGER,
            T0 + timedelta(hours=1),
            RULESET,
            DEADLINES,
        )
        assert closed.status == "applied", closed.error
        case = closed.case
        index.note(case)
        assert len(index) == still_open
        assert [item.service for c in index.open_cases() for item in c.items] == (
            [Service.no_more] if still_open else []
        )


def test_an_escalated_deadline_is_not_due_again_until_the_case_changes() -> None:
    """After the breach is recorded on the case, the index no longer asks for a check."""
    case, _ = apply_decision(None, decision(assignment(Service.sada, Priority.urgent)), T0)
    late = T0 + timedelta(hours=5)
    index = DeadlineIndex()
    index.note(case)
    [before] = index.open_cases()
    assert needs_escalation(before, late)
    escalated, escalations = find_breaches(case, late)
    assert len(escalations) == 1
    index.note(escalated)
    [after] = index.open_cases()
    assert not needs_escalation(after, late)


def test_a_rebuild_holds_only_the_open_referrals_given_and_forgets_the_rest() -> None:
    """After a rebalance the index holds exactly the open referrals of the partitions now held."""
    held, _ = apply_decision(None, decision(Service.sada), T0)
    gone, _ = apply_decision(None, decision(Service.sos, referral_id=OTHER_REFERRAL), T0)
    finished = apply_action(
        held, action(ActionKind.close, Service.sada, MANAGER.officer_id, reason="done"), MANAGER, T0, RULESET, DEADLINES
    ).case
    index = DeadlineIndex()
    index.note(gone)
    index.rebuild([held, None])
    assert [c.referral_id for c in index.open_cases()] == [held.referral_id]
    index.rebuild([finished])
    assert index.open_cases() == []


def test_the_stored_case_is_read_from_a_whole_referral_state() -> None:
    """The rebuild's cheap decoding finds the same case the case agent stored."""
    case, _ = apply_decision(None, decision(Service.sada), T0)
    raw = encode(ReferralState(case=case))
    assert StoredCase.model_validate_json(raw).case == case
    assert StoredCase.model_validate_json(encode(ReferralState())).case is None
