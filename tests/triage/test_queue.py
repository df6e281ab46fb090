"""Duty-officer queue items: decisions into items, officer actions and refusals, SLA breaches."""

from __future__ import annotations

from datetime import timedelta

import pytest

from schemas.action import ActionKind, OfficerAction
from schemas.decision import DecisionKind, Flag
from schemas.vocabulary import Priority, Service
from services.triage.cases.case import Case, ItemState, Refusal, apply_decision
from services.triage.cases.queue import (
    OFFICER_REASON_CAP,
    REFUSED_ACTIONS_KEPT,
    ActionOutcome,
    OfficerScope,
    apply_action,
    find_breaches,
    follow_up_decision_id,
    open_and_overdue,
    queue_view,
)
from tests.triage.decision_factory import DEADLINES, REFERRAL_ID, RULESET, T0, action, assignment, decision, due_at

SADA_OFFICER = OfficerScope(officer_id="officer-sada-1", services=frozenset({Service.sada}))
SADA_OTHER = OfficerScope(officer_id="officer-sada-2", services=frozenset({Service.sada}))
SOS_OFFICER = OfficerScope(officer_id="officer-sos-1", services=frozenset({Service.sos}))
MANAGER = OfficerScope(officer_id="manager-1", manager=True)
LATER = T0 + timedelta(hours=1)


def case_with(*services: Service) -> Case:
    case, _ = apply_decision(None, decision(*services), T0)
    return case


def act(
    case: Case,
    officer: OfficerScope,
    kind: ActionKind,
    service: Service,
    reason: str | None = None,
    to: Service | None = None,
) -> ActionOutcome:
    sent = action(kind, service, officer.officer_id, reason=reason, to=to)
    return apply_action(case, sent, officer, LATER, RULESET, due_at)


def redo(case: Case, sent: OfficerAction, officer: OfficerScope) -> ActionOutcome:
    return apply_action(case, sent, officer, LATER + timedelta(minutes=5), RULESET, due_at)


# Decisions into queue items


def test_item_standing_in_for_several_services_keeps_them_all_and_merges_later_ones() -> None:
    """A manual_review item replacing sos and sada, then no_more too, names all three, sos first."""
    first = decision(assignment(Service.manual_review, Priority.high, replaces_all=[Service.sos, Service.sada]))
    case, [item] = apply_decision(None, first, T0)
    assert (item.replaces, item.replaces_all) == (Service.sos, [Service.sos, Service.sada])
    later = decision(
        assignment(Service.manual_review, Priority.standard, replaces=Service.no_more), decision_id="later-decision"
    )
    case, [merged] = apply_decision(case, later, LATER)
    assert (merged.replaces, merged.replaces_all) == (Service.sos, [Service.sos, Service.sada, Service.no_more])


def test_decision_creates_one_new_item_per_assigned_service() -> None:
    """Each assignment becomes a new item in its service's queue with the decision's flags."""
    made = decision(assignment(Service.sada, Priority.high), Service.mnwg, flags=[Flag.marac])
    case, items = apply_decision(None, made, T0)
    assert set(case.items) == {Service.sada, Service.mnwg}
    assert [item.service for item in items] == [Service.sada, Service.mnwg]
    sada = case.items[Service.sada]
    assert sada.state is ItemState.new
    assert sada.priority is Priority.high
    assert sada.due_at == T0 + DEADLINES[Priority.high]
    assert sada.flags == [Flag.marac]
    assert sada.decision_id == made.decision_id
    assert case.applied_decision_ids == [made.decision_id]


def test_redelivered_decision_changes_nothing() -> None:
    """A decision applied twice leaves the case as it was and reports no items."""
    made = decision(Service.sada)
    case, _ = apply_decision(None, made, T0)
    claimed = act(case, SADA_OFFICER, ActionKind.claim, Service.sada).case
    again, items = apply_decision(claimed, made, LATER)
    assert items == []
    assert again == claimed


