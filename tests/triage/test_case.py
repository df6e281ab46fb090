"""A referral's case: decisions into queue items, merged into open items, and the case's own flags."""

from __future__ import annotations

from datetime import timedelta

import pytest

from schemas.decision import DecisionKind, Flag
from schemas.vocabulary import Priority, Service
from services.triage.cases.case import apply_decision
from tests.triage.decision_factory import T0, assignment, decision

LATER = T0 + timedelta(hours=2)


def test_a_fresh_item_names_the_service_it_replaces() -> None:
    """A manual-review item standing in for hate crime says so."""
    made = decision(assignment(Service.manual_review, replaces=Service.hate_crime))
    _, [item] = apply_decision(None, made, T0)
    assert item.replaces == Service.hate_crime


def test_a_merged_item_takes_the_replaced_service_from_the_later_assignment() -> None:
    """An open item that replaced nothing learns what a later assignment to it replaces."""
    case, _ = apply_decision(None, decision(Service.manual_review), T0)
    later = decision(assignment(Service.manual_review, replaces=Service.sada), kind=DecisionKind.reassignment)
    _, [item] = apply_decision(case, later, LATER)
    assert item.replaces == Service.sada


def test_a_merged_item_keeps_the_replaced_service_it_already_had() -> None:
    """A later assignment that replaces nothing does not clear what the item replaces."""
    first = decision(assignment(Service.manual_review, replaces=Service.hate_crime))
    case, _ = apply_decision(None, first, T0)
    later = decision(assignment(Service.manual_review, Priority.high), kind=DecisionKind.reassignment)
    _, [item] = apply_decision(case, later, LATER)
    assert item.replaces == Service.hate_crime


def test_a_merged_item_is_updated_at_the_time_of_the_later_decision() -> None:
    """Merging a change into an open item moves its updated_at, not its created_at."""
    case, _ = apply_decision(None, decision(Service.sada), T0)
    later = decision(assignment(Service.sada, Priority.high), kind=DecisionKind.reassignment)
    _, [item] = apply_decision(case, later, LATER)
    assert (item.created_at, item.updated_at) == (T0, LATER)


def test_the_case_flags_are_the_union_of_every_decision() -> None:
    """Flags of a later decision are added to the case's, in first-seen order, without repeats."""
    case, _ = apply_decision(None, decision(Service.sada, flags=[Flag.marac]), T0)
    later = decision(Service.sos, kind=DecisionKind.reassignment, flags=[Flag.repeat, Flag.marac])
    case, _ = apply_decision(case, later, LATER)
    assert case.flags == [Flag.marac, Flag.repeat]


def test_a_decision_for_another_referral_is_refused() -> None:
    """A decision is never applied to another referral's case."""
    case, _ = apply_decision(None, decision(Service.sada), T0)
    with pytest.raises(ValueError, match=r"^decision belongs to another referral$"):
        apply_decision(case, decision(Service.sada, referral_id="another-referral"), T0)
