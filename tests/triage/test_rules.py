"""The default policy applied by the pure engine, row by row and in combination."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from schemas.decision import TriageDecision
from services.triage.routing.rules import PriorSubjectReferral, decide
from services.triage.routing.ruleset import Ruleset
from tests.triage.referral_factory import SUBMITTED_AT, build_referral

Route = tuple[str, str, list[str]]
"""(service, priority, rule ids) of one assignment."""


def prior(days_before: float, referral_id: str = "prior-referral") -> PriorSubjectReferral:
    """An earlier referral of the same subject, accepted `days_before` this one."""
    accepted_at = SUBMITTED_AT - timedelta(days=days_before)
    return PriorSubjectReferral(referral_id=referral_id, accepted_at=accepted_at)


def case(
    name: str,
    facts: dict[str, Any],
    *expected: str,
    flags: tuple[str, ...] = (),
    history: tuple[PriorSubjectReferral, ...] = (),
) -> Any:
    """One row of the table; each expected assignment is written "service/priority: rule-id, rule-id"."""
    routes = []
    for text in expected:
        head, rule_ids = text.split(": ")
        service, priority = head.split("/")
        routes.append((service, priority, rule_ids.split(", ")))
    return pytest.param(facts, list(history), routes, list(flags), id=name)


def routes(decision: TriageDecision) -> list[Route]:
    return [(a.service.value, a.priority.value, list(a.rule_ids)) for a in decision.assignments]


DAY = SUBMITTED_AT.date()
NO_CONSENT = {"consent_obtained": False, "consent_basis": "consent"}
AT_RISK = {"role": "at_risk"}
PRISON = {"agency": "prison", "role": "at_risk", "concerns": ["mental_health"]}
DA_HIGH = "da-victim-high-risk, da-victim"
MARAC = "marac/high: marac-coordinator"
"""The MARAC coordinator's item, raised with every `marac` flag (sorted first among the high items)."""

