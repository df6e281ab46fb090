"""`sosafe report`: fetches the KPI report from a real HTTP server and renders it, or fails in one line."""

from __future__ import annotations

import asyncio
import io
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from services.cli.main import main
from services.cli.report import run_report
from services.triage.reports.kpis import KpiReport
from tests.triage.test_report_render import small_report

MANAGER = "manager-token"


@dataclass
class FakeTriage:
    """A stand-in triage: serves a canned report to the manager token and records what it was asked."""

    report: KpiReport = field(default_factory=small_report)
    queries: list[dict[str, str]] = field(default_factory=list)
    body: bytes | None = None

    async def kpis(self, request: web.Request) -> web.Response:
        self.queries.append(dict(request.query))
        if request.headers.get("Authorization") != f"Bearer {MANAGER}":
            return web.json_response(
                {"error": "managers_only", "detail": "The KPI report is for managers.", "errors": []}, status=403
            )
        if self.body is not None:
            return web.Response(body=self.body, content_type="application/json")
        return web.Response(text=self.report.model_dump_json(), content_type="application/json")


@pytest.fixture
async def triage() -> AsyncIterator[tuple[FakeTriage, str]]:
    fake = FakeTriage()
    app = web.Application()
    app.router.add_get("/v1/reports/kpis", fake.kpis)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield fake, str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


async def report(
    fmt: str, url: str, token: str = MANAGER, start: str = "2026-04-01", end: str = "2026-07-01"
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await asyncio.to_thread(run_report, start, end, fmt, url, token, out, err)
    return code, out.getvalue(), err.getvalue()


async def test_csv_report_is_fetched_with_the_manager_token_and_period(triage: tuple[FakeTriage, str]) -> None:
    """The period goes in the query, the token in the header, the CSV to stdout."""
    fake, url = triage
    code, out, err = await report("csv", url)
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == "section,group,subgroup,measure,value"
    assert "summary,,,referrals,1" in out.splitlines()
    assert fake.queries == [{"from": "2026-04-01", "to": "2026-07-01"}]


async def test_html_report_is_the_self_contained_page(triage: tuple[FakeTriage, str]) -> None:
    """--format html prints the board-paper page with its SVG charts."""
    _, url = triage
    code, out, _ = await report("html", url)
    assert code == 0
    assert out.startswith("<!DOCTYPE html>") and "<svg" in out and "<script" not in out


async def test_json_report_is_the_report_as_served(triage: tuple[FakeTriage, str]) -> None:
    """--format json prints the report unchanged."""
    fake, url = triage
    code, out, _ = await report("json", url)
    assert code == 0
    assert KpiReport.model_validate(json.loads(out)) == fake.report


async def test_refused_token_is_one_line_and_exit_one(triage: tuple[FakeTriage, str]) -> None:
    """A 403 from triage becomes one line naming the status and triage's reason."""
    _, url = triage
    code, out, err = await report("csv", url, token="dev-officer-sada")
    assert (code, out) == (1, "")
    assert err.count("\n") == 1
    assert "403" in err and "managers_only" in err


async def test_something_other_than_a_report_is_one_line_and_exit_one(triage: tuple[FakeTriage, str]) -> None:
    """A body that is not a KPI report is refused rather than half-rendered."""
    fake, url = triage
    fake.body = b'{"hello": "world"}'
    code, out, err = await report("csv", url)
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and "not a KPI report" in err


async def test_bad_date_is_refused_before_asking_triage(triage: tuple[FakeTriage, str]) -> None:
    """--from that is not a date fails locally, in one line."""
    fake, url = triage
    code, _, err = await report("csv", url, start="last quarter")
    assert code == 1 and err.count("\n") == 1 and "--from" in err
    assert fake.queries == []


def test_unreachable_triage_is_one_line_and_exit_one(capsys: pytest.CaptureFixture[str]) -> None:
    """Nothing listening: exit 1 with one line on stderr, nothing on stdout (through the real command)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = main(["report", "--from", "2026-04-01", "--to", "2026-07-01", "--triage-url", f"http://127.0.0.1:{port}"])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "cannot reach triage" in captured.err
