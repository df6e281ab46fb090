"""A rule's conditions: the plain words each one reads as, and its outcome for a referral's facts."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from schemas.vocabulary import Agency, Concern, Role
from services.triage.routing.conditions import Check, Facts, Outcome, describe, evaluate
from services.triage.routing.rule_format import When

FACTS = Facts(
    age=30,
    concerns=frozenset({Concern.domestic_abuse, Concern.hate_crime}),
    role=Role.victim,
    agency=Agency.police,
    dash_score=None,
    risk_level=None,
    children_under_18=None,
    days_to_release=None,
    consent_obtained=True,
    consent_basis=None,
    district=None,
    immediate_danger=False,
)


@pytest.mark.parametrize(
    ("when", "words"),
    [
        ({"concerns_any": ["knife_crime"]}, "concerns include knife crime"),
        (
            {"concerns_any": ["knife_crime", "county_lines", "gang_involvement"]},
            "concerns include knife crime, county lines or gang involvement",
        ),
        ({"concerns_all": ["domestic_abuse", "hate_crime"]}, "concerns include domestic abuse and hate crime"),
        (
            {"concerns_at_least": {"count": 2, "of": ["offending", "substance_misuse", "mental_health"]}},
            "at least 2 of: offending, substance misuse, mental health",
        ),
        ({"role_in": ["victim", "at_risk"]}, "role is victim or at risk"),
        ({"agency_in": ["prison"]}, "referred by prison"),
        ({"min_age": 18}, "aged 18 or over"),
        ({"max_age": 17}, "aged 17 or under"),
        ({"dash_score_at_least": 14}, "DASH score 14 or more"),
        ({"risk_level_in": ["high"]}, "risk level high"),
        ({"children_in_household_at_least": 1}, "1 or more children under 18 in the household"),
        ({"released_within_days": 28}, "custody release date within 28 days of the referral"),
        ({"consent_obtained": True}, "consent obtained"),
        ({"consent_obtained": False}, "consent not obtained"),
        ({"after_rules": ["da-victim", "repeat-referral"]}, "rule 'da-victim' and 'repeat-referral' fired"),
        ({"any_of": [{"min_age": 18}, {"role_in": ["family"]}]}, "either aged 18 or over or role is family"),
        ({"concerns_any": ["hate_crime"], "max_age": 25}, "concerns include hate crime and aged 25 or under"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_each_condition_reads_as_plain_words(when: dict[str, Any], words: str) -> None:
    """describe() gives the wording an officer sees in the explanation, condition by condition."""
    assert describe(When.model_validate(when)) == words


def test_evaluate_names_each_check_in_the_same_words() -> None:
    """Each check carries its condition's wording beside its outcome."""
    _, checks = evaluate(When.model_validate({"concerns_any": ["hate_crime"], "min_age": 40}), FACTS, {})
    assert checks == (Check("concerns include hate crime", Outcome.met), Check("aged 40 or over", Outcome.not_met))


@pytest.mark.parametrize(
    ("concerns", "outcome"),
    [
        ({Concern.domestic_abuse, Concern.hate_crime}, Outcome.met),
        ({Concern.domestic_abuse, Concern.hate_crime, Concern.offending}, Outcome.met),
        ({Concern.domestic_abuse}, Outcome.not_met),
    ],
)
def test_concerns_all_needs_every_concern(concerns: set[Concern], outcome: Outcome) -> None:
    """concerns_all is met only when the referral has each listed concern (others may be present)."""
    when = When.model_validate({"concerns_all": ["domestic_abuse", "hate_crime"]})
    assert evaluate(when, replace(FACTS, concerns=frozenset(concerns)), {})[0] == outcome


@pytest.mark.parametrize(
    ("earlier", "outcome"),
    [
        ({"da-victim": Outcome.met}, Outcome.met),
        ({"da-victim": Outcome.unknown}, Outcome.unknown),
        ({"da-victim": Outcome.not_met}, Outcome.not_met),
        ({}, Outcome.not_met),
    ],
)
def test_after_rules_follows_the_earlier_rule(earlier: dict[str, Outcome], outcome: Outcome) -> None:
    """Met when the earlier rule fired, unknown when it was unknown, not met when it did not fire or did not run."""
    when = When.model_validate({"after_rules": ["da-victim"]})
    assert evaluate(when, FACTS, earlier)[0] == outcome


def test_a_group_inside_any_of_sees_the_earlier_rules() -> None:
    """after_rules inside an any_of group reads the same rule outcomes as the rule itself."""
    when = When.model_validate({"any_of": [{"after_rules": ["da-victim"]}, {"min_age": 90}]})
    assert evaluate(when, FACTS, {"da-victim": Outcome.met})[0] == Outcome.met