def test_later_decision_merges_into_open_item_keeping_state_and_raising_priority() -> None:
    """An open item keeps its state and claim; priority rises, rule ids, reasons and flags are united."""
    case = act(case_with(Service.sada), SADA_OFFICER, ActionKind.claim, Service.sada).case
    urgent = assignment(Service.sada, Priority.urgent, at=LATER, rule_ids=["extra.rule"], reasons=["extra"])
    merged, items = apply_decision(case, decision(urgent, decision_id="d2", flags=[Flag.repeat]), LATER)
    sada = merged.items[Service.sada]
    assert items == [sada]
    assert sada.state is ItemState.claimed
    assert sada.claimed_by == SADA_OFFICER.officer_id
    assert sada.priority is Priority.urgent
    assert sada.due_at == LATER + DEADLINES[Priority.urgent]
    assert sada.rule_ids == ["test.sada", "extra.rule"]
    assert sada.reasons == ["test rule routed it to sada", "extra"]
    assert sada.flags == [Flag.repeat]


def test_later_decision_never_lowers_priority_of_open_item() -> None:
    """A lower-priority assignment to an open item leaves its priority and deadline."""
    case, _ = apply_decision(None, decision(assignment(Service.sada, Priority.high)), T0)
    merged, _ = apply_decision(case, decision(assignment(Service.sada, Priority.standard), decision_id="d2"), T0)
    assert merged.items[Service.sada].priority is Priority.high
    assert merged.items[Service.sada].due_at == T0 + DEADLINES[Priority.high]


def test_later_decision_replaces_final_item_with_fresh_one() -> None:
    """A service whose item is final gets a fresh new item from a later decision."""
    case = act(case_with(Service.sada, Service.sos), SADA_OFFICER, ActionKind.accept, Service.sada).case
    again, items = apply_decision(case, decision(Service.sada, decision_id="d2"), LATER)
    assert len(items) == 1
    assert again.items[Service.sada].state is ItemState.new
    assert again.items[Service.sada].decision_id == "d2"
    assert again.items[Service.sada].claimed_by is None


# Officer actions


def test_claim_moves_new_item_to_claimed_by_the_officer() -> None:
    """claim: new -> claimed, held by the claiming officer."""
    outcome = act(case_with(Service.sada), SADA_OFFICER, ActionKind.claim, Service.sada)
    assert (outcome.status, outcome.refusal) == ("applied", None)
    assert outcome.item is not None
    assert outcome.item.state is ItemState.claimed
    assert outcome.case.items[Service.sada].claimed_by == SADA_OFFICER.officer_id
    assert outcome.case.items[Service.sada].updated_at == LATER


def test_claim_of_item_claimed_by_another_officer_is_refused_as_claimed_by_another() -> None:
    """A second officer cannot claim an item someone else holds."""
    case = act(case_with(Service.sada), SADA_OFFICER, ActionKind.claim, Service.sada).case
    outcome = act(case, SADA_OTHER, ActionKind.claim, Service.sada)
    assert (outcome.status, outcome.refusal) == ("refused", Refusal.claimed_by_another)
    assert outcome.case.items == case.items


def test_claiming_own_claim_again_is_idempotent() -> None:
    """The holder claiming again has it applied, the item unchanged."""
    case = act(case_with(Service.sada), SADA_OFFICER, ActionKind.claim, Service.sada).case
    outcome = act(case, SADA_OFFICER, ActionKind.claim, Service.sada)
    assert (outcome.status, outcome.refusal) == ("applied", None)
    assert outcome.case.items == case.items


def test_accept_then_decline_is_refused_as_final_and_item_stays_accepted() -> None:
    """Accepted is final: a later decline is refused and changes nothing."""
    case = act(case_with(Service.sada), SADA_OFFICER, ActionKind.accept, Service.sada).case
    outcome = act(case, SADA_OFFICER, ActionKind.decline, Service.sada, reason="not ours")
    assert outcome.refusal is Refusal.item_final
    assert outcome.follow_up is None
    assert outcome.case.items[Service.sada].state is ItemState.accepted


