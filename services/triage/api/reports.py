"""`GET /v1/reports/kpis?from=&to=[&format=json|csv|html]`: the partnership's KPI report.

Managers only. Read from the SQL read model (`triage.view`), which holds every referral whichever replica
owns it, so every triage replica answers with the same report. The figures come from the pure
`kpis.compute_kpis`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from faust.web import Request, Response, View

from schemas.rejection import FieldError
from services.common.web_errors import error_response
from services.triage.api.officers import officer_for
from services.triage.reports.kpis import compute_kpis, parse_bound
from services.triage.reports.render import render_csv, render_html

if TYPE_CHECKING:
    from services.triage.service import Triage

FORMATS = ("json", "csv", "html")


def period_errors(query: dict[str, str]) -> tuple[datetime | None, datetime | None, list[FieldError]]:
    """`from` and `to` as times, or the field errors saying what is wrong (values never echoed)."""
    bounds: dict[str, datetime] = {}
    errors = []
    for name in ("from", "to"):
        text = query.get(name)
        if not text:
            errors.append(FieldError(loc=f"query.{name}", code="missing", message=f"{name} is required."))
            continue
        try:
            bounds[name] = parse_bound(text)
        except ValueError:
            errors.append(
                FieldError(
                    loc=f"query.{name}", code="invalid_date", message=f"{name} must be an ISO date or date-time."
                )
            )
    start, end = bounds.get("from"), bounds.get("to")
    if start is not None and end is not None and end <= start:
        errors.append(FieldError(loc="query.to", code="not_after_from", message="to must be later than from."))
    return start, end, errors


async def kpi_report(triage: Triage, view: View, request: Request) -> Response:
    """`GET /v1/reports/kpis`: the report for a manager's bearer token, as JSON, CSV or HTML."""
    officer = officer_for(triage.tokens, request.headers.get("Authorization"))
    if officer is None:
        return error_response(
            view,
            401,
            "unauthorised",
            "A valid manager bearer token is required.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not officer.manager:
        return error_response(view, 403, "managers_only", "The KPI report is for managers.")
    query = {name: request.query.get(name, "") for name in ("from", "to", "format")}
    start, end, errors = period_errors(query)
    fmt = query["format"] or "json"
    if fmt not in FORMATS:
        errors.append(
            FieldError(loc="query.format", code="invalid_format", message="format must be json, csv or html.")
        )
    if errors or start is None or end is None:
        return error_response(view, 422, "invalid_period", "The report period is not valid.", errors)
    report = compute_kpis(
        await triage.view.report_inputs(start, end),
        start,
        end,
        as_of=datetime.now(UTC),
        calendar=triage.ruleset.calendar(),
    )
    if fmt == "csv":
        return view.text(render_csv(report), content_type="text/csv")
    if fmt == "html":
        return view.html(render_html(report))
    return view.json(report.model_dump(mode="json"))


def register(triage: Triage) -> None:
    """Bind `kpi_report` to its route."""

    @triage.app.page("/v1/reports/kpis")
    async def kpis(self: View, request: Request) -> Response:
        return await kpi_report(triage, self, request)
