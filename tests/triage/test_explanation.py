"""Reasons, replacements and explanations: why a referral reached a queue, without personal data."""

from __future__ import annotations

from datetime import date

import pytest

from schemas.vocabulary import Service
from services.triage.routing.conditions import Outcome
from services.triage.routing.explain_text import render
from services.triage.routing.rules import RuleStatus, decide, explain
from services.triage.routing.ruleset import Ruleset
from tests.triage.referral_factory import SUBMITTED_AT, build_referral

NO_CONSENT = {"consent_obtained": False, "consent_basis": "consent"}


def test_out_of_area_assignment_names_the_service_it_replaces(default_ruleset: Ruleset) -> None:
    """manual_review stands in for hate_crime and its reason says so."""
    decision = decide(build_referral(concerns=["hate_crime"], district="hertsmere"), default_ruleset, SUBMITTED_AT, [])
    [assignment] = decision.assignments
    assert (assignment.service, assignment.replaces) == (Service.manual_review, Service.hate_crime)
    assert any("Out of area" in reason and "hate_crime" in reason for reason in assignment.reasons)


def test_no_lawful_basis_reason_says_consent_required_and_names_the_service(default_ruleset: Ruleset) -> None:
    """The consent reason carries the `consent_required` code and the service it would have gone to."""
    referral = build_referral(consent_obtained=False, consent_basis="consent")
    [assignment] = decide(referral, default_ruleset, SUBMITTED_AT, []).assignments
    assert assignment.replaces == Service.sada
    assert assignment.reasons[-1].startswith("consent_required:")
    assert "sada" in assignment.reasons[-1]


def test_merged_replacements_name_every_replaced_service_most_pressing_first(default_ruleset: Ruleset) -> None:
    """hate_crime (medium) and no_more (standard) merge into one manual_review that replaces both."""
    referral = build_referral(concerns=["hate_crime", "offending"], consent_obtained=False, consent_basis=None)
    [assignment] = decide(referral, default_ruleset, SUBMITTED_AT, []).assignments
    assert assignment.replaces_all == [Service.hate_crime, Service.no_more]
    assert assignment.replaces == Service.hate_crime
    assert sum("consent_required" in reason for reason in assignment.reasons) == 2


def test_one_manual_review_for_sada_sos_and_no_more_names_all_three(default_ruleset: Ruleset) -> None:
    """Three services held for consent fold into one item whose explanation names each of them."""
    referral = build_referral(concerns=["domestic_abuse", "knife_crime", "offending"], age=20, **NO_CONSENT)
    explanation = explain(referral, default_ruleset, SUBMITTED_AT, [])
    [assignment] = explanation.decision.assignments
    assert (assignment.service, assignment.priority) == (Service.manual_review, "high")
    assert assignment.replaces_all == [Service.sos, Service.sada, Service.youth_no_more]
    assert "-> manual_review (instead of sos, sada, youth_no_more): high" in render(explanation)


@pytest.mark.parametrize(("age", "presumed"), [(17, False), (18, False), (None, True)], ids=["17", "18", "unknown"])
def test_modern_slavery_reason_says_a_child_is_presumed_only_when_age_is_unknown(
    default_ruleset: Ruleset, age: int | None, presumed: bool
) -> None:
    """With no age the modern slavery assignment says why it carries nrm_child; with an age it does not."""
    referral = build_referral(concerns=["modern_slavery"], age=age, **NO_CONSENT)
    [assignment] = decide(referral, default_ruleset, SUBMITTED_AT, []).assignments
    assert assignment.rule_ids == ["modern-slavery"]
    presumption = [reason for reason in assignment.reasons if "presumed a child" in reason]
    assert presumption == (
        ["Age not given: presumed a child (NRM, no consent needed) until age is established"] if presumed else []
    )


def test_merged_assignment_keeps_every_rules_reason(default_ruleset: Ruleset) -> None:
    """Both domestic abuse rules explain the one sada assignment."""
    [marac, assignment] = decide(build_referral(dash_score=18), default_ruleset, SUBMITTED_AT, []).assignments
    assert assignment.reasons == [
        "Domestic abuse victim (or person at risk) aged 16 or over with DASH 14 or more or high risk: refer to MARAC",
        "Domestic abuse victim (or person at risk) aged 16 or over: refer to SADA",
    ]
    assert (marac.service, marac.rule_ids) == (Service.marac, ["marac-coordinator"])


