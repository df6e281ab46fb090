"""The console's what-if replay page: managers only, the upload CSRF-checked like the console's other forms,
a bad file refused with a sentence, and the replay's HTML report of the read model's referrals."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import insert

from services.cli.stack import Stack
from services.triage.console.sessions import SESSION_COOKIE
from services.triage.read.database import open_engine
from services.triage.read.tables import routing_facts
from services.triage.routing.conditions import facts_of
from services.triage.routing.replay import facts_json
from services.triage.routing.ruleset import DEFAULT_RULESET_PATH
from tests.integration.test_report_page import cookie_for
from tests.triage.referral_factory import build_referral

pytestmark = pytest.mark.integration

PAGE = "/console/rules-diff"
DEFAULT_TEXT = DEFAULT_RULESET_PATH.read_text(encoding="utf-8")
ASB_AT = DEFAULT_TEXT.index("  - id: asb\n")
# The candidate: the `asb` rule routes at medium rather than standard, nothing else changed.
CANDIDATE = DEFAULT_TEXT[:ASB_AT] + DEFAULT_TEXT[ASB_AT:].replace("priority: standard", "priority: medium", 1)


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    started = Stack(workdir=tmp_path, services=("triage",), partitions=1)
    await asyncio.to_thread(started.start)
    try:
        yield started
    finally:
        await asyncio.to_thread(started.stop)


async def store_asb_referral(stack: Stack) -> None:
    """One standard-risk ASB referral's routing facts in the stack's read model, accepted yesterday."""
    (database,) = stack.workdir.rglob("triage.sqlite")
    referral = build_referral(reference="WHATIF-1", concerns=["antisocial_behaviour"], age=40)
    engine = open_engine(f"sqlite+aiosqlite:///{database}", writer=True)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                insert(routing_facts),
                [
                    {
                        "referral_id": referral.referral_id,
                        "accepted_at": datetime.now(UTC) - timedelta(days=1),
                        "subject_key": None,
                        "facts": facts_json(facts_of(referral.submission)),
                    }
                ],
            )
    finally:
        await engine.dispose()


def upload(csrf: str, text: str | None) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("csrf_token", csrf)
    if text is not None:
        form.add_field("ruleset", text.encode(), filename="candidate.yaml", content_type="application/yaml")
    return form


@pytest.mark.timeout(180)
async def test_a_manager_uploads_a_candidate_and_sees_what_would_move(stack: Stack) -> None:
    await store_asb_referral(stack)
    url = stack.url("triage") + PAGE
    async with aiohttp.ClientSession(cookies={SESSION_COOKIE: cookie_for("dev-manager")}) as session:
        async with session.get(url) as response:
            assert response.status == 200
            form_page = await response.text()
        match = re.search(r'name="csrf_token" value="([^"]+)"', form_page)
        assert match is not None and 'enctype="multipart/form-data"' in form_page
        csrf = match.group(1)

        async with session.post(url, data=upload("not-the-token", CANDIDATE), allow_redirects=False) as refused:
            assert refused.status == 403  # a forged form changes nothing and replays nothing
        async with session.post(url, data=upload(csrf, "version: [not a ruleset")) as bad:
            assert bad.status == 422
            assert "There is a problem" in await bad.text()
        async with session.post(url, data=upload(csrf, None)) as missing:
            assert missing.status == 422
            assert "Choose a ruleset file to upload." in await missing.text()

        async with session.post(url, data=upload(csrf, CANDIDATE)) as replayed:
            assert replayed.status == 200
            report = await replayed.text()
    assert "1 referrals replayed; 1 would move (0 service, 1 priority, 0 flags)" in report
    assert "<td>asb</td><td>1</td>" in report


@pytest.mark.parametrize(("officer", "status"), [("dev-officer-sada", 403), (None, 303)])
async def test_the_page_is_for_signed_in_managers_only(stack: Stack, officer: str | None, status: int) -> None:
    cookies = {SESSION_COOKIE: cookie_for(officer)} if officer else {}
    async with aiohttp.ClientSession(cookies=cookies) as session:
        for method in ("GET", "POST"):
            async with session.request(method, stack.url("triage") + PAGE, allow_redirects=False) as response:
                assert response.status == status
                if status == 303:
                    assert response.headers["Location"].startswith("/console/sign-in")
