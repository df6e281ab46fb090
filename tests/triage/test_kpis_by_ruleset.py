"""The KPI report's split by ruleset version: counts per version and service, in JSON, CSV and HTML."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from schemas.decision import DecisionKind, TriageDecision
from schemas.vocabulary import Agency, Service
from services.triage.reports.kpis import KpiReport, ReportInput, compute_kpis
from services.triage.reports.render import render_csv, render_html
from tests.triage.decision_factory import T0, decision

START, END = T0 - timedelta(days=1), T0 + timedelta(days=30)


def _decided(n: int, version: str, *services: Service, kind: DecisionKind = DecisionKind.initial) -> TriageDecision:
    made = decision(*services, referral_id=f"r-{n}", decision_id=f"d-{n}-{version}-{kind}", kind=kind, at=T0)
    return made.model_copy(update={"ruleset_version": version})


def _input(n: int, *decisions: TriageDecision) -> ReportInput:
    return ReportInput(
        referral_id=f"r-{n}",
        accepted_at=T0,
        source_agency=Agency.police.value,
        concerns=["hate_crime"],
        decisions=list(decisions),
    )


def _report() -> KpiReport:
    return compute_kpis(
        [
            _input(1, _decided(1, "2026.11.1", Service.sada)),
            _input(2, _decided(2, "2026.11.1", Service.sada, Service.no_more)),
            # decided under the old version, followed up under the new one: counts under both
            _input(
                3,
                _decided(3, "2026.11.1", Service.hate_crime),
                _decided(3, "2026.12.1", Service.sada, kind=DecisionKind.follow_up),
            ),
            _input(4, _decided(4, "2026.12.1", Service.sada, Service.marac)),
            _input(5),  # not decided yet: under no version
        ],
        START,
        END,
    )


def test_counts_referrals_and_decisions_per_version_and_service() -> None:
    rows = {r.ruleset_version: r for r in _report().by_ruleset_version}
    assert list(rows) == ["2026.11.1", "2026.12.1"]
    old, new = rows["2026.11.1"], rows["2026.12.1"]
    assert (old.referrals, old.decisions) == (3, 3)
    assert {s.service: s.referrals for s in old.services} == {"sada": 2, "no_more": 1, "hate_crime": 1}
    assert (new.referrals, new.decisions) == (2, 2)
    assert {s.service: s.referrals for s in new.services} == {"sada": 2, "marac": 1}


def test_a_decision_after_as_of_is_not_counted() -> None:
    later = _decided(1, "2027.1.1", Service.sada).model_copy(update={"decided_at": END + timedelta(days=1)})
    report = compute_kpis([_input(1, _decided(1, "2026.12.1", Service.sada), later)], START, END)
    assert [r.ruleset_version for r in report.by_ruleset_version] == ["2026.12.1"]


def test_the_split_is_in_the_json_csv_and_html() -> None:
    report = _report()
    assert KpiReport.model_validate_json(report.model_dump_json()) == report
    rows = [tuple(r) for r in csv.reader(io.StringIO(render_csv(report))) if r[0] == "by_ruleset_version"]
    assert ("by_ruleset_version", "2026.12.1", "", "referrals", "2") in rows
    assert ("by_ruleset_version", "2026.11.1", "", "decisions", "3") in rows
    assert ("by_ruleset_version", "2026.11.1", "sada", "referrals", "2") in rows
    page = render_html(report)
    assert "Referrals decided by ruleset version" in page
    assert "<td>2026.12.1</td><td>marac</td>" in page.replace("\n", "")


def test_no_decisions_says_so() -> None:
    report = compute_kpis([], START, END)
    assert report.by_ruleset_version == []
    assert "No decisions in this period." in render_html(report)