def test_accept_of_item_claimed_by_another_officer_is_refused_as_claimed_by_another() -> None:
    """Only the holder (or a manager) may settle a claimed item."""
    case = act(case_with(Service.sada), SADA_OFFICER, ActionKind.claim, Service.sada).case
    outcome = act(case, SADA_OTHER, ActionKind.accept, Service.sada)
    assert outcome.refusal is Refusal.claimed_by_another
    assert outcome.case.items[Service.sada].state is ItemState.claimed


def test_manager_can_act_on_any_service_and_on_an_item_claimed_by_another() -> None:
    """A manager accepts an item another officer claimed, in a queue outside any officer scope."""
    case = act(case_with(Service.sada), SADA_OFFICER, ActionKind.claim, Service.sada).case
    outcome = act(case, MANAGER, ActionKind.accept, Service.sada)
    assert (outcome.status, outcome.refusal) == ("applied", None)
    assert outcome.case.items[Service.sada].state is ItemState.accepted
    assert outcome.case.items[Service.sada].claimed_by == MANAGER.officer_id


def test_decline_or_close_without_reason_is_refused_as_reason_required() -> None:
    """Decline and close need a non-empty reason."""
    case = case_with(Service.sada)
    for kind, reason in [(ActionKind.decline, None), (ActionKind.decline, "   "), (ActionKind.close, "")]:
        outcome = act(case, SADA_OFFICER, kind, Service.sada, reason=reason)
        assert outcome.refusal is Refusal.reason_required
        assert outcome.case.items == case.items


def test_action_outside_officer_scope_is_refused_as_out_of_scope() -> None:
    """An officer of another service may not touch this queue."""
    outcome = act(case_with(Service.sada), SOS_OFFICER, ActionKind.claim, Service.sada)
    assert (outcome.status, outcome.refusal) == ("refused", Refusal.out_of_scope)
    assert outcome.case.items[Service.sada].state is ItemState.new


@pytest.mark.parametrize("sender", ["out_of_scope", "officer_mismatch"])
def test_a_refusal_to_someone_outside_the_queue_is_not_stored_in_the_case(sender: str) -> None:
    """Actions from outside the queue's scope, or under another officer's name, leave the case as it was:
    however many are sent, the referral's state does not grow."""
    case = case_with(Service.sada)
    for _ in range(3):
        if sender == "out_of_scope":
            outcome = act(case, SOS_OFFICER, ActionKind.claim, Service.sada)
        else:
            outcome = apply_action(
                case,
                action(ActionKind.claim, Service.sada, SADA_OTHER.officer_id),
                SADA_OFFICER,
                LATER,
                RULESET,
                DEADLINES,
            )
        assert outcome.status == "refused" and outcome.refusal is Refusal(sender)
        assert outcome.case == case and outcome.case.actions == {}


def test_refused_actions_kept_are_capped_oldest_first_and_applied_ones_all_kept() -> None:
    """Past REFUSED_ACTIONS_KEPT refusals the oldest refusal goes; the applied claim is never dropped."""
    claim = act(case_with(Service.sada), SADA_OFFICER, ActionKind.claim, Service.sada)
    case, refused_ids = claim.case, []
    for _ in range(REFUSED_ACTIONS_KEPT + 5):  # claimed by another: refused, and kept (it is in scope)
        outcome = act(case, SADA_OTHER, ActionKind.claim, Service.sada)
        assert outcome.refusal is Refusal.claimed_by_another
        case = outcome.case
        refused_ids.append(outcome.action_id)
    assert claim.action_id in case.actions and case.actions[claim.action_id].status == "applied"
    kept = [key for key, record in case.actions.items() if record.status == "refused"]
    assert kept == refused_ids[-REFUSED_ACTIONS_KEPT:]


def test_action_under_another_officers_identity_is_refused_as_officer_mismatch() -> None:
    """The scope acting must be the officer named in the action."""
    sent = action(ActionKind.claim, Service.sada, SADA_OTHER.officer_id)
    outcome = apply_action(case_with(Service.sada), sent, SADA_OFFICER, LATER, RULESET, due_at)
    assert outcome.refusal is Refusal.officer_mismatch