def test_conditional_priority_reason_says_what_raised_it(default_ruleset: Ruleset) -> None:
    """A knife crime referral's SOS reason explains the high priority."""
    referral = build_referral(concerns=["knife_crime"], age=20, role="at_risk")
    [assignment, _youth_no_more] = decide(referral, default_ruleset, SUBMITTED_AT, []).assignments
    assert assignment.reasons[0].endswith("(priority high: concerns include knife crime or county lines)")


def test_unknown_age_reason_names_the_rule_and_the_service_that_needed_it(default_ruleset: Ruleset) -> None:
    """The manual review reason says which rule and service depended on the missing age."""
    referral = build_referral(concerns=["substance_misuse"], age=None, role="at_risk")
    explanation = explain(referral, default_ruleset, SUBMITTED_AT, [])
    [assignment] = explanation.decision.assignments
    assert (assignment.service, assignment.priority, assignment.replaces) == (
        Service.manual_review,
        "standard",
        Service.youth_no_more,
    )
    assert assignment.reasons == [
        "Age not given: rule 'youth-no-more' for youth_no_more depends on age, review by hand",
        "Age not given: rule 'substance-or-offending' for no_more depends on age, review by hand",
    ]
    assert assignment.replaces_all == [Service.youth_no_more, Service.no_more]
    finding = next(f for f in explanation.rules if f.rule_id == "substance-or-offending")
    assert finding.status is RuleStatus.age_unknown
    assert [check.outcome for check in finding.checks] == [Outcome.met, Outcome.unknown]


def test_explain_and_decide_agree(default_ruleset: Ruleset) -> None:
    """`decide` returns exactly the decision `explain` shows."""
    referral = build_referral(concerns=["domestic_abuse", "knife_crime"], age=17, immediate_danger=True)
    explanation = explain(referral, default_ruleset, SUBMITTED_AT, [])
    assert explanation.decision == decide(referral, default_ruleset, SUBMITTED_AT, [])
    fired = [f.rule_id for f in explanation.rules if f.status is RuleStatus.fired]
    assert fired == ["da-victim", "youth-violence", "youth-violence-family", "youth-no-more-violence"]
    applied = [note.rule_id for note in explanation.overrides if note.applied]
    assert applied == ["immediate-danger"]


def test_reasons_and_explanation_hold_no_personal_data(default_ruleset: Ruleset) -> None:
    """Names, date of birth, postcode and narrative never reach a reason or the explanation text."""
    personal = {
        "given_name": "Zebedee",
        "family_name": "Quartermaine",
        "postcode": "SG2 7QX",
        "date_of_birth": "1990-02-17",
    }
    narrative = "Unmistakable narrative wording"
    for facts in ({}, {"district": "other"}, {"consent_obtained": False}, {"age": None}):
        referral = build_referral(
            date_of_birth=None if "age" in facts else date(1990, 2, 17),
            submission={"subject": {k: v for k, v in personal.items() if k != "date_of_birth"}, "narrative": narrative},
            **facts,
        )
        explanation = explain(referral, default_ruleset, SUBMITTED_AT, [])
        text = render(explanation) + " ".join(reason for a in explanation.decision.assignments for reason in a.reasons)
        for value in [*personal.values(), narrative, "1990"]:
            assert value not in text


def test_rendered_explanation_shows_fired_rules_overrides_and_assignments(default_ruleset: Ruleset) -> None:
    """The text names the fired rules, each override's outcome and every assignment."""
    referral = build_referral(concerns=["hate_crime"], district="north_herts")
    text = render(explain(referral, default_ruleset, SUBMITTED_AT, []))
    assert "[fired] hate-crime" in text
    assert "[not matched] da-victim:" in text
    assert "[applied] out-of-area: district outside the coverage of hate_crime" in text
    assert "-> manual_review (instead of hate_crime): medium" in text
