"""The ruleset format: the shipped policy loads and has every rule; a bad one fails with one sentence."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from schemas.decision import Flag
from schemas.vocabulary import District, Priority, Service
from services.triage.routing.deadlines import WorkingDeadline
from services.triage.routing.rules import decide
from services.triage.routing.ruleset import DEFAULT_RULESET_PATH, Ruleset, load_ruleset, parse_ruleset
from services.triage.routing.ruleset_errors import RulesetError
from tests.triage.referral_factory import SUBMITTED_AT, build_referral

DEFAULT_TEXT = DEFAULT_RULESET_PATH.read_text(encoding="utf-8")


def edited(old: str, new: str) -> str:
    """The default ruleset text with `old` (which must occur exactly once) replaced by `new`."""
    assert DEFAULT_TEXT.count(old) == 1, old
    return DEFAULT_TEXT.replace(old, new)


def error_for(text: str) -> str:
    with pytest.raises(RulesetError) as raised:
        parse_ruleset(text, "bad.yaml")
    message = str(raised.value)
    assert "\n" not in message
    return message


def test_default_ruleset_loads_with_its_version_and_every_rule(default_ruleset: Ruleset) -> None:
    """The shipped file parses and carries the policy's twenty-four rules."""
    assert default_ruleset.version == "2026.12.1"
    assert [rule.id for rule in default_ruleset.rules] == [
        "da-victim-high-risk",
        "da-victim",
        "da-family",
        "da-child-victim",
        "da-perpetrator",
        "da-children-in-household",
        "stalking",
        "honour-based-abuse",
        "abuse-child-victim",
        "modern-slavery",
        "hate-crime",
        "child-exploitation",
        "child-sexual-exploitation",
        "adult-exploitation",
        "youth-violence",
        "youth-violence-family",
        "youth-no-more-violence",
        "youth-no-more",
        "prison-leaver",
        "substance-or-offending",
        "multiple-needs",
        "asb",
        "asb-young-person",
        "do-not-contact-directly",
    ]


def test_default_ruleset_routes_to_every_service_and_raises_every_flag(default_ruleset: Ruleset) -> None:
    """No queue and no flag of the policy is left out of the shipped policy."""
    routed = {rule.route_to for rule in default_ruleset.rules} - {None}
    flag_routed = {route.route_to for route in default_ruleset.overrides.flag_routes}
    assert routed | flag_routed == set(Service)
    overrides = default_ruleset.overrides
    specs = [
        *(spec for rule in default_ruleset.rules for spec in rule.flags),
        *overrides.repeat_referral.flags,
        *overrides.immediate_danger.flags,
    ]
    assert {spec.flag for spec in specs} == set(Flag)


def test_default_deadlines_follow_the_design(default_ruleset: Ruleset) -> None:
    """urgent 4 h and high 24 h wall-clock; medium 24 and standard 40 working hours (3 and 5 working days)."""
    assert default_ruleset.deadlines == {
        Priority.urgent: 4,
        Priority.high: 24,
        Priority.medium: WorkingDeadline(working_hours=24),
        Priority.standard: WorkingDeadline(working_hours=40),
    }


def test_the_ruleset_covers_as_the_catalogue_says(default_ruleset: Ruleset) -> None:
    """sada, Youth No More and the MARAC coordinator take the county (pilots included), the other services
    Stevenage, manual review (the out-of-area route) all."""
    county = {Service.sada, Service.youth_no_more, Service.marac}
    for service in county:
        assert {d for d in District if default_ruleset.covers(service, d)} == set(District) - {District.other}
    for service in set(Service) - county - {Service.manual_review}:
        assert {d for d in District if default_ruleset.covers(service, d)} == {District.stevenage}
    assert all(default_ruleset.covers(Service.manual_review, d) for d in District)


def test_a_field_of_the_wrong_type_names_the_rule_and_the_field() -> None:
    """One sentence: the file, the rule id, the dotted field and what is wrong."""
    message = error_for(
        edited(
            "      role_in: [victim, at_risk]\n      min_age: 16\n      any_of:",
            "      role_in: [victim, at_risk]\n      min_age: sixteen\n      any_of:",
        )
    )
    assert message.startswith(
        "ruleset bad.yaml: rule 'da-victim-high-risk': field 'when.min_age': Input should be a valid integer"
    )


def test_a_misspelt_condition_is_rejected_by_name() -> None:
    """Unknown keys are errors, never silently ignored."""
    message = error_for(edited("      concerns_any: [hate_crime]", "      concern_any: [hate_crime]"))
    assert "rule 'hate-crime': field 'when.concern_any': Extra inputs are not permitted" in message