def test_action_on_service_without_item_is_refused_as_item_not_found() -> None:
    """A service this referral was never routed to has no item to act on."""
    outcome = act(case_with(Service.sada), SOS_OFFICER, ActionKind.claim, Service.sos)
    assert outcome.refusal is Refusal.item_not_found
    assert outcome.item is None


def test_decline_with_no_other_open_item_falls_back_to_manual_review() -> None:
    """The last open item declined: a decline_fallback decision and a manual_review item, both at once."""
    case, _ = apply_decision(None, decision(assignment(Service.sada, Priority.high), flags=[Flag.marac]), T0)
    sent = action(ActionKind.decline, Service.sada, SADA_OFFICER.officer_id, reason="outside our remit")
    outcome = apply_action(case, sent, SADA_OFFICER, LATER, RULESET, due_at)
    follow_up = outcome.follow_up
    assert follow_up is not None
    assert follow_up.kind is DecisionKind.decline_fallback
    assert follow_up.decision_id == follow_up_decision_id(REFERRAL_ID, sent.action_id)
    assert follow_up.caused_by == sent.action_id
    [fallback] = follow_up.assignments
    assert fallback.service is Service.manual_review
    assert fallback.replaces is Service.sada
    assert fallback.rule_ids == ["officer.decline_fallback"]
    assert fallback.priority is Priority.high
    assert fallback.due_at == LATER + DEADLINES[Priority.high]
    assert outcome.case.items[Service.sada].state is ItemState.declined
    assert outcome.case.items[Service.sada].final_reason == "outside our remit"
    review = outcome.case.items[Service.manual_review]
    assert review.state is ItemState.new
    assert review.flags == [Flag.marac]
    assert outcome.follow_up_items == [review]


def test_decline_with_another_open_item_has_no_fallback() -> None:
    """Another service still holds the referral open, so no manual_review item is made."""
    outcome = act(case_with(Service.sada, Service.sos), SADA_OFFICER, ActionKind.decline, Service.sada, reason="no")
    assert (outcome.status, outcome.refusal) == ("applied", None)
    assert outcome.follow_up is None
    assert Service.manual_review not in outcome.case.items


def test_reassign_creates_decision_and_item_for_the_target_service() -> None:
    """Reassign: the item is final, and a reassignment decision puts a new item in the target queue."""
    case, _ = apply_decision(None, decision(assignment(Service.sada, Priority.urgent), flags=[Flag.repeat]), T0)
    sent = action(ActionKind.reassign, Service.sada, SADA_OFFICER.officer_id, to=Service.no_more, reason="perp")
    outcome = apply_action(case, sent, SADA_OFFICER, LATER, RULESET, due_at)
    assert outcome.case.items[Service.sada].state is ItemState.reassigned
    follow_up = outcome.follow_up
    assert follow_up is not None
    assert follow_up.kind is DecisionKind.reassignment
    assert follow_up.decision_id == follow_up_decision_id(REFERRAL_ID, sent.action_id)
    assert follow_up.ruleset_version == RULESET
    assert follow_up.flags == [Flag.repeat]
    [moved] = follow_up.assignments
    assert (moved.service, moved.priority, moved.rule_ids) == (
        Service.no_more,
        Priority.urgent,
        ["officer.reassign"],
    )
    assert moved.due_at == LATER + DEADLINES[Priority.urgent]
    assert "sada" in moved.reasons[0]
    target = outcome.case.items[Service.no_more]
    assert (target.state, target.priority, target.decision_id) == (
        ItemState.new,
        Priority.urgent,
        follow_up.decision_id,
    )


def test_reassign_caps_the_officers_reason_in_the_decision() -> None:
    """Officer-written text is cut short before it goes into a decision's reason."""
    outcome = act(
        case_with(Service.sada),
        SADA_OFFICER,
        ActionKind.reassign,
        Service.sada,
        to=Service.sos,
        reason="x" * 500,
    )
    assert outcome.follow_up is not None
    assert len(outcome.follow_up.assignments[0].reasons[0]) <= 300


