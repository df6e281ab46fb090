"""The duty-officer console in real headless Chromium against intake and triage on the embedded broker."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from services.cli.stack import Stack
from tests.support.payloads import submission

pytestmark = [pytest.mark.browser, pytest.mark.integration]

PARTNER = "dev-partner-police"
SADA_OFFICER = "dev-officer-sada"
SOS_OFFICER = "dev-officer-sos"
POLL_WAIT_MS = 30_000
"""The console polls every 10 s; allow for the audit trail to reach triage as well."""


@pytest.fixture
def stack(stack_factory: Callable[..., Stack]) -> Stack:
    """Intake and triage on the embedded broker, started in a worker thread: playwright's sync API holds
    this thread's event loop, and starting the stack runs asyncio."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(stack_factory, services=("intake", "triage")).result()


@pytest.fixture
def api(playwright: Any) -> Iterator[Any]:
    """Plain HTTP (partner and officer bearer tokens) through playwright's request client."""
    context = playwright.request.new_context()
    yield context
    context.dispose()


def submit_high_risk_referral(api: Any, stack: Stack) -> str:
    """A high-risk domestic abuse victim referral from the police: routed to sada with a MARAC flag."""
    response = api.post(
        stack.url("intake") + "/v1/referrals",
        data=json.dumps(submission()),
        headers={"Authorization": f"Bearer {PARTNER}", "Content-Type": "application/json"},
    )
    assert response.status == 202, response.text()
    referral_id: str = response.json()["referral_id"]
    return referral_id


def wait_until_queued(api: Any, stack: Stack, referral_id: str, service: str = "sada") -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        response = api.get(
            f"{stack.url('triage')}/v1/queues/{service}?state=all", headers={"Authorization": f"Bearer {SADA_OFFICER}"}
        )
        items = [i for i in response.json() if i["referral_id"] == referral_id] if response.ok else []
        if items:
            found: dict[str, Any] = items[0]
            return found
        time.sleep(0.5)
    raise AssertionError(f"{referral_id} never reached the {service} queue")


def sign_in(page: Page, token: str) -> None:
    page.get_by_label("Officer token").fill(token)
    page.get_by_role("button", name="Sign in").click()