CASES = [
    # --- domestic abuse ------------------------------------------------------------------------------
    case(
        "high-dash-da-victim-goes-to-sada-high-with-marac",
        {"dash_score": 15},
        MARAC,
        f"sada/high: {DA_HIGH}",
        flags=("marac",),
    ),
    case(
        "high-risk-level-alone-is-enough-for-marac",
        {"risk_level": "high"},
        MARAC,
        f"sada/high: {DA_HIGH}",
        flags=("marac",),
    ),
    case(
        "da-victim-below-high-risk-goes-to-sada-medium",
        {"dash_score": 13, "risk_level": "medium"},
        "sada/medium: da-victim",
    ),
    case("da-victim-aged-exactly-16-is-an-adult-victim", {"age": 16}, "sada/medium: da-victim"),
    case(
        "da-victim-under-16-goes-to-manual-review-high-with-safeguarding",
        {"age": 15},
        "manual_review/high: da-child-victim",
        flags=("safeguarding_child",),
    ),
    case("da-perpetrator-goes-to-no-more-medium", {"role": "perpetrator", "age": 40}, "no_more/medium: da-perpetrator"),
    case(
        "da-perpetrator-with-children-flags-children-in-household",
        {"role": "perpetrator", "age": 40, "children_under_18": 3},
        "no_more/medium: da-perpetrator",
        flags=("children_in_household",),
    ),
    case(
        "da-victim-with-children-flags-children-in-household",
        {"children_under_18": 2},
        "sada/medium: da-victim",
        flags=("children_in_household",),
    ),
    case(
        "da-family-member-goes-to-sada-and-children-are-flagged",
        {"role": "family", "children_under_18": 1},
        "sada/medium: da-family",
        flags=("children_in_household",),
    ),
    case(
        "da-flag-only-rule-does-not-count-as-routing",
        {"role": "family", "age": 15, "children_under_18": 1},
        "manual_review/standard: nothing-matched",
        flags=("children_in_household",),
    ),
    # --- modern slavery and hate crime ---------------------------------------------------------------
    case(
        "child-modern-slavery-victim-gets-nrm-child-without-consent",
        {"concerns": ["modern_slavery"], "age": 15, "consent_obtained": False, "consent_basis": None},
        "modern_slavery/high: modern-slavery",
        flags=("nrm_child",),
    ),
    case(
        "adult-modern-slavery-victim-without-consent-gets-duty-to-notify",
        {"concerns": ["modern_slavery"], "age": 41, **NO_CONSENT},
        "modern_slavery/high: modern-slavery",
        flags=("duty_to_notify",),
    ),
    case(
        "adult-modern-slavery-victim-with-consent-raises-no-flag",
        {"concerns": ["modern_slavery"]},
        "modern_slavery/high: modern-slavery",
    ),
    case(
        "no-consent-keeps-modern-slavery-but-sends-the-rest-to-manual-review",
        {"concerns": ["modern_slavery", "hate_crime"], "age": 41, **NO_CONSENT},
        "modern_slavery/high: modern-slavery",
        "manual_review/medium: hate-crime, no-lawful-basis",
        flags=("duty_to_notify",),
    ),
    case(
        "modern-slavery-at-17-without-consent-is-a-child-nrm",
        {"concerns": ["modern_slavery"], "age": 17, **NO_CONSENT},
        "modern_slavery/high: modern-slavery",
        flags=("nrm_child",),
    ),
    case(
        "modern-slavery-at-18-without-consent-is-an-adult-duty-to-notify",
        {"concerns": ["modern_slavery"], "age": 18, **NO_CONSENT},
        "modern_slavery/high: modern-slavery",
        flags=("duty_to_notify",),
    ),
    case(
        "modern-slavery-victim-turning-18-tomorrow-is-still-a-child",
        {"concerns": ["modern_slavery"], "age": None, "date_of_birth": date(2008, 11, 27), **NO_CONSENT},
        "modern_slavery/high: modern-slavery",
        flags=("nrm_child",),
    ),
    case(
        "modern-slavery-at-18-with-consent-raises-no-flag",
        {"concerns": ["modern_slavery"], "age": 18},
        "modern_slavery/high: modern-slavery",
    ),
    case(
        "modern-slavery-of-unknown-age-with-consent-is-presumed-a-child",
        {"concerns": ["modern_slavery"], "age": None},
        "modern_slavery/high: modern-slavery",
        flags=("nrm_child",),
    ),
    case(
        "presumed-child-nrm-lifts-the-consent-hold-like-a-known-child",
        {"concerns": ["modern_slavery", "hate_crime"], "age": None, **NO_CONSENT},
        "modern_slavery/high: modern-slavery",
        "hate_crime/medium: hate-crime",
        flags=("nrm_child",),
    ),
    case(
        "modern-slavery-with-a-date-of-birth-is-not-presumed-a-child",
        {"concerns": ["modern_slavery"], "age": None, "date_of_birth": date(2000, 1, 1), **NO_CONSENT},
        "modern_slavery/high: modern-slavery",
        flags=("duty_to_notify",),
    ),
    case("hate-crime-goes-to-hate-crime-medium", {"concerns": ["hate_crime"]}, "hate_crime/medium: hate-crime"),
    # --- youth violence ------------------------------------------------------------------------------
    case(
        "young-adult-in-violence-goes-to-sos-medium",
        {"concerns": ["violent_crime"], "age": 19, **AT_RISK},
        "sos/medium: youth-violence",
        "youth_no_more/medium: youth-no-more-violence",
    ),
    case(
        "knife-crime-at-25-goes-to-sos-high",
        {"concerns": ["knife_crime"], "age": 25, **AT_RISK},
        "sos/high: youth-violence",
        "youth_no_more/medium: youth-no-more-violence",
    ),
    case(
        "child-in-county-lines-goes-to-sos-high-and-family-to-mnwg",
        {"concerns": ["county_lines"], "age": 16, **AT_RISK},
        "sos/high: youth-violence",
        "youth_no_more/medium: youth-no-more-violence",
        "mnwg/standard: youth-violence-family",
        flags=("safeguarding_child",),
    ),
    case(
        "violence-over-25-matches-nothing",
        {"concerns": ["violent_crime"], "age": 26, **AT_RISK},
        "manual_review/standard: nothing-matched",
    ),
    case(
        "young-da-victim-in-a-gang-goes-to-sada-sos-and-mnwg",
        {"concerns": ["domestic_abuse", "gang_involvement"], "age": 17, "dash_score": 16},
        MARAC,
        f"sada/high: {DA_HIGH}",
        "sos/medium: youth-violence",
        "youth_no_more/medium: youth-no-more-violence",
        "mnwg/standard: youth-violence-family",
        flags=("marac",),
    ),
    # --- prison leavers, substance misuse, offending, multiple needs -------------------------------------
    case(
        "prison-leaver-with-three-needs-goes-to-no-more-high-and-mnwg",
        {
            **PRISON,
            "release_date": DAY + timedelta(days=10),
            "concerns": ["substance_misuse", "homelessness", "mental_health"],
        },
        "no_more/high: prison-leaver, substance-or-offending",
        "mnwg/medium: multiple-needs",
    ),
    case(
        "prison-leaver-released-in-84-days-goes-to-no-more-medium",
        {**PRISON, "release_date": DAY + timedelta(days=84)},
        "no_more/medium: prison-leaver",
    ),
    case(
        "prison-leaver-released-14-days-ago-is-high",
        {**PRISON, "release_date": DAY - timedelta(days=14)},
        "no_more/high: prison-leaver",
    ),
    case(
        "release-85-days-away-is-not-a-prison-leaver",
        {**PRISON, "release_date": DAY + timedelta(days=85)},
        "manual_review/standard: nothing-matched",
    ),
    case(
        "probation-release-is-treated-like-a-prison-release",
        {**PRISON, "agency": "probation", "release_date": DAY + timedelta(days=5), "concerns": ["offending"]},
        "no_more/high: prison-leaver, substance-or-offending",
    ),
    case(
        "substance-misuse-under-18-goes-to-youth-no-more",
        {"concerns": ["substance_misuse"], "age": 17, **AT_RISK},
        "youth_no_more/medium: youth-no-more",
    ),
    case(
        "three-needs-go-to-mnwg-medium-at-any-age",
        {"concerns": ["mental_health", "missing_episodes", "education_exclusion"], "age": 14, **AT_RISK},
        "mnwg/medium: multiple-needs",
    ),
    # --- out of area ---------------------------------------------------------------------------------
    case(
        "sada-covers-east-herts",
        {"dash_score": 20, "district": "east_herts"},
        MARAC,
        f"sada/high: {DA_HIGH}",
        flags=("marac",),
    ),
    case(
        "out-of-area-da-goes-to-manual-review-keeping-high",
        {"dash_score": 20, "district": "other"},
        f"manual_review/high: {DA_HIGH}, marac-coordinator, out-of-area",
        flags=("marac",),
    ),
    case(
        "out-of-area-replaces-only-the-services-not-covering-the-district",
        {"concerns": ["domestic_abuse", "hate_crime"], "district": "north_herts"},
        "manual_review/medium: hate-crime, out-of-area",
        "sada/medium: da-victim",
    ),
    case(
        "no-district-is-never-out-of-area",
        {"concerns": ["hate_crime"], "district": None},
        "hate_crime/medium: hate-crime",
    ),
    # --- immediate danger and repeat referrals ---------------------------------------------------------
    case(
        "immediate-danger-raises-to-urgent",
        {"immediate_danger": True},
        "sada/urgent: da-victim, immediate-danger",
        flags=("immediate_danger",),
    ),
    case(
        "immediate-danger-raises-even-the-nothing-matched-review",
        {"concerns": ["homelessness"], "immediate_danger": True},
        "manual_review/urgent: nothing-matched, immediate-danger",
        flags=("immediate_danger",),
    ),
    case(
        "repeat-da-referral-flags-repeat-and-marac",
        {},
        MARAC,
        "sada/medium: da-victim, repeat-referral",
        flags=("marac", "repeat"),
        history=(prior(100),),
    ),
    case(
        "repeat-adult-da-victim-at-the-365-day-edge-flags-marac",
        {"age": 30},
        MARAC,
        "sada/medium: da-victim, repeat-referral",
        flags=("marac", "repeat"),
        history=(prior(365),),
    ),
    case(
        "repeat-da-victim-aged-exactly-16-flags-marac",
        {"age": 16},
        MARAC,
        "sada/medium: da-victim, repeat-referral",
        flags=("marac", "repeat"),
        history=(prior(30),),
    ),
    case(
        "repeat-da-victim-aged-15-is-child-safeguarding-not-marac",
        {"age": 15},
        "manual_review/high: da-child-victim, repeat-referral",
        flags=("repeat", "safeguarding_child"),
        history=(prior(30),),
    ),
    case(
        "repeat-da-victim-of-unknown-age-goes-to-manual-review-without-marac",
        {"age": None},
        "manual_review/high: da-victim, da-child-victim, repeat-referral",
        flags=("repeat",),
        history=(prior(30),),
    ),
    case(
        "repeat-da-perpetrator-flags-repeat-only",
        {"role": "perpetrator", "age": 40},
        "no_more/medium: da-perpetrator, repeat-referral",
        flags=("repeat",),
        history=(prior(30),),
    ),
    case(
        "repeat-da-perpetrator-without-consent-is-held-for-consent",
        {"role": "perpetrator", "age": 40, **NO_CONSENT},
        "manual_review/medium: da-perpetrator, repeat-referral, no-lawful-basis",
        flags=("repeat",),
        history=(prior(30),),
    ),
    case(
        "repeat-da-family-member-is-not-marac",
        {"role": "family", "age": 40},
        "sada/medium: da-family, repeat-referral",
        flags=("repeat",),
        history=(prior(30),),
    ),
    case(
        "repeat-without-da-flags-repeat-only",
        {"concerns": ["hate_crime"]},
        "hate_crime/medium: hate-crime, repeat-referral",
        flags=("repeat",),
        history=(prior(365),),
    ),
    case("referral-over-365-days-ago-is-not-a-repeat", {}, "sada/medium: da-victim", history=(prior(365.01),)),
    case(
        "the-referral-itself-in-history-is-not-a-repeat",
        {},
        "sada/medium: da-victim",
        history=(prior(10, referral_id=build_referral().referral_id),),
    ),
    case("a-later-referral-does-not-make-this-one-a-repeat", {}, "sada/medium: da-victim", history=(prior(-1),)),
    # --- age -----------------------------------------------------------------------------------------
    case(
        "da-victim-of-unknown-age-goes-to-manual-review",
        {"age": None},
        "manual_review/high: da-victim, da-child-victim",
    ),
    case(
        "youth-violence-of-unknown-age-goes-to-manual-review-keeping-high",
        {"concerns": ["knife_crime"], "age": None, **AT_RISK},
        "manual_review/high: youth-violence, youth-violence-family, youth-no-more-violence",
    ),
    case(
        "modern-slavery-of-unknown-age-is-presumed-a-child",
        {"concerns": ["modern_slavery"], "age": None, **NO_CONSENT},
        "modern_slavery/high: modern-slavery",
        flags=("nrm_child",),
    ),
    case(
        "unknown-age-does-not-matter-to-rules-without-age",
        {"concerns": ["hate_crime"], "age": None},
        "hate_crime/medium: hate-crime",
    ),
    case(
        "date-of-birth-wins-over-age-and-the-birthday-tomorrow-does-not-count",
        {"age": 30, "date_of_birth": date(2010, 11, 27)},
        "manual_review/high: da-child-victim",
        flags=("safeguarding_child",),
    ),
    case(
        "sixteenth-birthday-on-the-day-of-referral-counts",
        {"age": None, "date_of_birth": date(2010, 11, 26)},
        "sada/medium: da-victim",
    ),
    # --- no lawful basis -----------------------------------------------------------------------------
    case(
        "da-victim-without-consent-goes-to-manual-review",
        NO_CONSENT,
        "manual_review/medium: da-victim, no-lawful-basis",
    ),
    case(
        "missing-basis-without-consent-goes-to-manual-review",
        {"consent_obtained": False, "consent_basis": None},
        "manual_review/medium: da-victim, no-lawful-basis",
    ),
    case(
        "safeguarding-basis-needs-no-consent",
        {"consent_obtained": False, "consent_basis": "safeguarding"},
        "sada/medium: da-victim",
    ),
    case("marac-needs-no-consent", {"dash_score": 14, **NO_CONSENT}, MARAC, f"sada/high: {DA_HIGH}", flags=("marac",)),
    case(
        "repeat-victimisation-marac-needs-no-consent",
        NO_CONSENT,
        MARAC,
        "sada/medium: da-victim, repeat-referral",
        flags=("marac", "repeat"),
        history=(prior(30),),
    ),
    case(
        "several-replaced-assignments-merge-into-one-manual-review",
        {"concerns": ["hate_crime", "substance_misuse"], **NO_CONSENT},
        "manual_review/medium: hate-crime, substance-or-offending, no-lawful-basis",
    ),
]