def test_reassign_without_target_or_to_the_same_service_is_refused() -> None:
    """Reassign needs a `to` that differs from the item's service."""
    case = case_with(Service.sada)
    missing = act(case, SADA_OFFICER, ActionKind.reassign, Service.sada)
    same = act(case, SADA_OFFICER, ActionKind.reassign, Service.sada, to=Service.sada)
    assert missing.refusal is Refusal.target_required
    assert same.refusal is Refusal.target_same_service
    assert same.case.items == case.items


def test_follow_up_decision_coming_back_from_the_topic_is_already_applied() -> None:
    """The reassignment decision read back from triage.decisions changes nothing."""
    outcome = act(case_with(Service.sada), SADA_OFFICER, ActionKind.reassign, Service.sada, to=Service.sos)
    assert outcome.follow_up is not None
    claimed = act(outcome.case, SOS_OFFICER, ActionKind.claim, Service.sos).case
    again, items = apply_decision(claimed, outcome.follow_up, LATER + timedelta(hours=1))
    assert items == []
    assert again == claimed


def test_redelivered_action_returns_recorded_outcome_without_changing_state() -> None:
    """The same action_id again: same answer and follow-up, nothing applied twice."""
    case = case_with(Service.sada)
    decline = action(ActionKind.decline, Service.sada, SADA_OFFICER.officer_id, reason="not ours")
    first = redo(case, decline, SADA_OFFICER)
    # another service takes the fallback item on; a redelivered decline must not make a second one
    review_claimed = act(first.case, MANAGER, ActionKind.accept, Service.manual_review).case
    again = redo(review_claimed, decline, SADA_OFFICER)
    assert again.redelivered
    assert (again.status, again.refusal) == (first.status, first.refusal)
    assert again.follow_up == first.follow_up
    assert again.case == review_claimed


def test_redelivered_refused_action_stays_refused() -> None:
    """A refusal is recorded too: redelivery gives the same error even when the state has moved on."""
    case = act(case_with(Service.sada), SADA_OFFICER, ActionKind.claim, Service.sada).case
    grab = action(ActionKind.accept, Service.sada, SADA_OTHER.officer_id)
    first = redo(case, grab, SADA_OTHER)
    assert first.refusal is Refusal.claimed_by_another
    again = redo(first.case, grab, SADA_OTHER)
    assert (again.redelivered, again.refusal) == (True, Refusal.claimed_by_another)
    assert grab.action_id in again.case.applied_action_ids


# SLA breaches and queue views


def test_breach_is_escalated_once_per_due_at() -> None:
    """An overdue open item yields one escalation; the next tick yields none until its deadline moves."""
    case = case_with(Service.sada)
    due = case.items[Service.sada].due_at
    assert find_breaches(case, due) == (case, [])
    case, escalations = find_breaches(case, due + timedelta(minutes=1))
    assert [(e.service, e.due_at, e.state) for e in escalations] == [(Service.sada, due, "new")]
    assert case.items[Service.sada].escalated_for_due_at == due
    assert find_breaches(case, due + timedelta(hours=5))[1] == []
    moved = case.items[Service.sada].model_copy(update={"due_at": due + timedelta(hours=1)})
    case = case.model_copy(update={"items": {Service.sada: moved}})
    _, again = find_breaches(case, due + timedelta(hours=5))
    assert len(again) == 1
    assert again[0].escalation_id != escalations[0].escalation_id


def test_escalation_id_is_the_same_for_the_same_breach() -> None:
    """Two workers finding the same breach produce the same escalation id."""
    case = case_with(Service.sada)
    late = case.items[Service.sada].due_at + timedelta(hours=1)
    assert find_breaches(case, late)[1] == find_breaches(case, late)[1]


def test_final_items_are_never_escalated() -> None:
    """An accepted item past its deadline is not a breach."""
    case = act(case_with(Service.sada), SADA_OFFICER, ActionKind.accept, Service.sada).case
    assert find_breaches(case, T0 + timedelta(days=30))[1] == []


