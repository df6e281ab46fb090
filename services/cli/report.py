"""`sosafe report --from --to [--format csv|html|json]`: the KPI report from triage, on stdout.

Fetches `GET /v1/reports/kpis` as JSON with the manager's token and renders it here, so the CSV and HTML
match what triage serves. Any failure is one line on stderr and exit status 1.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import TextIO

from pydantic import ValidationError

from services.triage.reports.kpis import KpiReport, parse_bound
from services.triage.reports.render import render_csv, render_html

TIMEOUT_S = 30.0


class ReportError(Exception):
    """Why the report could not be produced, in one sentence."""


def fetch_report(start: str, end: str, triage_url: str, token: str, timeout: float = TIMEOUT_S) -> KpiReport:
    query = urllib.parse.urlencode({"from": start, "to": end})
    url = f"{triage_url.rstrip('/')}/v1/reports/kpis?{query}"
    if not url.startswith(("http://", "https://")):
        raise ReportError(f"the triage URL must start with http:// or https:// (got {triage_url!r})")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url,
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = response.read()
    except urllib.error.HTTPError as exc:
        raise ReportError(f"triage refused the report: HTTP {exc.code} {_detail(exc.read())}".rstrip()) from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ReportError(f"cannot reach triage at {triage_url}: {reason}") from exc
    try:
        return KpiReport.model_validate_json(body)
    except ValidationError as exc:
        raise ReportError(
            f"triage at {triage_url} sent something that is not a KPI report ({exc.error_count()} problems)"
        ) from exc


def _detail(body: bytes) -> str:
    """The `error: detail` of a JSON error body, else nothing."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return ""
    if not isinstance(parsed, dict):
        return ""
    text = f"{parsed.get('error', '')}: {parsed.get('detail', '')}".strip(": ")
    return " ".join(text.split())


def render(report: KpiReport, fmt: str) -> str:
    if fmt == "csv":
        return render_csv(report)
    if fmt == "html":
        return render_html(report)
    return report.model_dump_json(indent=2) + "\n"


def run_report(
    start: str, end: str, fmt: str, triage_url: str, token: str, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    try:
        for name, value in (("--from", start), ("--to", end)):
            try:
                parse_bound(value)
            except ValueError as exc:
                raise ReportError(f"{name} must be an ISO date or date-time, e.g. 2026-04-01") from exc
        if fmt not in ("csv", "html", "json"):
            raise ReportError("--format must be csv, html or json")
        report = fetch_report(start, end, triage_url, token)
    except ReportError as exc:
        print(f"sosafe report: {exc}", file=err)
        return 1
    out.write(render(report, fmt))
    return 0
