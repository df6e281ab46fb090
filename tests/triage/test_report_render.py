"""The KPI report rendered as CSV and as a self-contained HTML page."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from schemas.action import ActionKind
from schemas.vocabulary import Priority, Service
from services.triage.cases.case import apply_decision
from services.triage.cases.queue import OfficerScope, apply_action
from services.triage.cases.trail import action_events, decision_events
from services.triage.reports.kpis import KpiReport, ReportInput, compute_kpis
from services.triage.reports.render import CSV_HEADER, bar_chart, render_csv, render_html
from tests.triage.decision_factory import RULESET, T0, action, assignment, decision, due_at

START, END = T0 - timedelta(days=1), T0 + timedelta(days=1)


def small_report(source_agency: str = "police") -> KpiReport:
    """One referral to sada (claimed, then accepted within its deadline) and sos (declined)."""
    made = decision(assignment(Service.sada, Priority.high), assignment(Service.sos, Priority.medium))
    case, created = apply_decision(None, made, T0)
    events, head = decision_events(None, made, created)
    sada = OfficerScope(officer_id="o-sada", services=frozenset({Service.sada}))
    sos = OfficerScope(officer_id="o-sos", services=frozenset({Service.sos}))
    for hours, kind, service, scope, reason in (
        (2, ActionKind.claim, Service.sada, sada, None),
        (5, ActionKind.accept, Service.sada, sada, None),
        (6, ActionKind.decline, Service.sos, sos, "not_eligible"),
    ):
        at = T0 + timedelta(hours=hours)
        sent = action(kind, service, scope.officer_id, reason=reason, at=at)
        outcome = apply_action(case, sent, scope, at, RULESET, due_at)
        more, head = action_events(head, sent, outcome)
        events, case = events + more, outcome.case
    referral = ReportInput(
        referral_id=made.referral_id,
        accepted_at=T0,
        source_agency=source_agency,
        concerns=["domestic_abuse"],
        decisions=[made],
        items=list(case.items.values()),
        events=events,
    )
    return compute_kpis([referral], START, END, as_of=END)


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_csv_starts_with_the_header_and_has_five_columns_per_row() -> None:
    """Long format: section, group, subgroup, measure, value on every row."""
    table = rows(render_csv(small_report()))
    assert tuple(table[0]) == CSV_HEADER
    assert all(len(row) == 5 for row in table)


def test_csv_rows_carry_the_report_figures() -> None:
    """Counts, timings, SLA and reason rows appear with their values; unmeasurable values are blank."""
    table = {tuple(row[:4]): row[4] for row in rows(render_csv(small_report()))[1:]}
    assert table[("summary", "", "", "referrals")] == "1"
    assert table[("by_source", "police", "", "referrals")] == "1"
    assert table[("by_service", "sada", "", "accepted")] == "1"
    assert table[("by_service", "sada", "", "time_to_claim_median_hours")] == "2.0"
    assert table[("by_service", "sada", "", "time_to_accept_p90_hours")] == "5.0"
    assert table[("by_service", "sos", "", "time_to_accept_median_hours")] == ""
    assert table[("sla", "sada", "high", "compliance")] == "1.0"
    assert table[("sla", "sos", "medium", "handed_on")] == "1"
    assert table[("outcomes", "sos", "not_eligible", "declined")] == "1"
    assert (
        table[
            (
                "by_objective",
                "2",
                "Provide safe reporting and support to domestic abuse survivors and victims of modern slavery",
                "referrals",
            )
        ]
        == "1"
    )


def test_csv_gives_the_timings_per_source_priority_and_objective_too() -> None:
    """The sada item, claimed at 2 h and accepted at 5 h, is timed under its agency, priority and objective."""
    table = {tuple(row[:4]): row[4] for row in rows(render_csv(small_report()))[1:]}
    objective = "Provide safe reporting and support to domestic abuse survivors and victims of modern slavery"
    for group in (("by_source", "police", ""), ("by_priority", "high", ""), ("by_objective", "2", objective)):
        assert table[(*group, "time_to_claim_median_hours")] == "2.0"
        assert table[(*group, "time_to_accept_p90_hours")] == "5.0"
        assert table[(*group, "time_to_accept_count")] == "1"
    assert table[("by_priority", "medium", "", "time_to_claim_count")] == "0"
    assert table[("by_priority", "medium", "", "time_to_claim_median_hours")] == ""


def test_html_tables_show_the_timings_per_source_priority_and_objective() -> None:
    """Each of the three tables has the four timing columns, filled for the timed group."""
    page = render_html(small_report())
    for heading in ("Referrals by source agency", "Referrals by priority", "Referrals by strategy objective"):
        section = re.sub(r">\s+<", "><", page.split(f"<h2>{heading}</h2>", 1)[1].split("<h2>", 1)[0])
        assert '<th class="n">Claim median h</th>' in section
        assert '<th class="n">Accept p90 h</th>' in section
        assert '<td class="n">2</td><td class="n">2</td>' in section


def test_html_is_a_self_contained_page_with_svg_charts() -> None:
    """Inline SVG charts, no scripts and no http(s) references, titled for JAG/RAG reporting."""
    page = render_html(small_report())
    assert page.startswith("<!DOCTYPE html>")
    assert "<svg" in page and "<rect" in page
    assert "<script" not in page.lower()
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"<link|<img|<iframe|\burl\(|@import|\bsrc=", page, re.IGNORECASE)
    title = re.search(r"<title>(.*?)</title>", page)
    assert title is not None and "JAG/RAG" in title.group(1)


def test_html_shows_the_tables_and_escapes_labels() -> None:
    """Service, SLA and reason tables appear; a label with markup is escaped, never injected."""
    page = render_html(small_report(source_agency="<b>odd</b>"))
    assert "&lt;b&gt;odd&lt;/b&gt;" in page and "<b>odd</b>" not in page
    assert "not_eligible" in page
    assert "100.0%" in page


def test_bar_chart_scales_bars_to_the_largest_value() -> None:
    """The longest bar belongs to the largest value; a zero value gets a zero-width bar."""
    svg = str(bar_chart("t", [("a", 10), ("b", 5), ("c", 0)]))
    widths = [float(w) for w in re.findall(r'<rect [^>]*width="([0-9.]+)"', svg)]
    assert widths == [300.0, 150.0, 0.0]


def test_csv_and_html_show_the_time_to_the_referrers_first_outcome_and_the_share_told_in_a_working_day() -> None:
    """The referrer heard of SADA's claim 2 h after receipt: one referral told, median and p90 2 h, all of the
    period's referrals within one working day."""
    report = small_report()
    assert report.referrer_told is not None
    table = {tuple(row[:4]): row[4] for row in rows(render_csv(report))[1:]}
    told = ("referrer_told", "", "")
    assert table[(*told, "referrals_told")] == "1"
    assert table[(*told, "time_to_first_outcome_count")] == "1"
    assert table[(*told, "time_to_first_outcome_median_hours")] == "2.0"
    assert table[(*told, "time_to_first_outcome_p90_hours")] == "2.0"
    assert table[(*told, "within_one_working_day")] == "1"
    assert table[(*told, "share_within_one_working_day")] == "1.0"
    section = re.sub(r">\s+<", "><", render_html(report).split("<h2>Referrers told</h2>", 1)[1].split("</table>", 1)[0])
    assert 'Time from receipt to the referrer\'s first outcome, median h</td><td class="n">2</td>' in section
    assert 'Share told within one working day</td><td class="n">100.0%</td>' in section
    untold = report.model_copy(update={"referrer_told": None})
    assert "Referrers told" not in render_html(untold)
    assert not [row for row in rows(render_csv(untold)) if row[0] == "referrer_told"]