def test_open_and_overdue_counts_open_items_per_asked_service() -> None:
    """Counts open and overdue items per service; final items and unasked services are left out."""
    first = case_with(Service.sada, Service.sos)
    second, _ = apply_decision(None, decision(assignment(Service.sada, Priority.urgent), referral_id="r2"), T0)
    third = act(case_with(Service.sada), SADA_OFFICER, ActionKind.accept, Service.sada).case
    now = T0 + timedelta(hours=5)
    counts = open_and_overdue([first, second, third], [Service.sada, Service.hate_crime], now)
    assert counts == {Service.sada: (2, 1), Service.hate_crime: (0, 0)}


def test_queue_view_sorts_by_priority_then_due_time_and_filters_open() -> None:
    """Most pressing first; `open` hides final items, `all` shows them."""
    urgent_late, _ = apply_decision(
        None, decision(assignment(Service.sada, Priority.urgent, at=LATER), referral_id="a"), T0
    )
    urgent_early, _ = apply_decision(None, decision(assignment(Service.sada, Priority.urgent), referral_id="b"), T0)
    standard, _ = apply_decision(None, decision(assignment(Service.sada, Priority.standard), referral_id="c"), T0)
    accepted = act(case_with(Service.sada), SADA_OFFICER, ActionKind.accept, Service.sada).case
    cases = [standard, accepted, urgent_late, urgent_early]
    assert [item.referral_id for item in queue_view(cases, Service.sada, "open")] == ["b", "a", "c"]
    assert len(queue_view(cases, Service.sada, "all")) == 4
    assert queue_view(cases, Service.sos, "all") == []


def test_case_round_trips_through_json() -> None:
    """The case survives the table's JSON codec unchanged, records and follow-ups included."""
    outcome = act(case_with(Service.sada), SADA_OFFICER, ActionKind.decline, Service.sada, reason="no")
    case, _ = find_breaches(outcome.case, T0 + timedelta(days=10))
    assert Case.model_validate_json(case.model_dump_json()) == case


def test_declining_the_only_manual_review_item_gives_a_fresh_manual_review_item() -> None:
    """manual_review is the last resort: declining its only open item puts the referral back in it."""
    case = case_with(Service.manual_review)
    reviewer = OfficerScope(officer_id="reviewer-1", services=frozenset({Service.manual_review}))
    outcome = act(case, reviewer, ActionKind.decline, Service.manual_review, reason="needs another look")
    assert outcome.item is not None
    assert outcome.item.state is ItemState.declined
    fresh = outcome.case.items[Service.manual_review]
    assert fresh.state is ItemState.new
    assert outcome.follow_up is not None
    assert fresh.decision_id == outcome.follow_up.decision_id


def test_a_final_action_without_a_reason_records_none() -> None:
    """accept with no reason keeps no final reason, not an empty or made-up one."""
    outcome = act(case_with(Service.sada), SADA_OFFICER, ActionKind.accept, Service.sada)
    assert outcome.case.items[Service.sada].final_reason is None


def test_a_final_action_records_its_time_on_the_item() -> None:
    """accept moves the item's updated_at to the time of the action."""
    outcome = act(case_with(Service.sada), SADA_OFFICER, ActionKind.accept, Service.sada)
    assert outcome.case.items[Service.sada].updated_at == LATER


def test_a_breach_is_found_after_an_item_that_is_not_breached() -> None:
    """Every item of the case is looked at: one not yet due does not hide a later one that is."""
    case, _ = apply_decision(
        None, decision(assignment(Service.sada, Priority.standard), assignment(Service.mnwg, Priority.urgent)), T0
    )
    _, escalations = find_breaches(case, T0 + timedelta(hours=5))
    assert [e.service for e in escalations] == [Service.mnwg]


def test_breaches_of_two_services_or_two_referrals_have_different_escalation_ids() -> None:
    """An escalation id names its referral and service as well as the deadline."""
    one = find_breaches(case_with(Service.sada, Service.sos), T0 + timedelta(days=30))[1]
    other_case, _ = apply_decision(None, decision(Service.sada, referral_id="another-referral"), T0)
    other = find_breaches(other_case, T0 + timedelta(days=30))[1]
    assert len({e.escalation_id for e in [*one, *other]}) == 3


