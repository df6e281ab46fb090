"""The console's KPI report page: managers only, self-contained HTML under a strict CSP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import aiohttp
import pytest

from services.cli.stack import Stack
from services.common.access import hash_token
from services.triage.console.console import SESSION_COOKIE
from services.triage.console.sessions import SessionSigner
from services.triage.settings import TriageSettings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    started = Stack(workdir=tmp_path_factory.mktemp("report-page"), services=("triage",), partitions=1)
    started.start()
    yield started
    started.stop()


def cookie_for(officer_id: str) -> str:
    """A session cookie as sign-in issues it (a dev officer's token is its id)."""
    signer = SessionSigner(TriageSettings().session_secret)
    _, cookie = signer.issue(officer_id, datetime.now(UTC), hash_token(officer_id))
    return cookie


@pytest.mark.parametrize(("officer", "status"), [("dev-manager", 200), ("dev-officer-sada", 403), (None, 303)])
async def test_report_page_is_for_signed_in_managers(stack: Stack, officer: str | None, status: int) -> None:
    """A manager gets the report; an officer 403; nobody signed in is sent to sign in."""
    cookies = {SESSION_COOKIE: cookie_for(officer)} if officer else {}
    async with (
        aiohttp.ClientSession(cookies=cookies) as session,
        session.get(stack.url("triage") + "/reports", allow_redirects=False) as response,
    ):
        assert response.status == status
        if status == 200:
            body = await response.text()
            assert "<svg" in body and "<script" not in body
            assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        if status == 303:
            assert response.headers["Location"].startswith("/console/sign-in")
