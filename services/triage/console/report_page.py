"""`GET /reports`: the console's KPI report page for a signed-in manager (this quarter so far, or ?from=&to=).

The same figures as the API's `/v1/reports/kpis`, rendered as one self-contained HTML page.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from faust.web import Request, Response, View

from services.triage.api.reports import period_errors
from services.triage.console.console import Console, sign_in_url
from services.triage.reports.kpis import compute_kpis
from services.triage.reports.render import render_html

if TYPE_CHECKING:
    from services.triage.service import Triage

REPORT_PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
"""The HTML report is self-contained (inline CSS and SVG, no scripts, no requests): nothing else allowed."""


def quarter_start(now: datetime) -> datetime:
    """The first day of the quarter `now` falls in, at midnight UTC (the RAG reports quarterly)."""
    return datetime(now.year, 3 * ((now.month - 1) // 3) + 1, 1, tzinfo=UTC)


async def report_page(triage: Triage, console: Console, view: View, request: Request) -> Response:
    """The console's KPI report for a signed-in manager: this quarter so far, or ?from=&to=."""
    visit = await console.visit(request)
    if visit.officer is None:
        return view.html("", status=303, headers={"Location": sign_in_url("/reports")})
    if not visit.officer.manager:
        return view.html(
            "<h1>Managers only</h1><p>The KPI report is for managers.</p>", status=403, headers=REPORT_PAGE_HEADERS
        )
    now = datetime.now(UTC)
    query = {
        "from": request.query.get("from") or quarter_start(now).date().isoformat(),
        "to": request.query.get("to") or (now.date() + timedelta(days=1)).isoformat(),
    }
    start, end, errors = period_errors(query)
    if errors or start is None or end is None:
        return view.html(
            "<h1>Period not valid</h1><p>Use ?from=YYYY-MM-DD&amp;to=YYYY-MM-DD.</p>",
            status=422,
            headers=REPORT_PAGE_HEADERS,
        )
    report = compute_kpis(
        await triage.view.report_inputs(start, end), start, end, as_of=now, calendar=triage.ruleset.calendar()
    )
    return view.html(render_html(report), headers=REPORT_PAGE_HEADERS)


def register(triage: Triage) -> None:
    """Bind `report_page` to `/reports`."""
    console = Console(triage)

    @triage.app.page("/reports")
    async def reports(self: View, request: Request) -> Response:
        return await report_page(triage, console, self, request)