def test_open_and_overdue_reads_past_services_not_asked_for() -> None:
    """A case's first item in an unasked service does not stop its later items being counted."""
    case = case_with(Service.sos, Service.sada)
    assert open_and_overdue([case], [Service.sada], T0) == {Service.sada: (1, 0)}


def test_an_item_due_exactly_now_is_not_yet_overdue() -> None:
    """Overdue means past the deadline, not at it."""
    case = case_with(Service.sada)
    due = case.items[Service.sada].due_at
    assert open_and_overdue([case], [Service.sada], due) == {Service.sada: (1, 0)}


def test_open_and_overdue_counts_every_overdue_item() -> None:
    """Three overdue items in one service count three."""
    cases = [apply_decision(None, decision(Service.sada, referral_id=f"r{i}"), T0)[0] for i in range(3)]
    assert open_and_overdue(cases, [Service.sada], T0 + timedelta(days=30)) == {Service.sada: (3, 3)}


def test_queue_view_shows_open_items_by_default() -> None:
    """Without a filter the queue hides final items."""
    accepted = act(case_with(Service.sada), SADA_OFFICER, ActionKind.accept, Service.sada).case
    waiting, _ = apply_decision(None, decision(Service.sada, referral_id="waiting"), T0)
    assert [item.referral_id for item in queue_view([accepted, waiting], Service.sada)] == ["waiting"]


def test_a_reassignment_quotes_the_officers_reason_on_one_line() -> None:
    """The follow-up's reason names the service left and the officer's words, whitespace collapsed."""
    outcome = act(
        case_with(Service.sada),
        SADA_OFFICER,
        ActionKind.reassign,
        Service.sada,
        to=Service.sos,
        reason="perpetrator  support\n needed",
    )
    assert outcome.follow_up is not None
    assert outcome.follow_up.assignments[0].reasons == [
        "Reassigned from sada by a duty officer: perpetrator support needed"
    ]


def test_a_decline_naming_another_service_is_not_a_reassignment() -> None:
    """Only reassign moves a referral to the service named; a decline falls back to manual review."""
    outcome = act(
        case_with(Service.sada), SADA_OFFICER, ActionKind.decline, Service.sada, to=Service.sos, reason="not for us"
    )
    assert outcome.follow_up is not None
    assert outcome.follow_up.kind is DecisionKind.decline_fallback
    assert [a.service for a in outcome.follow_up.assignments] == [Service.manual_review]


def test_a_refusal_tells_the_officer_why_and_shows_the_item_as_it_stands() -> None:
    """A refused claim carries its plain-English detail and the unchanged item."""
    case = act(case_with(Service.sada), SADA_OFFICER, ActionKind.claim, Service.sada).case
    refused = act(case, SADA_OTHER, ActionKind.claim, Service.sada)
    assert refused.detail == "the item is claimed by another officer"
    assert refused.item == case.items[Service.sada]


def test_a_redelivered_refusal_gives_the_same_detail_and_item() -> None:
    """The recorded refusal is replayed whole: its detail and the item as it stands."""
    case = act(case_with(Service.sada), SADA_OFFICER, ActionKind.claim, Service.sada).case
    sent = action(ActionKind.claim, Service.sada, SADA_OTHER.officer_id)
    first = apply_action(case, sent, SADA_OTHER, LATER, RULESET, due_at)
    again = redo(first.case, sent, SADA_OTHER)
    assert again.redelivered and (again.detail, again.item) == (first.detail, first.item)
    assert again.item == case.items[Service.sada]


@pytest.mark.parametrize("reason", [None, "", "   \n "])
def test_a_reassignment_without_words_says_no_reason_given(reason: str | None) -> None:
    """An empty or blank officer reason reads as "no reason given" in the follow-up decision."""
    outcome = act(
        case_with(Service.sada), SADA_OFFICER, ActionKind.reassign, Service.sada, to=Service.sos, reason=reason
    )
    assert outcome.follow_up is not None
    assert outcome.follow_up.assignments[0].reasons == ["Reassigned from sada by a duty officer: no reason given"]


