"""The KPI report as CSV (one long table) and as a self-contained HTML page for JAG/RAG board papers.

The HTML page makes no external requests and runs no script: inline CSS, charts as inline SVG bar charts,
plain GOV.UK-like styling, so a manager can save it or paste it into a board paper.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime, time

from jinja2 import Environment
from markupsafe import Markup

from services.triage.reports.kpis import KpiReport, Timing

CSV_HEADER = ("section", "group", "subgroup", "measure", "value")
SHORT_OBJECTIVES = {
    1: "Young people",
    2: "Domestic abuse, slavery",
    3: "Hate crime",
    4: "Drugs and alcohol",
    5: "Partnership, reporting",
}


def _number(value: float | int | None) -> str:
    return "" if value is None else str(value)


def csv_rows(report: KpiReport) -> list[tuple[str, str, str, str, str]]:
    """The report as long rows: section, group, subgroup, measure, value (blank value: not measurable)."""
    rows: list[tuple[str, str, str, str, str]] = [
        ("period", "", "", "from", report.period_start.isoformat()),
        ("period", "", "", "to_exclusive", report.period_end.isoformat()),
        ("period", "", "", "as_of", report.as_of.isoformat()),
        ("summary", "", "", "referrals", str(report.referrals)),
        ("summary", "", "", "items", str(report.items)),
        ("summary", "", "", "referrals_supporting_no_objective", str(report.supporting_no_objective)),
    ]
    for source in report.by_source:
        rows.append(("by_source", source.source_agency, "", "referrals", str(source.referrals)))
        rows += _timing_rows("by_source", source.source_agency, "", source.time_to_claim, source.time_to_accept)
    for row in report.by_service:
        for measure in (
            "referrals",
            "items",
            "accepted",
            "declined",
            "reassigned",
            "closed",
            "open",
            "sla_met",
            "sla_breached",
            "sla_compliance",
        ):
            rows.append(("by_service", row.service, "", measure, _number(getattr(row, measure))))
        rows += _timing_rows("by_service", row.service, "", row.time_to_claim, row.time_to_accept)
    for p in report.by_priority:
        rows += [
            ("by_priority", p.priority, "", "referrals", str(p.referrals)),
            ("by_priority", p.priority, "", "items", str(p.items)),
        ]
        rows += _timing_rows("by_priority", p.priority, "", p.time_to_claim, p.time_to_accept)
    for o in report.by_objective:
        for measure in ("referrals", "by_concern", "by_service"):
            rows.append(("by_objective", str(o.objective), o.title, measure, str(getattr(o, measure))))
        rows += _timing_rows("by_objective", str(o.objective), o.title, o.time_to_claim, o.time_to_accept)
    for sla in report.sla:
        for measure in ("met", "breached", "open_past_due", "pending", "handed_on", "compliance"):
            rows.append(("sla", sla.service, sla.priority, measure, _number(getattr(sla, measure))))
    for r in report.outcomes:
        measure = f"{r.outcome}_to_{r.to}" if r.to else r.outcome
        rows.append(("outcomes", r.service, r.reason_code, measure, str(r.count)))
    rows += _referrer_told_rows(report)
    rows += ruleset_version_rows(report)
    return rows


def ruleset_version_rows(report: KpiReport) -> list[tuple[str, str, str, str, str]]:
    """The split by ruleset version: per version its referrals and decisions, then referrals per service."""
    rows: list[tuple[str, str, str, str, str]] = []
    for version in report.by_ruleset_version:
        v = version.ruleset_version
        rows += [
            ("by_ruleset_version", v, "", "referrals", str(version.referrals)),
            ("by_ruleset_version", v, "", "decisions", str(version.decisions)),
        ]
        rows += [("by_ruleset_version", v, s.service, "referrals", str(s.referrals)) for s in version.services]
    return rows


def _referrer_told_rows(report: KpiReport) -> list[tuple[str, str, str, str, str]]:
    """Time from receipt to the referrer's first officer outcome (count, median, p90 hours) and how many, and
    what share of the period's referrals, were told within one working day; none when not computed."""
    told = report.referrer_told
    if told is None:
        return []
    timed = told.time_to_first_outcome
    return [
        ("referrer_told", "", "", "referrals_told", str(told.referrals_told)),
        ("referrer_told", "", "", "time_to_first_outcome_count", str(timed.count)),
        ("referrer_told", "", "", "time_to_first_outcome_median_hours", _number(timed.median_hours)),
        ("referrer_told", "", "", "time_to_first_outcome_p90_hours", _number(timed.p90_hours)),
        ("referrer_told", "", "", "within_one_working_day", str(told.within_one_working_day)),
        ("referrer_told", "", "", "share_within_one_working_day", _number(told.share_within_one_working_day)),
    ]


