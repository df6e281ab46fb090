"""No sequence of referrer updates, withdrawals and officer actions makes a referral's queue items, or the
status its referrer is told (its outcome events), contradict its audit trail (pure: over the case agent's
steps)."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.action import ActionKind, OfficerAction
from schemas.audit import AuditAction, AuditEvent
from schemas.audit_details import (
    OfficerActionDetails,
    QueuedDetails,
    WithdrawalDetails,
    details_as,
)
from schemas.codec import decode
from schemas.outcome import OutcomeKind, ReferralOutcome
from schemas.update import NewInformation, ReferralUpdate, RiskChange, Withdrawal, WithdrawalReason
from schemas.vocabulary import PRIORITY_RANK, Concern, Priority, RiskLevel, Service
from services.common import topics
from services.triage.cases.case import ItemState
from services.triage.cases.queue import OfficerScope
from services.triage.cases.referral_state import ReferralState
from services.triage.cases.steps import Step, on_action, on_decision, on_referral, on_update
from services.triage.routing.rules import decide
from services.triage.routing.ruleset import DEFAULT_RULESET_PATH, load_ruleset
from tests.triage.referral_factory import SUBMITTED_AT, build_referral

RULESET = load_ruleset(DEFAULT_RULESET_PATH)
MANAGER = OfficerScope(officer_id="manager", manager=True)
OFFICER_ACTIONS = {
    AuditAction.claimed: ItemState.claimed,
    AuditAction.item_accepted: ItemState.accepted,
    AuditAction.declined: ItemState.declined,
    AuditAction.reassigned: ItemState.reassigned,
    AuditAction.closed: ItemState.closed,
}

risks = st.builds(
    RiskChange,
    dash_score=st.one_of(st.none(), st.integers(0, 27)),
    level=st.one_of(st.none(), st.sampled_from(list(RiskLevel))),
    immediate_danger=st.one_of(st.none(), st.booleans()),
)
news = st.builds(
    NewInformation,
    schema_version=st.just("1"),
    risk=risks,
    concerns=st.lists(st.sampled_from(list(Concern)), max_size=3, unique=True),
    safe_to_contact=st.one_of(st.none(), st.booleans()),
)
moves = st.lists(
    st.one_of(
        st.tuples(st.just("info"), news),
        st.tuples(st.just("withdraw"), st.sampled_from(list(WithdrawalReason))),
        st.tuples(
            st.just("act"),
            st.tuples(
                st.one_of(st.integers(0, 7), st.sampled_from(list(Service))),
                st.sampled_from(list(ActionKind)),
                st.sampled_from(list(Service)),
            ),
        ),
    ),
    max_size=12,
)


TOLD_STATE = {
    OutcomeKind.triaged: ItemState.new,
    OutcomeKind.claimed: ItemState.claimed,
    OutcomeKind.accepted: ItemState.accepted,
    OutcomeKind.declined: ItemState.declined,
    OutcomeKind.reassigned: ItemState.reassigned,
    OutcomeKind.closed: ItemState.closed,
}
"""The item state an outcome event tells the referrer (a withdrawn one says its own in `item_state`)."""


def told_view(outcomes: list[ReferralOutcome]) -> tuple[dict[Service, ItemState], set[Service]]:
    """Each service's item state and withdrawn mark as the referrer's outcome events, in order, tell them."""
    states: dict[Service, ItemState] = {}
    marked: set[Service] = set()
    for outcome in sorted(outcomes, key=lambda o: o.seq):
        if outcome.kind is OutcomeKind.withdrawn:
            assert outcome.item_state is not None
            states[outcome.service] = ItemState(outcome.item_state.value)
            marked.add(outcome.service)
        else:
            states[outcome.service] = TOLD_STATE[outcome.kind]
    return states, marked


def trail_view(events: list[AuditEvent]) -> tuple[dict[Service, ItemState], dict[Service, Priority], set[Service]]:
    """Each service's item state, priority and withdrawn mark as the audit trail alone tells them."""
    states: dict[Service, ItemState] = {}
    priorities: dict[Service, Priority] = {}
    marked: set[Service] = set()
    for event in events:
        if (queued := details_as(event, QueuedDetails)) is not None and event.action is AuditAction.queued:
            before = states.get(queued.service)
            states[queued.service] = before if before in (ItemState.new, ItemState.claimed) else ItemState.new
            priorities[queued.service] = queued.priority
        elif event.action in OFFICER_ACTIONS and (acted := details_as(event, OfficerActionDetails)) is not None:
            states[acted.service] = OFFICER_ACTIONS[event.action]
        elif (withdrawn := details_as(event, WithdrawalDetails)) is not None:
            for service in withdrawn.services_closed:
                states[service] = ItemState.closed
            marked |= {*withdrawn.services_closed, *withdrawn.services_marked}
    return states, priorities, marked


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    concerns=st.lists(st.sampled_from(list(Concern)), min_size=1, max_size=3, unique=True),
    dash=st.integers(0, 27),
    moves=moves,
)
def test_queue_items_always_agree_with_the_audit_trail(concerns: list[Concern], dash: int, moves: list) -> None:
    referral = build_referral(concerns=[c.value for c in concerns], dash_score=dash)
    state = on_referral(None, referral).state
    first = on_decision(state, decide(referral, RULESET, referral.accepted_at, []), RULESET)
    assert first.state is not None
    state, events = first.state, [decode(s.value, AuditEvent) for s in first.sent if s.topic == topics.AUDIT]
    told = [decode(s.value, ReferralOutcome) for s in first.sent if s.topic == topics.OUTCOMES]
    priorities_seen = {s: i.priority for s, i in state.case.items.items()} if state.case else {}
    for n, (kind, move) in enumerate(moves):
        at = SUBMITTED_AT + timedelta(minutes=n + 1)
        step: Step
        if kind == "act":
            pick, action_kind, target = move
            # mostly one of the case's own items (an index into them), sometimes any service at all
            service = pick if isinstance(pick, Service) else sorted(state.case.items)[pick % len(state.case.items)]
            action = OfficerAction(
                action_id=f"a{n}",
                referral_id=referral.referral_id,
                service=service,
                kind=action_kind,
                officer_id="manager",
                requested_at=at,
                reason="no_capacity" if action_kind in (ActionKind.decline, ActionKind.close) else None,
                to=target if action_kind is ActionKind.reassign else None,
            )
            step = on_action(state, action, MANAGER, RULESET.version, RULESET.due_at)
        else:
            update = ReferralUpdate(
                update_id=f"u{n}",
                referral_id=referral.referral_id,
                partner_id="dev-partner",
                received_at=at,
                information=move if kind == "info" else None,
                withdrawal=Withdrawal(schema_version="1", reason=move) if kind == "withdraw" else None,
            )
            step = on_update(state, update, RULESET)
        events += [decode(s.value, AuditEvent) for s in step.sent if s.topic == topics.AUDIT]
        told += [decode(s.value, ReferralOutcome) for s in step.sent if s.topic == topics.OUTCOMES]
        if step.state is not None:
            state = step.state
        assert isinstance(state, ReferralState) and state.case is not None
        if kind != "act":  # the referrer only adds and raises: nothing removed, no priority lowered
            assert set(priorities_seen) <= set(state.case.items)
            for service, before in priorities_seen.items():
                assert PRIORITY_RANK[state.case.items[service].priority] <= PRIORITY_RANK[before]
        priorities_seen = {s: i.priority for s, i in state.case.items.items()}
    assert state.case is not None
    states, priorities, marked = trail_view(events)
    assert states == {service: item.state for service, item in state.case.items.items()}
    assert priorities == {service: item.priority for service, item in state.case.items.items()}
    assert marked == {service for service, item in state.case.items.items() if item.withdrawn}
    if state.case.withdrawn:
        assert not any(item.state is ItemState.new and item.withdrawn for item in state.case.items.values())
    told_states, told_marked = told_view(told)
    assert [o.seq for o in told] == list(range(1, len(told) + 1))  # numbered once each, in order
    assert len({o.outcome_id for o in told}) == len(told)
    assert told_states == states  # the referrer is told what the audit trail says, item by item
    assert told_marked == marked