def test_an_officer_reason_at_the_cap_is_kept_whole_and_one_longer_is_cut_with_an_ellipsis() -> None:
    """Up to the cap the officer's words are kept; past it, cut to the cap including a closing ellipsis."""
    prefix = "Reassigned from sada by a duty officer: "
    reasons = []
    for length in (OFFICER_REASON_CAP, OFFICER_REASON_CAP + 1):
        outcome = act(
            case_with(Service.sada),
            SADA_OFFICER,
            ActionKind.reassign,
            Service.sada,
            to=Service.sos,
            reason="x" * length,
        )
        assert outcome.follow_up is not None
        reasons.append(outcome.follow_up.assignments[0].reasons[0])
    assert reasons == [prefix + "x" * OFFICER_REASON_CAP, prefix + "x" * (OFFICER_REASON_CAP - 1) + "…"]


def _refusal_of(
    case_services: tuple[Service, ...], officer: OfficerScope, sent: OfficerAction, accepted_first: bool = False
) -> ActionOutcome:
    case = case_with(*case_services)
    if accepted_first:
        case = act(case, officer, ActionKind.accept, Service.sada).case
    return apply_action(case, sent, officer, LATER, RULESET, due_at)


@pytest.mark.parametrize(
    ("case_services", "officer", "sent", "accepted_first", "expected"),
    [
        (
            (Service.sada,),
            SADA_OFFICER,
            action(ActionKind.claim, Service.sada, "someone-else"),
            False,
            (Refusal.officer_mismatch, "the action was sent under another officer's identity"),
        ),
        (
            (Service.sada,),
            SOS_OFFICER,
            action(ActionKind.claim, Service.sada, SOS_OFFICER.officer_id),
            False,
            (Refusal.out_of_scope, "the sada queue is outside your scope"),
        ),
        (
            (Service.sos,),
            MANAGER,
            action(ActionKind.claim, Service.sada, MANAGER.officer_id),
            False,
            (Refusal.item_not_found, "this referral has no item in the sada queue"),
        ),
        (
            (Service.sada,),
            SADA_OFFICER,
            action(ActionKind.decline, Service.sada, SADA_OFFICER.officer_id),
            False,
            (Refusal.reason_required, "decline needs a reason"),
        ),
        (
            (Service.sada,),
            SADA_OFFICER,
            action(ActionKind.reassign, Service.sada, SADA_OFFICER.officer_id),
            False,
            (Refusal.target_required, "reassign needs the service to reassign to"),
        ),
        (
            (Service.sada,),
            SADA_OFFICER,
            action(ActionKind.reassign, Service.sada, SADA_OFFICER.officer_id, to=Service.sada, reason="r"),
            False,
            (Refusal.target_same_service, "reassign needs a service other than this one"),
        ),
        (
            (Service.sada,),
            SADA_OFFICER,
            action(ActionKind.decline, Service.sada, SADA_OFFICER.officer_id, reason="r"),
            True,
            (Refusal.item_final, "the item is already accepted and can no longer change"),
        ),
    ],
    ids=[
        "officer_mismatch",
        "out_of_scope",
        "item_not_found",
        "reason_required",
        "target_required",
        "target_same_service",
        "item_final",
    ],
)
def test_each_refusal_has_its_reason_and_plain_english_detail(
    case_services: tuple[Service, ...],
    officer: OfficerScope,
    sent: OfficerAction,
    accepted_first: bool,
    expected: tuple[Refusal, str],
) -> None:
    """Every refusal the officer can meet carries its reason and the sentence they read."""
    refused = _refusal_of(case_services, officer, sent, accepted_first)
    assert (refused.status, (refused.refusal, refused.detail)) == ("refused", expected)


def test_an_action_for_another_referral_is_not_applied() -> None:
    """An action is never applied to another referral's case."""
    sent = action(ActionKind.claim, Service.sada, SADA_OFFICER.officer_id, referral_id="another-referral")
    with pytest.raises(ValueError, match=r"^action belongs to another referral$"):
        apply_action(case_with(Service.sada), sent, SADA_OFFICER, LATER, RULESET, due_at)
