"""Properties of the queue-item state machine under random officer actions, decisions and timer ticks."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.action import ActionKind, OfficerAction
from schemas.decision import DecisionKind, Flag, TriageDecision
from schemas.vocabulary import Priority, Service
from services.triage.cases.case import FINAL_STATES, SETTLED_STATES, Case, QueueItem, apply_decision
from services.triage.cases.queue import UNRECORDED_REFUSALS, OfficerScope, apply_action, find_breaches
from tests.triage.decision_factory import RULESET, T0, action, assignment, decision, due_at

SERVICES = list(Service)
OFFICERS = [
    *(OfficerScope(officer_id=f"{service}-{n}", services=frozenset({service})) for service in SERVICES for n in (1, 2)),
    OfficerScope(officer_id="sada-and-sos", services=frozenset({Service.sada, Service.sos})),
    OfficerScope(officer_id="manager-1", manager=True),
    OfficerScope(officer_id="manager-2", manager=True),
]
REASONS = st.one_of(st.none(), st.sampled_from(["", "   ", "not for us", "x" * 500]), st.text(max_size=40))

assignments = st.builds(assignment, st.sampled_from(SERVICES), st.sampled_from(list(Priority)))


@st.composite
def initial_decisions(draw: st.DrawFn) -> TriageDecision:
    """A first decision for one referral: one to three assignments (a service may repeat), some flags."""
    return decision(
        *draw(st.lists(assignments, min_size=1, max_size=3)),
        flags=draw(st.lists(st.sampled_from(list(Flag)), max_size=2, unique=True)),
    )


ItemKey = tuple[Service, str]
"""An item is known by its service and the decision that created it (merges keep that decision id)."""


def assert_invariants(
    case: Case, before: Case, finals: dict[ItemKey, QueueItem], acted: QueueItem | None = None
) -> None:
    """The referral is accounted for; one item per service; final items never change or reopen.

    `finals` holds every item seen in a final state so far; `acted` is the item an action touched.
    """
    assert any(item.is_open or item.state in SETTLED_STATES for item in case.items.values()), case.items
    assert set(before.items) <= set(case.items)
    seen = [*case.items.values(), *([acted] if acted is not None else [])]
    for item in seen:
        key = (item.service, item.decision_id)
        if key in finals:
            assert item == finals[key], f"{key} left its final state"
        elif item.state in FINAL_STATES:
            finals[key] = item
    for service, item in case.items.items():
        assert item.service is service
        assert item.referral_id == case.referral_id
        earlier = before.items.get(service)
        if earlier is not None and earlier.is_open and item.decision_id != earlier.decision_id:
            # an open item is merged into, never replaced, unless an officer settled it first
            assert acted is not None
            assert (acted.service, acted.decision_id) == (service, earlier.decision_id)
            assert acted.state in FINAL_STATES


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=initial_decisions(), data=st.data())
def test_random_officer_actions_keep_every_referral_in_some_queue(first: TriageDecision, data: st.DataObject) -> None:
    """Any sequence of actions, late decisions and ticks keeps the queue invariants: an accepted referral
    stays in an open queue until an officer accepts or closes it, and a final state never changes."""
    case, _ = apply_decision(None, first, T0)
    finals: dict[ItemKey, QueueItem] = {}
    assert_invariants(case, case, finals)
    sent: list[tuple[OfficerAction, OfficerScope]] = []
    now = T0
    for step in range(data.draw(st.integers(min_value=1, max_value=25), label="steps")):
        now += timedelta(minutes=data.draw(st.integers(min_value=0, max_value=3000), label="wait"))
        before, acted = case, None
        move = data.draw(st.sampled_from(["act", "act", "act", "redeliver", "decide", "tick"]), label="move")
        if move == "redeliver" and sent:
            old, officer = data.draw(st.sampled_from(sent), label="redelivered")
            outcome = apply_action(case, old, officer, now, RULESET, due_at)
            assert outcome.case == case
            if old.action_id in case.actions:
                assert outcome.redelivered
            else:  # an action from outside the queue's scope was not kept: it is refused again
                assert outcome.refusal in UNRECORDED_REFUSALS and not outcome.redelivered
        elif move == "decide":
            late = decision(
                *data.draw(st.lists(assignments, min_size=1, max_size=2), label="assignments"),
                decision_id=f"late-{step}",
                kind=DecisionKind.reassignment,
                at=now,
            )
            case, _ = apply_decision(case, late, now)
            assert apply_decision(case, late, now) == (case, [])
        elif move == "tick":
            case, escalations = find_breaches(case, now)
            assert find_breaches(case, now)[1] == []
            assert all(case.items[e.service].escalated_for_due_at == e.due_at for e in escalations)
        else:
            # mostly the referral's own items and officers who may act on them, sometimes anyone anywhere
            service = data.draw(st.sampled_from([*case.items] * 4 + SERVICES), label="service")
            covering = [officer for officer in OFFICERS if officer.covers(service)]
            officer = data.draw(st.sampled_from(covering * 3 + OFFICERS), label="officer")
            sent_action = action(
                data.draw(st.sampled_from(list(ActionKind)), label="kind"),
                service,
                officer.officer_id,
                action_id=f"action-{step}",
                reason=data.draw(REASONS, label="reason"),
                to=data.draw(st.one_of(st.none(), st.sampled_from(SERVICES)), label="to"),
                at=now,
            )
            outcome = apply_action(case, sent_action, officer, now, RULESET, due_at)
            sent.append((sent_action, officer))
            assert (outcome.status == "applied") == (outcome.refusal is None)
            if outcome.status == "refused":
                assert outcome.case.items == case.items
            case, acted = outcome.case, outcome.item
            if outcome.follow_up is not None:
                # the follow-up read back from triage.decisions is already applied
                assert apply_decision(case, outcome.follow_up, now) == (case, [])
        assert_invariants(case, before, finals, acted)
        assert Case.model_validate_json(case.model_dump_json()) == case


def test_two_assignments_to_one_service_in_a_decision_make_one_item() -> None:
    """A decision naming a service twice still gives that service one item, at the higher priority."""
    made = decision(assignment(Service.sada), assignment(Service.sada, Priority.urgent))
    case, items = apply_decision(None, made, T0)
    assert list(case.items) == [Service.sada]
    assert isinstance(items[0], QueueItem)
    assert items[0].priority is Priority.urgent
