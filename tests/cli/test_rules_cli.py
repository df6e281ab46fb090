"""`sosafe rules check|explain` as functions: exit codes, output and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.cli.rules import check, explain
from services.triage.routing.ruleset import DEFAULT_RULESET_PATH
from tests.triage.referral_factory import build_referral

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
HIGH_RISK_DA = str(EXAMPLES / "referral-high-risk-da.json")


def test_check_accepts_the_default_ruleset(capsys: pytest.CaptureFixture[str]) -> None:
    """A good ruleset: exit 0 and its version and rule count."""
    assert check(str(DEFAULT_RULESET_PATH)) == 0
    assert capsys.readouterr().out == "ok: 2026.12.1, 24 rules\n"


def test_check_rejects_a_bad_ruleset_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A bad ruleset: exit 1 and one line on stderr naming the rule and field."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(DEFAULT_RULESET_PATH.read_text().replace("route_to: hate_crime", "route_to: hates", 1))
    assert check(str(bad)) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert "rule 'hate-crime': field 'route_to'" in captured.err


def test_explain_example_shows_fired_rules_and_services(capsys: pytest.CaptureFixture[str]) -> None:
    """The high-risk DA example fires both DA victim rules and goes to sada with MARAC."""
    assert explain(HIGH_RISK_DA, None, None) == 0
    out = capsys.readouterr().out
    assert "[fired] da-victim-high-risk" in out
    assert "[fired] da-victim:" in out
    assert "[fired] da-children-in-household" in out
    assert "flags: children_in_household, marac" in out
    assert "-> sada: high, due 2026-11-21T10:00:00+00:00, rules da-victim-high-risk, da-victim" in out
    for personal in ("Sam", "2001-04-03", "SG1 9ZZ", "Fictitious example"):
        assert personal not in out


def test_explain_at_sets_the_decision_time(capsys: pytest.CaptureFixture[str]) -> None:
    """--at moves the deadline with it."""
    assert explain(HIGH_RISK_DA, str(DEFAULT_RULESET_PATH), "2026-11-26T12:00:00+00:00") == 0
    assert "due 2026-11-27T12:00:00+00:00" in capsys.readouterr().out


def test_explain_reads_a_canonical_referral(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A `Referral` as on referrals.accepted explains just like a submission."""
    referral = build_referral(concerns=["hate_crime"])
    path = tmp_path / "referral.json"
    path.write_text(referral.model_dump_json())
    assert explain(str(path), None, None) == 0
    out = capsys.readouterr().out
    assert f"Referral {referral.referral_id}" in out
    assert "-> hate_crime: medium" in out


@pytest.mark.parametrize(
    ("content", "at", "expected"),
    [
        ("{not json", None, "is not valid JSON"),
        ('{"schema_version": "1"}', None, "is not a valid referral submission v1: field 'source'"),
        ('{"referral_version": "1"}', None, "is not a valid canonical referral"),
        ("[]", None, "must hold a JSON object"),
        (None, "tomorrow", "--at 'tomorrow' is not an ISO 8601 date and time"),
        (None, "2026-11-26T10:00:00", "needs a time zone"),
    ],
    ids=["not-json", "bad-submission", "bad-referral", "not-an-object", "bad-at", "naive-at"],
)
def test_explain_rejects_bad_input_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, at: str | None, expected: str
) -> None:
    """Bad input: exit 1, nothing on stdout, one clear line on stderr."""
    path = tmp_path / "referral.json"
    if content is None:
        path = Path(HIGH_RISK_DA)
    else:
        path.write_text(content)
    assert explain(str(path), None, at) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert expected in captured.err


def test_explain_with_a_missing_ruleset_fails(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A wrong ruleset path is an error, not a traceback."""
    assert explain(HIGH_RISK_DA, str(tmp_path / "none.yaml"), None) == 1
    assert "cannot read the file" in capsys.readouterr().err
