"""`sosafe rules diff`: a period's referrals, stored by the read-model projector, replayed under the live ruleset
and a candidate; the report names exactly the referrals the candidate moves, by rule and by service."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest

from services.cli import rules
from services.triage.cases.referral_state import ReferralState
from services.triage.read.database import migrate, open_engine
from services.triage.read.projection import project
from services.triage.read.queries import ReadModel
from services.triage.routing.replay import compare
from services.triage.routing.ruleset import DEFAULT_RULESET_PATH, load_ruleset
from tests.support.read_records import case_records
from tests.triage.referral_factory import SUBMITTED_AT, build_referral

DEFAULT_TEXT = DEFAULT_RULESET_PATH.read_text(encoding="utf-8")
PROFILES = [
    {"concerns": ["hate_crime"]},
    {"concerns": ["domestic_abuse"], "dash_score": 16},
    {"concerns": ["hate_crime", "substance_misuse"], "age": 40},
    {"concerns": ["knife_crime"], "age": 17, "role": "at_risk"},
    {"concerns": ["antisocial_behaviour"], "age": 15, "role": "perpetrator"},
    {"concerns": ["hate_crime"], "age": 70, "district": "north_herts"},
]


def stored(tmp_path: Path, count: int = 30) -> tuple[str, dict[str, dict[str, object]]]:
    """A migrated SQLite read model holding `count` referrals accepted over the days after SUBMITTED_AT."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'read.db'}"
    facts_by_id: dict[str, dict[str, object]] = {}
    states = []
    for n in range(count):
        facts = PROFILES[n % len(PROFILES)]
        at = SUBMITTED_AT + timedelta(hours=7 * n)
        referral = build_referral(reference=f"WHATIF-{n:04d}", submitted_at=at, accepted_at=at, **facts)
        facts_by_id[referral.referral_id] = facts
        states.append(ReferralState(referral=referral))

    async def fill() -> None:
        await migrate(url)
        engine = open_engine(url, writer=True)
        async with engine.begin() as connection:
            await project(connection, case_records(states))
        await engine.dispose()

    asyncio.run(fill())
    return url, facts_by_id


def candidate(tmp_path: Path, old: str, new: str) -> str:
    assert DEFAULT_TEXT.count(old) == 1
    path = tmp_path / "candidate.yaml"
    path.write_text(DEFAULT_TEXT.replace(old, new).replace('version: "2026.12.1"', 'version: "candidate-1"'))
    return str(path)


def test_a_candidate_changing_one_rule_reports_exactly_the_referrals_it_moves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Hate crime raised from medium to high moves every hate crime referral in Stevenage and no other
    (north_herts goes to manual review either way, at the rule's priority: it moves too, in manual review)."""
    url, facts_by_id = stored(tmp_path)
    changed = candidate(
        tmp_path,
        "      concerns_any: [hate_crime]\n    route_to: hate_crime\n    priority: medium\n",
        "      concerns_any: [hate_crime]\n    route_to: hate_crime\n    priority: high\n",
    )
    hate = sorted(rid for rid, facts in facts_by_id.items() if "hate_crime" in facts["concerns"])  # type: ignore[operator]
    out_of_area = sorted(rid for rid, facts in facts_by_id.items() if facts.get("district") == "north_herts")
    code = rules.diff(changed, None, "2026-11-26", "2026-12-31", "csv", url)
    assert code == 1
    rows = {(row["by"], row["name"]): row for row in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    assert rows[("total", "moved")]["referrals"] == str(len(hate))
    assert rows[("total", "priority changed")]["referrals"] == str(len(hate))
    assert rows[("total", "service changed")]["referrals"] == "0"
    assert rows[("total", "flags changed")]["referrals"] == "0"
    assert {name for by, name in rows if by == "rule"} == {"hate-crime"}
    assert rows[("service", "hate_crime")]["referrals"] == str(len(hate) - len(out_of_area))
    assert rows[("service", "manual_review")]["referrals"] == str(len(out_of_area))
    assert set(rows[("rule", "hate-crime")]["example_referral_ids"].split()) <= set(hate)

    async def replay() -> list[str]:
        engine = open_engine(url)
        found = await ReadModel(engine).routing_facts(SUBMITTED_AT, SUBMITTED_AT + timedelta(days=30))
        await engine.dispose()
        return compare(found, found, load_ruleset(DEFAULT_RULESET_PATH), load_ruleset(changed)).moved_ids

    assert sorted(asyncio.run(replay())) == hate


def test_the_live_ruleset_against_itself_changes_nothing_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, facts_by_id = stored(tmp_path, count=12)
    assert rules.diff(str(DEFAULT_RULESET_PATH), None, "2026-11-01", "2027-01-01", "text", url) == 0
    out = capsys.readouterr().out
    assert f"{len(facts_by_id)} referrals replayed, 0 would move" in out


def test_the_period_bounds_the_replay(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Only referrals accepted from --from up to (not including) --to are replayed."""
    url, _ = stored(tmp_path, count=12)  # one every 7 hours from 26 November 10:00
    assert rules.diff(str(DEFAULT_RULESET_PATH), None, "2026-11-27", "2026-11-28", "text", url) == 0
    assert "4 referrals replayed" in capsys.readouterr().out  # 27 Nov 01:00, 08:00, 15:00, 22:00


def test_html_and_text_carry_ids_never_personal_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url, _ = stored(tmp_path, count=6)
    changed = candidate(
        tmp_path, "    route_to: asb\n    priority: standard\n", "    route_to: asb\n    priority: medium\n"
    )
    for fmt in ("html", "text"):
        assert rules.diff(changed, None, "2026-11-26", "2026-12-31", fmt, url) == 1
        out = capsys.readouterr().out
        assert "asb" in out
        for personal in ("Alex", "Example", "SG1", "duty@example.org", "Fictitious narrative"):
            assert personal not in out


def test_a_bad_candidate_or_period_is_one_line_and_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: [")
    assert rules.diff(str(bad), None, None, None, "text", "sqlite+aiosqlite:///unused.db") == 1
    assert capsys.readouterr().err.startswith("error: ruleset")
    assert rules.diff(str(DEFAULT_RULESET_PATH), None, "2026-12-01", "2026-11-01", "text", "x") == 1
    assert "--from must be before --to" in capsys.readouterr().err
    assert rules.diff(str(DEFAULT_RULESET_PATH), None, "yesterday", None, "text", "x") == 1
    assert "--from 'yesterday' is not an ISO 8601 date" in capsys.readouterr().err