def _timing_rows(
    section: str, group: str, subgroup: str, claim: Timing, accept: Timing
) -> list[tuple[str, str, str, str, str]]:
    """Count, median and p90 hours of the time to claim and to accept, one row each."""
    rows = []
    for name, measured in (("time_to_claim", claim), ("time_to_accept", accept)):
        rows += [
            (section, group, subgroup, f"{name}_count", str(measured.count)),
            (section, group, subgroup, f"{name}_median_hours", _number(measured.median_hours)),
            (section, group, subgroup, f"{name}_p90_hours", _number(measured.p90_hours)),
        ]
    return rows


def render_csv(report: KpiReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(csv_rows(report))
    return out.getvalue()


_SVG_OPEN = Markup('<svg role="img" width="{w}" height="{h}" viewBox="0 0 {w} {h}"><title>{title}</title>')
_SVG_BAR = Markup(
    '<text x="{lx}" y="{ty}" text-anchor="end">{label}</text>'
    '<rect x="{bx}" y="{ry}" width="{bw}" height="{bh}" fill="#1d70b8"/>'
    '<text x="{vx}" y="{ty}">{shown}</text>'
)


def bar_chart(title: str, bars: Sequence[tuple[str, float]], unit: str = "", maximum: float | None = None) -> Markup:
    """A horizontal bar chart as inline SVG (labels escaped), with the value written after each bar."""
    label_w, bar_w, row_h, pad = 190, 300, 22, 6
    top = max([maximum or 0.0, *(value for _, value in bars)]) or 1.0
    width, height = label_w + bar_w + 90, row_h * len(bars) + 2 * pad
    parts = [_SVG_OPEN.format(w=width, h=height, title=title)]
    for index, (label, value) in enumerate(bars):
        y = pad + index * row_h
        bar = round(bar_w * value / top, 1)
        parts.append(
            _SVG_BAR.format(
                lx=label_w - 8,
                ty=y + 15,
                label=label,
                bx=label_w,
                ry=y + 3,
                bw=bar,
                bh=row_h - 6,
                vx=label_w + bar + 6,
                shown=f"{value:g}{unit}",
            )
        )
    return Markup("").join([*parts, Markup("</svg>")])


def _hours(measured: Timing, which: str) -> str:
    value = measured.median_hours if which == "median" else measured.p90_hours
    return "–" if value is None else f"{value:g}"


def _when(moment: datetime) -> str:
    """A date alone at midnight UTC (how periods are usually given), else the UTC date and time."""
    moment = moment.astimezone(UTC)
    if moment.time() == time(0):
        return f"{moment.day} {moment:%B %Y}"
    return f"{moment.day} {moment:%B %Y %H:%M} UTC"


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


_PAGE = """{% macro timing_heads() %}<th class="n">Claim median h</th><th class="n">Claim p90 h</th>
<th class="n">Accept median h</th><th class="n">Accept p90 h</th>{% endmacro %}
{%- macro timing_cells(row) %}<td class="n">{{ hours(row.time_to_claim, "median") }}</td>
<td class="n">{{ hours(row.time_to_claim, "p90") }}</td><td class="n">{{ hours(row.time_to_accept, "median") }}</td>
<td class="n">{{ hours(row.time_to_accept, "p90") }}</td>{% endmacro -%}
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>SoSafe referral KPIs for JAG/RAG reporting, {{ start }} to {{ end }}</title>
<style>
body{font-family:Arial,Helvetica,sans-serif;color:#0b0c0c;margin:2em auto;max-width:960px;padding:0 1em;
line-height:1.4}
h1{font-size:2em;margin-bottom:.2em}h2{font-size:1.4em;margin-top:1.6em;border-bottom:1px solid #b1b4b6}
.lede{font-size:1.1em;color:#505a5f}table{border-collapse:collapse;width:100%;margin:.8em 0}
th,td{border-bottom:1px solid #b1b4b6;padding:.35em .5em;text-align:left;font-size:.95em}
td.n,th.n{text-align:right}caption{text-align:left;font-weight:bold;padding:.3em 0}
svg text{font-family:Arial,Helvetica,sans-serif;font-size:13px;fill:#0b0c0c}
.note{color:#505a5f;font-size:.9em}
</style></head><body>
<h1>SoSafe referral KPIs: JAG/RAG reporting</h1>
<p class="lede">Referrals accepted from {{ start }} up to (not including) {{ end }}; outcomes as known at
{{ as_of }}.</p>
<p><strong>{{ r.referrals }}</strong> referrals, <strong>{{ r.items }}</strong> queue items.
{{ r.supporting_no_objective }} referrals support no strategy objective.</p>

<h2>Referrals by strategy objective</h2>
{{ charts.objectives }}
<table><thead><tr><th>Objective</th><th class="n">Referrals</th><th class="n">By concern</th>
<th class="n">By service</th>{{ timing_heads() }}</tr></thead><tbody>
{% for o in r.by_objective %}<tr><td>{{ o.objective }}. {{ o.title }}</td><td class="n">{{ o.referrals }}</td>
<td class="n">{{ o.by_concern }}</td><td class="n">{{ o.by_service }}</td>
{{ timing_cells(o) }}</tr>{% endfor %}
</tbody></table>
<p class="note">A referral counts once under each objective it supports, so these rows add up to more than
the referral total. The No More Service supports objectives one and four. Times are over every queue item
of the referrals counted under the objective.</p>

<h2>Referrals by source agency</h2>
{{ charts.sources }}
<table><thead><tr><th>Source agency</th><th class="n">Referrals</th>{{ timing_heads() }}</tr></thead><tbody>
{% for s in r.by_source %}<tr><td>{{ s.source_agency }}</td><td class="n">{{ s.referrals }}</td>
{{ timing_cells(s) }}</tr>{% endfor %}
</tbody></table>
<p class="note">Times are over every queue item of the agency's referrals, in any service.</p>

<h2>Queue items by service</h2>
{{ charts.services }}
<table><thead><tr><th>Service</th><th class="n">Referrals</th><th class="n">Items</th><th class="n">Accepted</th>
<th class="n">Declined</th><th class="n">Reassigned</th><th class="n">Closed</th><th class="n">Open</th>
{{ timing_heads() }}</tr></thead><tbody>
{% for s in r.by_service %}<tr><td>{{ s.service }}</td><td class="n">{{ s.referrals }}</td>
<td class="n">{{ s.items }}</td><td class="n">{{ s.accepted }}</td><td class="n">{{ s.declined }}</td>
<td class="n">{{ s.reassigned }}</td><td class="n">{{ s.closed }}</td><td class="n">{{ s.open }}</td>
{{ timing_cells(s) }}
</tr>{% endfor %}
</tbody></table>

<h2>Referrals by priority</h2>
<table><thead><tr><th>Priority</th><th class="n">Referrals</th><th class="n">Items</th>{{ timing_heads() }}</tr>
</thead><tbody>
{% for p in r.by_priority %}<tr><td>{{ p.priority }}</td><td class="n">{{ p.referrals }}</td>
<td class="n">{{ p.items }}</td>
{{ timing_cells(p) }}</tr>{% endfor %}
</tbody></table>
<p class="note">Times are over the items of each priority.</p>
{{ by_ruleset }}

<h2>SLA compliance</h2>
{{ charts.sla }}
<table><thead><tr><th>Service</th><th>Priority</th><th class="n">Met</th><th class="n">Breached</th>
<th class="n">Of which still open</th><th class="n">Not yet due</th><th class="n">Handed on</th>
<th class="n">Compliance</th></tr></thead><tbody>
{% for s in r.sla %}<tr><td>{{ s.service }}</td><td>{{ s.priority }}</td><td class="n">{{ s.met }}</td>
<td class="n">{{ s.breached }}</td><td class="n">{{ s.open_past_due }}</td><td class="n">{{ s.pending }}</td>
<td class="n">{{ s.handed_on }}</td><td class="n">{{ percent(s.compliance) }}</td></tr>{% endfor %}
</tbody></table>
<p class="note">Compliance is items accepted or closed by their deadline, out of items accepted or closed plus
items still open past their deadline. Declined and reassigned items are counted below instead.</p>

<h2>Declines, reassignments and closures</h2>
<table><thead><tr><th>Outcome</th><th>Service</th><th>Reason</th><th>To</th><th class="n">Items</th></tr>
</thead><tbody>
{% for o in r.outcomes %}<tr><td>{{ o.outcome }}</td><td>{{ o.service }}</td><td>{{ o.reason_code }}</td>
<td>{{ o.to or "" }}</td><td class="n">{{ o.count }}</td></tr>{% else %}<tr><td colspan="5">None in this
period.</td></tr>{% endfor %}
</tbody></table>
{% if r.referrer_told %}{% set t = r.referrer_told %}
<h2>Referrers told</h2>
<table><thead><tr><th>Measure</th><th class="n">Value</th></tr></thead><tbody>
<tr><td>Referrals whose referrer was told an officer's outcome</td><td class="n">{{ t.referrals_told }}</td></tr>
<tr><td>Time from receipt to the referrer's first outcome, median h</td>
<td class="n">{{ hours(t.time_to_first_outcome, "median") }}</td></tr>
<tr><td>Time from receipt to the referrer's first outcome, p90 h</td>
<td class="n">{{ hours(t.time_to_first_outcome, "p90") }}</td></tr>
<tr><td>Told within one working day</td><td class="n">{{ t.within_one_working_day }}</td></tr>
<tr><td>Share told within one working day</td>
<td class="n">{{ percent(t.share_within_one_working_day) }}</td></tr>
</tbody></table>
<p class="note">The first outcome is an officer's claim, acceptance, decline, reassignment or closure (being
queued is automatic and not counted). The share is of every referral in the period; one working day is the same
local time on the next working day of the ruleset's calendar.</p>
{% endif %}
</body></html>
"""

_TEMPLATE = Environment(autoescape=True).from_string(_PAGE)

_RULESET_SECTION = """<h2>Referrals decided by ruleset version</h2>
<table><thead><tr><th>Ruleset version</th><th>Service</th><th class="n">Referrals</th><th class="n">Decisions</th>
</tr></thead><tbody>
{% for v in rows %}<tr><td>{{ v.ruleset_version }}</td><td>all services</td><td class="n">{{ v.referrals }}</td>
<td class="n">{{ v.decisions }}</td></tr>
{% for s in v.services %}<tr><td>{{ v.ruleset_version }}</td><td>{{ s.service }}</td>
<td class="n">{{ s.referrals }}</td><td class="n"></td></tr>{% endfor %}
{% else %}<tr><td colspan="4">No decisions in this period.</td></tr>{% endfor %}
</tbody></table>
<p class="note">A referral counts under each ruleset version that decided it (a follow-up decided after a new
ruleset went live counts under both), and under each service that version assigned it to.</p>
"""
_RULESET_TEMPLATE = Environment(autoescape=True).from_string(_RULESET_SECTION)


def ruleset_version_section(report: KpiReport) -> Markup:
    """The HTML section splitting the referrals decided by ruleset version and service."""
    # an autoescaped template rendered it, so what it holds is already escaped
    return Markup(_RULESET_TEMPLATE.render(rows=report.by_ruleset_version))  # noqa: S704


def render_html(report: KpiReport) -> str:
    charts = {
        "objectives": bar_chart(
            "Referrals by strategy objective",
            [
                (f"{o.objective}. {SHORT_OBJECTIVES.get(o.objective, o.title)}", o.referrals)
                for o in report.by_objective
            ],
        ),
        "sources": bar_chart("Referrals by source agency", [(s.source_agency, s.referrals) for s in report.by_source]),
        "services": bar_chart("Queue items by service", [(s.service, s.items) for s in report.by_service]),
        "sla": bar_chart(
            "SLA compliance by service",
            [
                (s.service, round((s.sla_compliance or 0) * 100, 1))
                for s in report.by_service
                if s.sla_compliance is not None
            ],
            unit="%",
            maximum=100,
        ),
    }
    return _TEMPLATE.render(
        r=report,
        charts=charts,
        hours=_hours,
        percent=_percent,
        start=_when(report.period_start),
        end=_when(report.period_end),
        as_of=_when(report.as_of),
        by_ruleset=ruleset_version_section(report),
    )
