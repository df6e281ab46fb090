"""The overrides after the rules: whether each applied to a referral, and the plain words saying why."""

from __future__ import annotations

from typing import Any

import pytest

from services.triage.routing.overrides import OverrideFinding
from services.triage.routing.rules import PriorSubjectReferral, explain
from services.triage.routing.ruleset import DEFAULT_RULESET_PATH, Ruleset, parse_ruleset
from tests.triage.referral_factory import SUBMITTED_AT, build_referral

NO_CONSENT = {"consent_obtained": False, "consent_basis": "consent"}
REPEAT = (PriorSubjectReferral(referral_id="prior", accepted_at=SUBMITTED_AT.replace(month=6)),)


def edited(*changes: tuple[str, str]) -> Ruleset:
    """The default ruleset with each `old` text (which must occur exactly once) replaced by `new`."""
    text = DEFAULT_RULESET_PATH.read_text(encoding="utf-8")
    for old, new in changes:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return parse_ruleset(text, "edited.yaml")


def finding(
    ruleset: Ruleset, rule_id: str, history: tuple[PriorSubjectReferral, ...] = (), **facts: Any
) -> OverrideFinding:
    found = explain(build_referral(**facts), ruleset, SUBMITTED_AT, history).overrides
    return next(f for f in found if f.rule_id == rule_id)


@pytest.mark.parametrize(
    ("rule_id", "facts", "applied", "detail"),
    [
        ("nothing-matched", {}, False, "a rule routed the referral"),
        ("nothing-matched", {"role": "family", "concerns": ["homelessness"]}, True, "no rule routed the referral"),
        ("repeat-referral", {}, False, "no earlier accepted referral in the previous 365 days"),
        ("out-of-area", {"district": None}, False, "no district given"),
        ("out-of-area", {}, False, "every service covers the subject's district"),
        (
            "out-of-area",
            {"concerns": ["hate_crime", "substance_misuse"], "district": "hertsmere"},
            True,
            "district outside the coverage of hate_crime, no_more: sent to manual_review",
        ),
        ("no-lawful-basis", {}, False, "consent obtained"),
        (
            "no-lawful-basis",
            {"consent_obtained": False, "consent_basis": "safeguarding"},
            False,
            "consent not obtained but lawful basis safeguarding given",
        ),
        ("no-lawful-basis", {"dash_score": 15, **NO_CONSENT}, False, "consent not obtained but flag marac raised"),
        (
            "no-lawful-basis",
            {"concerns": ["domestic_abuse", "modern_slavery"], "dash_score": 15, "age": 17, **NO_CONSENT},
            False,
            "consent not obtained but flag marac, nrm_child raised",
        ),
        (
            "no-lawful-basis",
            {"concerns": ["modern_slavery"], "age": 40, **NO_CONSENT},
            False,
            "consent not obtained and basis consent, but no assignment needs consent",
        ),
        (
            "no-lawful-basis",
            NO_CONSENT,
            True,
            "consent not obtained and basis consent: sent to manual_review except modern_slavery",
        ),
        ("immediate-danger", {}, False, "no immediate danger reported"),
        (
            "immediate-danger",
            {"immediate_danger": True},
            True,
            "immediate danger reported: every assignment raised to urgent",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) and " " in value else None,
)
def test_each_override_says_whether_it_applied_and_why(
    default_ruleset: Ruleset, rule_id: str, facts: dict[str, Any], applied: bool, detail: str
) -> None:
    """The explanation of each override names it, says if it applied, and gives its reason in plain words."""
    assert finding(default_ruleset, rule_id, **facts) == OverrideFinding(rule_id, applied, detail)


def test_a_repeat_referral_says_so_and_notes_the_window_on_every_assignment(default_ruleset: Ruleset) -> None:
    """A repeat names the window in its finding and in each assignment's reasons."""
    explained = explain(build_referral(), default_ruleset, SUBMITTED_AT, REPEAT)
    assert (
        OverrideFinding("repeat-referral", True, "the same subject had an accepted referral in the previous 365 days")
        in explained.overrides
    )
    [marac, sada] = explained.decision.assignments  # repeat victimisation flags MARAC after the repeat note
    assert "Repeat referral: the same subject was referred in the previous 365 days" in sada.reasons
    assert marac.rule_ids == ["marac-coordinator"]


def test_the_no_lawful_basis_finding_has_no_exception_when_no_service_is_kept() -> None:
    """Without keep_services the finding just says where the assignments went."""
    ruleset = edited(("    keep_services: [modern_slavery]\n", ""))
    assert finding(ruleset, "no-lawful-basis", **NO_CONSENT).detail == (
        "consent not obtained and basis consent: sent to manual_review"
    )


def test_override_flags_may_depend_on_rules_that_fired() -> None:
    """A repeat or immediate-danger flag written with after_rules is raised when that rule fired."""
    ruleset = edited(
        (
            "      - flag: marac\n        when: {concerns_any: [domestic_abuse], role_in: [victim], min_age: 16}\n",
            "      - flag: marac\n        when: {after_rules: [da-victim]}\n",
        ),
        (
            "    flags: [immediate_danger]\n",
            "    flags:\n      - flag: safeguarding_child\n        when: {after_rules: [da-victim]}\n",
        ),
    )
    repeat = explain(build_referral(), ruleset, SUBMITTED_AT, REPEAT).decision
    danger = explain(build_referral(immediate_danger=True), ruleset, SUBMITTED_AT, []).decision
    assert "marac" in repeat.flags and "safeguarding_child" in danger.flags


def test_the_no_lawful_basis_finding_lists_every_service_kept() -> None:
    """With several kept services the finding names each of them."""
    ruleset = edited(("    keep_services: [modern_slavery]\n", "    keep_services: [modern_slavery, hate_crime]\n"))
    assert finding(ruleset, "no-lawful-basis", **NO_CONSENT).detail == (
        "consent not obtained and basis consent: sent to manual_review except hate_crime, modern_slavery"
    )


def test_an_immediate_danger_flag_may_depend_on_the_referral_facts() -> None:
    """An immediate-danger flag written with a condition on age is raised for a child only."""
    ruleset = edited(
        (
            "    flags: [immediate_danger]\n",
            "    flags:\n      - flag: safeguarding_child\n        when: {max_age: 17}\n",
        )
    )
    child = explain(build_referral(immediate_danger=True, age=17), ruleset, SUBMITTED_AT, []).decision
    adult = explain(build_referral(immediate_danger=True, age=30), ruleset, SUBMITTED_AT, []).decision
    assert "safeguarding_child" in child.flags and "safeguarding_child" not in adult.flags
