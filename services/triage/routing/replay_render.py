"""A what-if replay's `Diff` as text, CSV or a self-contained HTML page. Referral ids only: no personal data."""

from __future__ import annotations

import csv
import html
import io

from services.triage.routing.replay import Diff, Tally

FORMATS = ("text", "csv", "html")


def render(diff: Diff, period: str, fmt: str) -> str:
    if fmt == "csv":
        return _csv(diff)
    if fmt == "html":
        return _html(diff, period)
    return _text(diff, period)


def _rows(diff: Diff) -> list[tuple[str, str, Tally]]:
    totals = [
        ("total", "moved", diff.moved),
        ("total", "service changed", diff.service_changed),
        ("total", "priority changed", diff.priority_changed),
        ("total", "flags changed", diff.flags_changed),
    ]
    return [
        *totals,
        *(("rule", rule_id, tally) for rule_id, tally in sorted(diff.by_rule.items())),
        *(("service", service, tally) for service, tally in sorted(diff.by_service.items())),
    ]


def _text(diff: Diff, period: str) -> str:
    lines = [
        f"What-if replay {period}: ruleset {diff.live_version} (live) -> {diff.candidate_version} (candidate)",
        f"{diff.replayed} referrals replayed, {diff.moved.referrals} would move "
        f"({diff.service_changed.referrals} service, {diff.priority_changed.referrals} priority, "
        f"{diff.flags_changed.referrals} flags)",
    ]
    for heading, kind in (("By rule:", "rule"), ("By service:", "service")):
        rows = [(name, tally) for k, name, tally in _rows(diff) if k == kind]
        said = [f"  {name}: {tally.referrals} (e.g. {', '.join(tally.examples)})" for name, tally in rows]
        lines += ["", heading, *(said or ["  none"])]
    return "\n".join(lines) + "\n"


def _csv(diff: Diff) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["by", "name", "referrals", "example_referral_ids"])
    for kind, name, tally in _rows(diff):
        writer.writerow([kind, name, tally.referrals, " ".join(tally.examples)])
    return out.getvalue()


def _html(diff: Diff, period: str) -> str:
    def table(kind: str) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(name)}</td><td>{tally.referrals}</td>"
            f"<td>{html.escape(', '.join(tally.examples))}</td></tr>"
            for k, name, tally in _rows(diff)
            if k == kind
        )
        return (
            "<table><thead><tr><th>" + kind + "</th><th>referrals</th><th>examples</th></tr></thead>"
            f"<tbody>{rows or '<tr><td colspan=3>none</td></tr>'}</tbody></table>"
        )

    title = html.escape(f"What-if replay {period}: {diff.live_version} -> {diff.candidate_version}")
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        "<style>body{font-family:sans-serif}td,th{padding:2px 8px;text-align:left}</style></head><body>"
        f"<h1>{title}</h1><p>{diff.replayed} referrals replayed; {diff.moved.referrals} would move "
        f"({diff.service_changed.referrals} service, {diff.priority_changed.referrals} priority, "
        f"{diff.flags_changed.referrals} flags).</p>"
        f"<h2>By rule</h2>{table('rule')}<h2>By service</h2>{table('service')}</body></html>\n"
    )