def serious_violations(page: Page, axe_source: str) -> list[tuple[str, str, list[Any]]]:
    """axe-core's serious and critical violations on the page (injected by evaluate: CSP stays on)."""
    page.evaluate(axe_source)
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]])
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_sada_officer_claims_and_accepts_a_marac_referral_and_the_timeline_updates(
    stack: Stack, api: Any, browser: Any, axe_source: str, screenshots: Path
) -> None:
    """Sign in, find the MARAC referral in the sada queue, claim and accept it; the timeline follows."""
    referral_id = submit_high_risk_referral(api, stack)
    wait_until_queued(api, stack, referral_id)
    context = browser.new_context()
    page = context.new_page()
    console_errors: list[str] = []
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    page.on("response", lambda r: console_errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(stack.url("triage") + "/")
    expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    assert serious_violations(page, axe_source) == []
    page.screenshot(path=str(screenshots / "console-sign-in.png"), full_page=True)

    sign_in(page, SADA_OFFICER)
    expect(page.get_by_role("heading", name="Your queues", level=1)).to_be_visible()
    page.get_by_role("link", name="SADA", exact=True).click()
    row = page.locator(f'tr[data-referral-id="{referral_id}"]')
    expect(row).to_be_visible()
    expect(row.locator('[data-flag="marac"]')).to_have_text("MARAC")
    expect(row).to_contain_text("new")
    assert serious_violations(page, axe_source) == []
    page.screenshot(path=str(screenshots / "console-queue.png"), full_page=True)

    row.get_by_role("link").click()
    expect(page.get_by_role("heading", name=f"Referral {referral_id[:8]}", level=1)).to_be_visible()
    expect(page.locator("body")).to_contain_text("Ruleset version")
    page.get_by_role("button", name="Claim").click()
    expect(page.get_by_text("You claimed this referral.")).to_be_visible()
    expect(page.locator('[data-state="claimed"]')).to_be_visible()
    expect(page.locator('[data-action="claimed"]')).to_be_visible(timeout=POLL_WAIT_MS)
    assert serious_violations(page, axe_source) == []
    page.screenshot(path=str(screenshots / "console-item.png"), full_page=True)

    # Accept from a second tab; the first tab's status and timeline update without a reload.
    page.evaluate("() => { window.consoleNotReloaded = true; }")
    other = context.new_page()
    other.goto(page.url.split("?")[0])
    other.get_by_role("button", name="Accept").click()
    expect(other.get_by_text("You accepted this referral.")).to_be_visible()
    expect(page.locator('[data-action="item_accepted"]')).to_be_visible(timeout=POLL_WAIT_MS)
    expect(page.locator('[data-state="accepted"]')).to_be_visible(timeout=POLL_WAIT_MS)
    expect(page.get_by_role("button", name="Accept")).to_be_hidden()
    expect(page.get_by_text("This item is no longer open")).to_be_visible()
    assert page.evaluate("() => window.consoleNotReloaded === true")
    page.screenshot(path=str(screenshots / "console-item-accepted.png"), full_page=True)
    assert wait_until_queued(api, stack, referral_id)["state"] == "accepted"
    assert console_errors == []  # no CSP refusals, script errors or missing files
    context.close()


def test_sos_officer_does_not_see_a_sada_referral(stack: Stack, api: Any, browser: Any) -> None:
    """An officer of another service neither lists the referral nor opens its item page; sign-out ends it."""
    referral_id = submit_high_risk_referral(api, stack)
    wait_until_queued(api, stack, referral_id)
    context = browser.new_context()
    page = context.new_page()
    page.goto(stack.url("triage") + "/")
    sign_in(page, SOS_OFFICER)
    expect(page.get_by_role("heading", name="Your queues", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="SADA", exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="KPI report")).to_have_count(0)
    page.get_by_role("link", name="SOS youth violence project", exact=True).click()
    expect(page.get_by_role("heading", name="SOS youth violence project", level=1)).to_be_visible()
    assert referral_id[:8] not in page.content()

    response = page.goto(f"{stack.url('triage')}/?service=sada&referral_id={referral_id}")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="You cannot see this queue")).to_be_visible()
    assert referral_id[:8] not in page.locator("main").inner_text()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    page.goto(f"{stack.url('triage')}/console/queues/sos")
    expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    context.close()


def test_notification_link_opens_the_item_after_sign_in_and_a_post_without_csrf_token_is_refused(
    stack: Stack, api: Any, browser: Any
) -> None:
    """The link in a notification leads through sign-in to the item; a form stripped of its token gets 403."""
    referral_id = submit_high_risk_referral(api, stack)
    wait_until_queued(api, stack, referral_id)
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{stack.url('triage')}/?service=sada&referral_id={referral_id}")
    sign_in(page, SADA_OFFICER)
    expect(page.get_by_role("heading", name=f"Referral {referral_id[:8]}", level=1)).to_be_visible()
    cookie = next(c for c in context.cookies() if c["name"] == "sosafe_console_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert SADA_OFFICER not in cookie["value"].split(".")[1]

    page.evaluate("() => document.querySelectorAll('input[name=csrf_token]').forEach(i => i.remove())")
    with page.expect_response(lambda r: r.url.endswith("/claim")) as posted:
        page.get_by_role("button", name="Claim").click()
    response = posted.value
    assert response.status == 403
    headers = response.headers
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY" and headers["referrer-policy"] == "no-referrer"
    assert headers["x-content-type-options"] == "nosniff" and headers["cache-control"] == "no-store"
    expect(page.get_by_role("heading", name="This form has expired")).to_be_visible()
    behind_tls = api.get(f"{stack.url('triage')}/console/sign-in", headers={"X-Forwarded-Proto": "https"})
    set_cookie = next(h["value"] for h in behind_tls.headers_array if h["name"].lower() == "set-cookie")
    assert "Secure" in set_cookie and "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie
    assert wait_until_queued(api, stack, referral_id)["state"] == "new"
    context.close()
