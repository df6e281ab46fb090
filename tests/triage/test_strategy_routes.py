"""The routes added to cover the whole strategy (ruleset 2026.12.1), row by row with their age, release-day
and consent boundaries. `docs/routing.md` names the strategy sentence behind each rule."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from services.triage.routing.rules import PriorSubjectReferral, decide
from services.triage.routing.ruleset import Ruleset
from tests.triage.referral_factory import SUBMITTED_AT, build_referral
from tests.triage.test_rules import DAY, NO_CONSENT, Route, case, prior, routes

AT_RISK = {"role": "at_risk"}
ASB = {"concerns": ["antisocial_behaviour"], "role": "perpetrator"}
MARAC = "marac/high: marac-coordinator"
EXPLOITED_CHILD = {"concerns": ["county_lines", "exploitation", "missing_episodes"], "age": 13, **AT_RISK}

CASES = [
    # --- anti-social behaviour: community safety team; YC Herts for 14 to 17 -------------------------
    case("adult-asb-goes-to-the-asb-team-standard", {**ASB, "age": 40}, "asb/standard: asb"),
    case(
        "asb-with-medium-risk-is-medium",
        {**ASB, "age": 40, "risk_level": "medium"},
        "asb/medium: asb",
    ),
    case("asb-at-18-is-the-asb-team-only", {**ASB, "age": 18}, "asb/standard: asb"),
    case(
        "asb-at-17-also-goes-to-yc-herts",
        {**ASB, "age": 17},
        "asb/standard: asb",
        "yc_herts/standard: asb-young-person",
    ),
    case(
        "asb-at-14-also-goes-to-yc-herts",
        {**ASB, "age": 14},
        "asb/standard: asb",
        "yc_herts/standard: asb-young-person",
    ),
    case("asb-at-13-is-the-asb-team-only", {**ASB, "age": 13}, "asb/standard: asb"),
    # --- child exploitation: safeguarding_child, consent exemption --------------------------------------
    case(
        "exploited-13-year-old-without-consent-is-safeguarded-not-held",
        {**EXPLOITED_CHILD, **NO_CONSENT},
        "sos/high: youth-violence",
        "youth_no_more/medium: youth-no-more-violence",
        "mnwg/standard: youth-violence-family",
        flags=("safeguarding_child",),
    ),
    case(
        "county-lines-at-17-is-a-child",
        {"concerns": ["county_lines"], "age": 17, **AT_RISK, **NO_CONSENT},
        "sos/high: youth-violence",
        "youth_no_more/medium: youth-no-more-violence",
        "mnwg/standard: youth-violence-family",
        flags=("safeguarding_child",),
    ),
    case(
        "county-lines-at-18-without-consent-is-held-for-consent",
        {"concerns": ["county_lines"], "age": 18, **AT_RISK, **NO_CONSENT},
        "manual_review/high: youth-violence, youth-no-more-violence, no-lawful-basis",
    ),
    case(
        "child-sexual-exploitation-at-15-goes-to-manual-review-high",
        {"concerns": ["child_sexual_exploitation"], "age": 15, **AT_RISK, **NO_CONSENT},
        "manual_review/high: child-sexual-exploitation",
        flags=("safeguarding_child",),
    ),
    case(
        "online-harm-at-17-is-child-safeguarding",
        {"concerns": ["online_harm"], "age": 17, **AT_RISK},
        "manual_review/high: child-sexual-exploitation",
        flags=("safeguarding_child",),
    ),
    case(
        "online-harm-at-18-matches-nothing",
        {"concerns": ["online_harm"], "age": 18, **AT_RISK},
        "manual_review/standard: nothing-matched",
    ),
    case(
        "exploitation-of-unknown-age-goes-to-manual-review",
        {"concerns": ["child_sexual_exploitation"], "age": None, **AT_RISK},
        "manual_review/high: child-exploitation, child-sexual-exploitation",
    ),
    # --- adult exploitation (cuckooing): No More from 26; SOS and Youth No More to 25 -------------------
    case(
        "cuckooing-at-26-goes-to-no-more-medium",
        {"concerns": ["exploitation"], "age": 26, **AT_RISK},
        "no_more/medium: adult-exploitation",
    ),
    case(
        "cuckooing-at-high-risk-is-high",
        {"concerns": ["exploitation"], "age": 50, "risk_level": "high", **AT_RISK},
        "no_more/high: adult-exploitation",
    ),
    case(
        "exploitation-at-25-goes-to-sos-and-youth-no-more",
        {"concerns": ["exploitation"], "age": 25, **AT_RISK},
        "sos/medium: youth-violence",
        "youth_no_more/medium: youth-no-more-violence",
    ),
    # --- Youth No More (to 25) and No More (26 and over) -----------------------------------------------
    case(
        "substance-misuse-at-17-goes-to-youth-no-more-medium",
        {"concerns": ["substance_misuse"], "age": 17, **AT_RISK},
        "youth_no_more/medium: youth-no-more",
    ),
    case(
        "substance-misuse-at-18-goes-to-youth-no-more-standard",
        {"concerns": ["substance_misuse"], "age": 18, **AT_RISK},
        "youth_no_more/standard: youth-no-more",
    ),
    case(
        "offending-at-25-goes-to-youth-no-more",
        {"concerns": ["offending"], "age": 25, **AT_RISK},
        "youth_no_more/standard: youth-no-more",
    ),
    case(
        "offending-at-26-goes-to-no-more",
        {"concerns": ["offending"], "age": 26, **AT_RISK},
        "no_more/standard: substance-or-offending",
    ),
    case(
        "violence-at-25-goes-to-sos-and-youth-no-more",
        {"concerns": ["violent_crime"], "age": 25, **AT_RISK},
        "sos/medium: youth-violence",
        "youth_no_more/medium: youth-no-more-violence",
    ),
    case(
        "violence-at-26-matches-nothing",
        {"concerns": ["violent_crime"], "age": 26, **AT_RISK},
        "manual_review/standard: nothing-matched",
    ),
    # --- prison and probation releases: 84 days before or after ---------------------------------------
    *(
        case(
            f"{agency}-release-{label}-goes-to-no-more-{priority}",
            {"agency": agency, "role": "at_risk", "concerns": ["mental_health"], "release_date": DAY + delta},
            f"no_more/{priority}: prison-leaver",
        )
        for agency in ("prison", "probation")
        for label, delta, priority in (
            ("in-84-days", timedelta(days=84), "medium"),
            ("84-days-ago", timedelta(days=-84), "medium"),
            ("in-14-days", timedelta(days=14), "high"),
            ("14-days-ago", timedelta(days=-14), "high"),
            ("today", timedelta(), "high"),
        )
    ),
    *(
        case(
            f"{agency}-release-{label}-is-not-a-recent-release",
            {"agency": agency, "role": "at_risk", "concerns": ["mental_health"], "release_date": DAY + delta},
            "manual_review/standard: nothing-matched",
        )
        for agency in ("prison", "probation")
        for label, delta in (("in-85-days", timedelta(days=85)), ("85-days-ago", timedelta(days=-85)))
    ),
    case(
        "police-referral-with-a-release-date-is-not-a-prison-leaver",
        {"agency": "police", "role": "at_risk", "concerns": ["mental_health"], "release_date": DAY},
        "manual_review/standard: nothing-matched",
    ),
    # --- domestic abuse: person at risk and family ---------------------------------------------------
    case(
        "da-person-at-risk-with-dash-18-goes-to-sada-high-and-marac",
        {"role": "at_risk", "dash_score": 18},
        MARAC,
        "sada/high: da-victim-high-risk, da-victim",
        flags=("marac",),
    ),
    case("da-person-at-risk-goes-to-sada-medium", {"role": "at_risk"}, "sada/medium: da-victim"),
    case(
        "da-family-member-with-dash-18-goes-to-sada-high-without-marac",
        {"role": "family", "dash_score": 18},
        "sada/high: da-family",
    ),
    case("da-family-member-goes-to-sada-medium", {"role": "family"}, "sada/medium: da-family"),
    case(
        "da-family-member-under-16-matches-nothing",
        {"role": "family", "age": 15},
        "manual_review/standard: nothing-matched",
    ),
    case(
        "da-child-at-risk-under-16-is-child-safeguarding",
        {"role": "at_risk", "age": 15},
        "manual_review/high: da-child-victim",
        flags=("safeguarding_child",),
    ),
    # --- stalking and honour-based abuse: SADA ---------------------------------------------------------
    case("stalking-victim-goes-to-sada-medium", {"concerns": ["stalking"]}, "sada/medium: stalking"),
    case(
        "high-risk-stalking-goes-to-sada-high-and-marac",
        {"concerns": ["stalking"], "dash_score": 14},
        MARAC,
        "sada/high: stalking",
        flags=("marac",),
    ),
    case(
        "honour-based-abuse-is-at-least-high",
        {"concerns": ["honour_based_abuse"]},
        "sada/high: honour-based-abuse",
    ),
    case(
        "honour-based-abuse-at-high-risk-goes-to-marac",
        {"concerns": ["honour_based_abuse"], "risk_level": "high"},
        MARAC,
        "sada/high: honour-based-abuse",
        flags=("marac",),
    ),
    case(
        "honour-based-abuse-at-17-is-sada-and-child-safeguarding",
        {"concerns": ["honour_based_abuse"], "age": 17, **NO_CONSENT},
        "sada/high: honour-based-abuse",
        flags=("safeguarding_child",),
    ),
    case(
        "stalking-of-a-15-year-old-is-child-safeguarding",
        {"concerns": ["stalking"], "age": 15},
        "manual_review/high: abuse-child-victim",
        flags=("safeguarding_child",),
    ),
    # --- MARAC coordinator queue -----------------------------------------------------------------------
    case(
        "repeat-victimisation-marac-also-reaches-the-coordinator",
        {},
        MARAC,
        "sada/medium: da-victim, repeat-referral",
        flags=("marac", "repeat"),
        history=(prior(30),),
    ),
    case(
        "marac-coordinator-covers-hertsmere",
        {"dash_score": 20, "district": "hertsmere"},
        MARAC,
        "sada/high: da-victim-high-risk, da-victim",
        flags=("marac",),
    ),
    case(
        "marac-outside-hertfordshire-goes-to-manual-review",
        {"dash_score": 20, "district": "other"},
        "manual_review/high: da-victim-high-risk, da-victim, marac-coordinator, out-of-area",
        flags=("marac",),
    ),
    # --- coverage: SADA's county-wide pilot ------------------------------------------------------------
    case("sada-covers-watford-under-the-county-wide-pilot", {"district": "watford"}, "sada/medium: da-victim"),
    case(
        "youth-no-more-covers-dacorum-under-the-county-wide-pilot",
        {"concerns": ["offending"], "age": 20, "district": "dacorum", **AT_RISK},
        "youth_no_more/standard: youth-no-more",
    ),
    case(
        "no-more-does-not-cover-watford",
        {"concerns": ["offending"], "age": 40, "district": "watford", **AT_RISK},
        "manual_review/standard: substance-or-offending, out-of-area",
    ),
    # --- safe to contact ---------------------------------------------------------------------------------
    case(
        "not-safe-to-contact-flags-do-not-contact-directly",
        {"safe_to_contact": False},
        "sada/medium: da-victim",
        flags=("do_not_contact_directly",),
    ),
    case("safe-to-contact-unknown-raises-no-flag", {"safe_to_contact": None}, "sada/medium: da-victim"),
]


@pytest.mark.parametrize(("facts", "history", "expected_routes", "expected_flags"), CASES)
def test_strategy_route(
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