def test_duplicate_rule_ids_are_rejected() -> None:
    """Two rules cannot share an id."""
    message = error_for(edited("  - id: da-perpetrator\n", "  - id: da-victim\n"))
    assert message == ("ruleset bad.yaml: rule 'da-victim': field 'id': the id is already used by an earlier rule")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("    route_to: hate_crime\n", "    route_to: hate_crimes\n", "rule 'hate-crime': field 'route_to'"),
        ("    flags: [marac]\n", "    flags: [mrac]\n", "rule 'da-victim-high-risk': field 'flags.0.flag'"),
        ("      concerns_any: [hate_crime]", "      concerns_any: [hate]", "field 'when.concerns_any.0'"),
        (
            "    priority: medium\n\n  - id: da-family",
            "    priority: low\n\n  - id: da-family",
            "rule 'da-victim': field 'priority'",
        ),
    ],
    ids=["unknown-service", "unknown-flag", "unknown-concern", "unknown-priority"],
)
def test_unknown_names_are_rejected(old: str, new: str, expected: str) -> None:
    """Services, flags, concerns and priorities must be names the partnership uses."""
    assert expected in error_for(edited(old, new))


def test_after_rules_must_name_an_earlier_rule() -> None:
    """A rule can only depend on a rule above it."""
    text = edited(
        "      after_rules: [youth-violence]\n      max_age: 17",
        "      after_rules: [multiple-needs]\n      max_age: 17",
    )
    message = error_for(text)
    assert message == (
        "ruleset bad.yaml: rule 'youth-violence-family': field 'when.after_rules': "
        "'multiple-needs' is not the id of an earlier rule"
    )


def test_coverage_in_a_ruleset_is_refused_and_points_to_the_catalogue() -> None:
    """Coverage lives in the service catalogue: a ruleset still setting it would be silently ignored."""
    message = error_for(edited("\nrules:\n", "\ncoverage:\n  sada: [stevenage]\n\nrules:\n"))
    assert message.startswith("ruleset bad.yaml: field 'coverage': ")
    assert "schemas/services_catalogue.py" in message


def test_every_priority_needs_a_deadline() -> None:
    """A missing deadline is reported by field."""
    assert error_for(edited("  urgent: 4\n", "")).endswith("field 'deadlines': no deadline for priority 'urgent'")


def test_override_reason_placeholders_are_checked() -> None:
    """A reason may only use the placeholders its section fills in."""
    message = error_for(edited("outside the coverage of {service}", "outside {district}"))
    assert "override 'out_of_area': field 'reason': unknown placeholder {district}" in message


def test_text_that_is_not_yaml_is_rejected() -> None:
    """Broken YAML gives the line, not a traceback."""
    assert error_for("version: [unclosed\n").startswith("ruleset bad.yaml: not valid YAML at line")


def test_a_missing_file_is_a_ruleset_error(tmp_path: Path) -> None:
    """A wrong path stops start-up with the path in the message."""
    missing = tmp_path / "nowhere.yaml"
    with pytest.raises(RulesetError, match=r"nowhere\.yaml: cannot read the file"):
        load_ruleset(missing)


def test_deadlines_come_from_the_ruleset() -> None:
    """Changing a deadline in the YAML changes due_at; nothing is hard-coded in the engine."""
    ruleset = parse_ruleset(edited("  urgent: 4\n", "  urgent: 2\n"), "two-hours.yaml")
    decision = decide(build_referral(immediate_danger=True), ruleset, SUBMITTED_AT, [])
    assert decision.assignments[0].due_at == SUBMITTED_AT + timedelta(hours=2)


def test_a_flag_reason_needs_an_assignment_to_carry_it() -> None:
    """A flag-only rule cannot give its flag a reason: no assignment would show it."""
    message = error_for(
        edited(
            "    flags: [children_in_household]\n",
            '    flags: [{flag: children_in_household, reason: "Children at home"}]\n',
        )
    )
    assert "rule 'da-children-in-household'" in message
    assert "a flag's 'reason' needs route_to to name a service" in message


def test_a_flag_reason_is_only_allowed_on_a_rule_not_an_override() -> None:
    """The overrides give their own reason; a reason on their flags is a misspelt field."""
    message = error_for(edited("      - repeat\n", '      - {flag: repeat, reason: "Seen before"}\n'))
    assert "override 'repeat_referral': field 'flags.0.reason'" in message
