"""The what-if replay routes with `route(..., explain=False)`, which skips the plain words. It must decide
exactly what `decide` decides: the same services, priorities, rule ids, replaced services and flags, and
the same status, service, priority and flags for every rule that did not come out "not matched".

Checked on every row of the policy table (`test_rules.py`), on every `sosafe demo` scenario (first time
and as a repeat), and on facts drawn at random over every field the rules read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.identity import referral_id_for
from schemas.referral import Referral
from schemas.submission import ReferralSubmission
from schemas.vocabulary import PRIORITY_RANK, Agency, Concern, ConsentBasis, District, RiskLevel, Role
from services.cli.synthetic import scenario_names, synthetic_submissions
from services.triage.routing.conditions import Facts, facts_of
from services.triage.routing.overrides import Draft
from services.triage.routing.rules import PriorSubjectReferral, RuleFinding, RuleStatus, explain, route
from services.triage.routing.ruleset import DEFAULT_RULESET_PATH, Ruleset, load_ruleset
from tests.triage.referral_factory import build_referral
from tests.triage.test_rules import CASES

RULESET = load_ruleset(DEFAULT_RULESET_PATH)
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def _assigned(drafts: list[Draft]) -> list[tuple[str, str, list[str], list[str]]]:
    """(service, priority, rule ids, replaced services), in the decision's order."""
    ordered = sorted(drafts, key=lambda d: (PRIORITY_RANK[d.priority], d.service.value))
    return [(d.service.value, d.priority.value, list(d.rule_ids), [s.value for s in d.replaces]) for d in ordered]


def _fired(findings: tuple[RuleFinding, ...]) -> list[tuple[Any, ...]]:
    return [
        (f.rule_id, f.status, f.service, f.priority, f.flags)
        for f in findings
        if f.status is not RuleStatus.not_matched
    ]


def _same_as_decide(referral: Referral, history: list[PriorSubjectReferral], ruleset: Ruleset = RULESET) -> None:
    explained = explain(referral, ruleset, referral.accepted_at, history)
    decision = explained.decision
    repeat_id = ruleset.overrides.repeat_referral.rule_id
    is_repeat = next(note.applied for note in explained.overrides if note.rule_id == repeat_id)
    findings, notes, drafts, flags = route(facts_of(referral.submission), ruleset, is_repeat=is_repeat, explain=False)
    assert _assigned(drafts) == [
        (a.service.value, a.priority.value, a.rule_ids, [s.value for s in a.replaces_all]) for a in decision.assignments
    ]
    assert sorted(flags) == decision.flags
    assert _fired(findings) == _fired(explained.rules)
    assert all(finding.checks == () for finding in findings)
    assert notes == ()


@pytest.mark.parametrize(("facts", "history", "expected_routes", "expected_flags"), CASES)
def test_every_policy_table_row_routes_the_same_without_explaining(
    facts: dict[str, Any], history: list[PriorSubjectReferral], expected_routes: Any, expected_flags: Any
) -> None:
    _same_as_decide(build_referral(**facts), history)


def _demo_referral(body: dict[str, Any]) -> Referral:
    submission = ReferralSubmission.model_validate(body)
    referral_id = referral_id_for(submission.source.system, submission.source.reference)
    return Referral(
        referral_id=referral_id,
        submission_id=referral_id,
        partner_id="dev-partner",
        channel="http",
        received_at=submission.submitted_at,
        accepted_at=submission.submitted_at,
        subject_key=None,
        submission=submission,
    )


@pytest.mark.parametrize("repeat", [False, True], ids=["first", "repeat"])
def test_every_demo_scenario_routes_the_same_without_explaining(repeat: bool) -> None:
    count = 2 * len(scenario_names())
    earlier = [PriorSubjectReferral(referral_id="earlier", accepted_at=NOW - timedelta(days=3))] if repeat else []
    for body in synthetic_submissions(count, seed=15, now=NOW, run="same-route"):
        _same_as_decide(_demo_referral(body), earlier)


def _facts() -> st.SearchStrategy[Facts]:
    maybe_int = st.none() | st.integers(min_value=0, max_value=100)
    return st.builds(
        Facts,
        age=maybe_int,
        concerns=st.frozensets(st.sampled_from(list(Concern)), max_size=4),
        role=st.sampled_from(list(Role)),
        agency=st.sampled_from(list(Agency)),
        dash_score=st.none() | st.integers(min_value=0, max_value=27),
        risk_level=st.none() | st.sampled_from(list(RiskLevel)),
        children_under_18=st.none() | st.integers(min_value=0, max_value=4),
        days_to_release=st.none() | st.integers(min_value=-60, max_value=120),
        consent_obtained=st.booleans(),
        consent_basis=st.none() | st.sampled_from(list(ConsentBasis)),
        district=st.none() | st.sampled_from(list(District)),
        immediate_danger=st.booleans(),
        safe_to_contact=st.none() | st.booleans(),
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(facts=_facts(), is_repeat=st.booleans())
def test_random_facts_route_the_same_with_or_without_explaining(facts: Facts, is_repeat: bool) -> None:
    explained = route(facts, RULESET, is_repeat=is_repeat)
    quiet = route(facts, RULESET, is_repeat=is_repeat, explain=False)
    assert _assigned(quiet[2]) == _assigned(explained[2])
    assert quiet[3] == explained[3]
    assert _fired(quiet[0]) == _fired(explained[0])