@pytest.mark.parametrize(("facts", "history", "expected_routes", "expected_flags"), CASES)
def test_default_policy_routes_the_referral(
    default_ruleset: Ruleset,
    facts: dict[str, Any],
    history: list[PriorSubjectReferral],
    expected_routes: list[Route],
    expected_flags: list[str],
) -> None:
    """Each referral gets exactly the services, priorities, rule ids and flags the policy gives it."""
    decision = decide(build_referral(**facts), default_ruleset, SUBMITTED_AT, history)
    assert routes(decision) == expected_routes
    assert [flag.value for flag in decision.flags] == expected_flags


def test_due_at_counts_from_the_decision_on_each_prioritys_clock(default_ruleset: Ruleset) -> None:
    """From Thursday 26 November 2026 12:00 (GMT): high is 24 wall-clock hours; medium 24 working hours
    (three 09:00-17:00 days: Thursday 5 h, Friday 8 h, Monday 8 h, Tuesday 3 h); standard 40 working hours."""
    now = SUBMITTED_AT + timedelta(hours=2)
    referral = build_referral(concerns=["county_lines"], age=16, role="at_risk")
    decision = decide(referral, default_ruleset, now, [])
    assert [(a.service, a.due_at) for a in decision.assignments] == [
        ("sos", now + timedelta(hours=24)),
        ("youth_no_more", datetime(2026, 12, 1, 12, 0, tzinfo=UTC)),
        ("mnwg", datetime(2026, 12, 3, 12, 0, tzinfo=UTC)),
    ]


def test_immediate_danger_is_due_in_four_hours(default_ruleset: Ruleset) -> None:
    """An urgent assignment is due 4 hours after the decision."""
    decision = decide(build_referral(immediate_danger=True), default_ruleset, SUBMITTED_AT, [])
    assert decision.assignments[0].due_at == SUBMITTED_AT + timedelta(hours=4)


def test_decision_carries_ids_time_version_and_referral_facts(default_ruleset: Ruleset) -> None:
    """The decision id is deterministic and the decision names the ruleset, agency and concerns."""
    referral = build_referral(concerns=["hate_crime", "mental_health"], agency="council")
    now = SUBMITTED_AT + timedelta(minutes=5)
    decision = decide(referral, default_ruleset, now, [])
    expected_id = uuid.uuid5(uuid.NAMESPACE_URL, f"sosafe:decision:{referral.referral_id}:initial")
    assert decision.decision_id == str(expected_id)
    assert decision.referral_id == referral.referral_id
    assert decision.decided_at == now
    assert decision.ruleset_version == "2026.12.1"
    assert decision.source_agency == "council"
    assert decision.concerns == ["hate_crime", "mental_health"]
    assert decide(referral, default_ruleset, now, []) == decision
