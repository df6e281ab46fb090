"""Least privilege: who may call which endpoint and see what, partner identity, hashed tokens,
rate limits, console sessions (sign-out, token rotation, removed officers) and where /metrics is served."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from services.cli.stack import Stack
from services.common.access import hash_token
from services.common.broker import free_port
from services.triage.api.openapi import ITEM_FIELDS
from services.triage.console.sessions import SESSION_COOKIE
from tests.support.config import access_with_partner
from tests.support.flow import eventually, queue_item
from tests.support.http import post_json
from tests.support.payloads import submission

pytestmark = pytest.mark.integration

CONFIG_DIR = Path(__file__).parents[2] / "deploy" / "config"
BURST_TOKEN = "burst-partner-token"
BURST_LIMIT = 5

TOKENS: dict[str, str | None] = {
    "officer-sada": "dev-officer-sada",
    "officer-sos": "dev-officer-sos",
    "officer-manual_review": "dev-officer-manual_review",
    "manager": "dev-manager",
    "no-token": None,
    "bad-token": "not-a-real-token-5c1d0e",
    "partner": "dev-partner-police",
    "other-partner": "dev-partner-hospital",
}
"""Every kind of caller. A partner token is not an officer token: triage answers it 401 like a bad one,
except on the referral view, where the referring partner (police: it referred every referral here) sees its
own referral's status and any other partner is answered as if the referral did not exist."""

ALL_SERVICES = {
    "sada",
    "no_more",
    "sos",
    "mnwg",
    "modern_slavery",
    "hate_crime",
    "manual_review",
    "asb",
    "youth_no_more",
    "yc_herts",
    "marac",
}
SCOPES = {
    "officer-sada": {"sada"},
    "officer-sos": {"sos"},
    "officer-manual_review": {"manual_review"},
    "manager": ALL_SERVICES,
}
"""The services each officer caller may see."""

MARKER = "Ottoline"
"""The subjects' given name here: a refusal that holds it told an officer outside scope about the subject."""

SADA_ONLY = {"officer-sada": 200, "officer-sos": 403, "officer-manual_review": 403, "manager": 200}
SOS_ONLY = {"officer-sada": 403, "officer-sos": 200, "officer-manual_review": 403, "manager": 200}
MANUAL_REVIEW_ONLY = {"officer-sada": 403, "officer-sos": 403, "officer-manual_review": 200, "manager": 200}
NOT_QUEUED_HERE = {"error": "unknown_referral", "detail": "No referral with this id is queued here.", "errors": []}
"""The one answer to a referral id that is unknown, outside the caller's scope or not in the queue named."""
UNKNOWN_ID = "00000000-0000-5000-8000-000000000000"


def hidden(allowed: dict[str, int]) -> dict[str, int]:
    """A referral outside the caller's scope is answered as if it did not exist (no existence oracle); the
    referring partner sees its status, another partner nothing."""
    return {**{caller: 404 if status == 403 else status for caller, status in allowed.items()}, **PARTNER_VIEW}


PARTNER_VIEW = {"partner": 200, "other-partner": 404}


ACTIONS = ("claim", "accept", "decline", "reassign", "close")
ACTION_BODIES = {"claim": {}, "accept": {}, "decline": {"reason": "not_eligible"}, "close": {"reason": "duplicate"}}
FINAL_STATE = {
    "claim": "claimed",
    "accept": "accepted",
    "decline": "declined",
    "reassign": "reassigned",
    "close": "closed",
}
ACTION_QUEUES = {"sada": SADA_ONLY, "manual_review": MANUAL_REVIEW_ONLY}

ENDPOINTS: dict[str, tuple[str, str, dict[str, int]]] = {
    "list-queues": ("GET", "/v1/queues", dict.fromkeys(SCOPES, 200)),
    "sada-queue": ("GET", "/v1/queues/sada", SADA_ONLY),
    "sos-queue": ("GET", "/v1/queues/sos", SOS_ONLY),
    "manual_review-queue": ("GET", "/v1/queues/manual_review", MANUAL_REVIEW_ONLY),
    "sada-referral": ("GET", "/v1/referrals/{sada}", hidden(SADA_ONLY)),
    "sos-referral": ("GET", "/v1/referrals/{sos}", hidden(SOS_ONLY)),
    "sada-and-hate_crime-referral": ("GET", "/v1/referrals/{both}", hidden(SADA_ONLY)),
    # declined by SADA, so SADA's officer still sees it (and only its SADA item)
    "manual_review-referral": (
        "GET",
        "/v1/referrals/{manual_review}",
        hidden({**MANUAL_REVIEW_ONLY, "officer-sada": 200}),
    ),
    "unknown-referral": ("GET", f"/v1/referrals/{UNKNOWN_ID}", dict.fromkeys([*SCOPES, *PARTNER_VIEW], 404)),
    "claim-sos": ("POST", "/v1/queues/sos/items/{sos}/claim", SOS_ONLY),
    # another service's referral named under the caller's own queue: as if unknown, and nothing is published
    **{
        f"{action}-sos-under-sada": (
            "POST",
            f"/v1/queues/sada/items/{{sos}}/{action}",
            {**SADA_ONLY, "officer-sada": 404, "manager": 404},
        )
        for action in ACTIONS
    },
    **{
        f"{action}-unknown-under-sada": (
            "POST",
            f"/v1/queues/sada/items/{UNKNOWN_ID}/{action}",
            {**SADA_ONLY, "officer-sada": 404, "manager": 404},
        )
        for action in ("claim", "close")
    },
    **{
        f"{action}-{queue}": ("POST", f"/v1/queues/{queue}/items/{{{queue}}}/{action}", allowed)
        for queue, allowed in ACTION_QUEUES.items()
        for action in ACTIONS
    },
    "kpis": (
        "GET",
        "/v1/reports/kpis?from=2026-01-01&to=2027-01-01",
        {"officer-sada": 403, "officer-sos": 403, "officer-manual_review": 403, "manager": 200},
    ),
}
"""Each triage endpoint with the status every officer scope gets; any caller not listed gets 401."""


def expected_status(endpoint: str, caller: str) -> int:
    return ENDPOINTS[endpoint][2].get(caller, 401)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("access")
    access = access_with_partner(workdir / "access.yaml", "burst-voluntary", BURST_TOKEN, BURST_LIMIT)
    started = Stack(
        workdir=workdir, services=("intake", "triage"), partitions=2, extra_env={"SOSAFE_CONFIG_FILE": str(access)}
    )
    started.start()
    yield started
    started.stop()


def sada_submission(reference: str) -> dict[str, Any]:
    """A medium-risk domestic abuse victim of 25: SADA only. Below MARAC level and a different person for each
    reference (a repeat domestic abuse victim is flagged for MARAC), so no MARAC coordinator item, which
    would stand instead of manual review when SADA declines."""
    return submission(
        reference=reference,
        risk__dash_score=10,
        risk__level="medium",
        subject__given_name=MARKER,
        subject__family_name=f"Example {reference}",
    )


def sos_submission(reference: str) -> dict[str, Any]:
    """A 22-year-old at risk from knife crime: SOS only."""
    return submission(
        reference=reference,
        role="at_risk",
        concerns=["knife_crime"],
        subject__date_of_birth="2004-05-01",
        subject__given_name=MARKER,
    )


def sada_and_hate_crime_submission(reference: str) -> dict[str, Any]:
    """A medium-risk domestic abuse victim who also suffered a hate crime: SADA and hate crime (below MARAC
    level and a different person for each reference, so no MARAC coordinator item)."""
    return submission(
        reference=reference,
        concerns=["domestic_abuse", "hate_crime"],
        risk__dash_score=10,
        risk__level="medium",
        subject__given_name=MARKER,
        subject__family_name=f"Example {reference}",
    )


async def submit_and_wait(stack: Stack, service: str, body: dict[str, Any]) -> str:
    """Submit as the police partner and wait until the referral is a new item in `service`'s queue."""
    status, answer = await post_json(stack.url("intake") + "/v1/referrals", body, "dev-partner-police")
    assert status == 202, answer
    referral_id: str = answer["referral_id"]
    await eventually(
        lambda: queue_item(stack.url("triage"), service, referral_id, "dev-manager", "open"),
        what=f"the {service} queue item",
    )
    return referral_id


async def manual_review_referral(stack: Stack, reference: str) -> str:
    """A SADA-only referral declined by SADA, so it waits in the manual-review queue."""
    referral_id = await submit_and_wait(stack, "sada", sada_submission(reference))
    url = f"{stack.url('triage')}/v1/queues/sada/items/{referral_id}/decline"
    status, answer = await post_json(url, {"reason": "wrong_service"}, "dev-officer-sada")
    assert status == 200 and answer["follow_up_services"] == ["manual_review"], answer
    await eventually(
        lambda: queue_item(stack.url("triage"), "manual_review", referral_id, "dev-manager", "open"),
        what="the manual-review queue item",
    )
    return referral_id


async def fresh_referral(stack: Stack, queue: str, reference: str) -> str:
    """A new referral with a new item in `queue`, for an action that will change it."""
    if queue == "manual_review":
        return await manual_review_referral(stack, reference)
    make = sada_submission if queue == "sada" else sos_submission
    return await submit_and_wait(stack, queue, make(reference))


@pytest.fixture(scope="module")
def queued(stack: Stack) -> dict[str, str]:
    """One referral waiting in SADA's queue, one in SOS's, one in both SADA's and hate crime's, one in
    manual review's."""

    async def all_four() -> dict[str, str]:
        sada, sos, both, manual_review = await asyncio.gather(
            submit_and_wait(stack, "sada", sada_submission("ACL-SADA-1")),
            submit_and_wait(stack, "sos", sos_submission("ACL-SOS-1")),
            submit_and_wait(stack, "hate_crime", sada_and_hate_crime_submission("ACL-BOTH-1")),
            manual_review_referral(stack, "ACL-MR-1"),
        )
        return {"sada": sada, "sos": sos, "both": both, "manual_review": manual_review}

    return asyncio.run(all_four())


async def call(
    method: str,
    url: str,
    token: str | None,
    body: dict[str, Any] | None = None,
) -> tuple[int, dict[str, str], Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    kwargs: dict[str, Any] = {"json": body or {}} if method == "POST" else {}
    timeout = aiohttp.ClientTimeout(total=30)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.request(method, url, headers=headers, **kwargs) as response,
    ):
        return response.status, dict(response.headers), await response.json(content_type=None)


def action_body(path: str) -> dict[str, Any]:
    """What an action needs: a reason to decline or close, a target other than the queue to reassign."""
    _, _, _, queue, _, _, action = path.split("/")
    if action == "reassign":
        return {"to": "sos" if queue == "sada" else "sada"}
    return ACTION_BODIES[action]


def assert_refusal_reveals_nothing(body: Any, codes: set[str]) -> None:
    """A refusal is the error shape with a fixed sentence: no subject, no item, no other service's data."""
    assert set(body) == {"error", "detail", "errors"} and body["error"] in codes and body["errors"] == []
    assert MARKER not in json.dumps(body)


def assert_granted_answer(method: str, path: str, caller: str, body: Any, asked: str) -> None:
    """What a granted call shows: only the caller's services, and for an action the item's new state; to
    the referring partner, its referral's status and nothing about the subject or the officers."""
    if caller == "partner":
        assert path.startswith("/v1/referrals/") and f"/v1/referrals/{body['referral_id']}" == asked
        assert body["assignments"] and MARKER not in json.dumps(body) and "dev-officer" not in json.dumps(body)
        return
    scope = SCOPES[caller]
    if method == "POST":
        _, _, _, queue, _, _, action = path.split("/")
        assert body["service"] == queue and body["state"] == FINAL_STATE[action]
        assert body["claimed_by"] == TOKENS[caller]
        assert set(body) <= {*ITEM_FIELDS, "follow_up_decision_id", "follow_up_services"}
        if action == "reassign":
            assert body["follow_up_services"] == [action_body(path)["to"]]
        if action == "decline" and queue == "sada":
            assert body["follow_up_services"] == ["manual_review"]
    elif path.startswith("/v1/referrals/"):
        assert body["referral"]["submission"]["subject"]["given_name"] == MARKER
        assert body["items"] and {item["service"] for item in body["items"]} <= scope
        assigned = {a["service"] for decision in body["decisions"] for a in decision["assignments"]}
        assert body["decisions"] and assigned <= scope
        audited = {event["details"].get("service") for event in body["audit"]} - {None}
        assert body["audit"] and audited <= scope
    elif path.startswith("/v1/queues/"):
        assert all(item["service"] == path.split("/")[3] for item in body)
    elif path == "/v1/queues":
        assert {row["service"] for row in body} <= scope


@pytest.mark.parametrize("caller", list(TOKENS))
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
async def test_each_triage_endpoint_answers_each_caller_with_the_documented_status_and_body(
    stack: Stack, queued: dict[str, str], endpoint: str, caller: str
) -> None:
    """Officers see their own services, managers all, the KPI report is managers' only; others get 401.
    Every answer shows only the caller's services; a refusal shows nothing of the referral."""
    method, path, _ = ENDPOINTS[endpoint]
    expected = expected_status(endpoint, caller)
    ids = dict(queued)
    if method == "POST" and expected == 200:  # a granted action changes state: give it its own referral
        queue = path.split("/")[3]
        ids[queue] = await fresh_referral(stack, queue, f"ACL-{endpoint}-{caller}")
    body = action_body(path) if method == "POST" else None
    status, headers, answer = await call(method, stack.url("triage") + path.format(**ids), TOKENS[caller], body)
    assert status == expected, answer
    assert headers.get("Cache-Control") == "no-store"  # every answer may hold personal data: never cached
    if status == 401:
        assert headers.get("WWW-Authenticate") == "Bearer"
        assert_refusal_reveals_nothing(answer, {"unauthorised"})
    elif status == 403:
        assert_refusal_reveals_nothing(answer, {"out_of_scope", "managers_only"})
    elif status == 404:
        assert answer == NOT_QUEUED_HERE
    else:
        assert_granted_answer(method, path.split("?")[0], caller, answer, path.format(**ids))


async def test_an_officer_sees_a_shared_referral_only_through_their_own_service(
    stack: Stack, queued: dict[str, str]
) -> None:
    """A referral for SADA and hate crime: SADA's officer is shown SADA's item, assignment and events only;
    the manager is shown both services'."""
    url = f"{stack.url('triage')}/v1/referrals/{queued['both']}"
    _, _, officer_view = await call("GET", url, "dev-officer-sada")
    _, _, manager_view = await call("GET", url, "dev-manager")
    assert [item["service"] for item in officer_view["items"]] == ["sada"]
    assert {item["service"] for item in manager_view["items"]} == {"sada", "hate_crime"}
    assert "hate_crime" not in {a["service"] for d in officer_view["decisions"] for a in d["assignments"]}
    queued_for = {e["details"].get("service") for e in officer_view["audit"] if e["action"] == "queued"}
    assert queued_for == {"sada"}
    assert len(officer_view["audit"]) < len(manager_view["audit"])


@pytest.mark.parametrize("queue", list(ACTION_QUEUES))
async def test_refused_actions_leave_the_item_new_and_unclaimed(
    stack: Stack, queued: dict[str, str], queue: str
) -> None:
    """Every action refused with 401 or 403, on SADA's or manual review's queue, changes nothing."""
    triage = stack.url("triage")
    refused = [caller for caller in TOKENS if ACTION_QUEUES[queue].get(caller, 401) != 200]
    for caller in refused:
        for action in ACTIONS:
            path = f"/v1/queues/{queue}/items/{queued[queue]}/{action}"
            assert (await call("POST", triage + path, TOKENS[caller], action_body(path)))[0] in {401, 403}
    item = await queue_item(triage, queue, queued[queue], "dev-manager")
    assert item is not None and item["state"] == "new" and item["claimed_by"] is None


async def test_an_officer_sees_only_their_own_services_in_the_queue_list(stack: Stack, queued: dict[str, str]) -> None:
    """GET /v1/queues lists exactly the caller's scope: one service for an officer, every one for a manager."""
    triage = stack.url("triage")
    _, _, sos_queues = await call("GET", f"{triage}/v1/queues", "dev-officer-sos")
    assert [q["service"] for q in sos_queues] == ["sos"] and sos_queues[0]["open"] >= 1
    _, _, review_queues = await call("GET", f"{triage}/v1/queues", "dev-officer-manual_review")
    assert [q["service"] for q in review_queues] == ["manual_review"] and review_queues[0]["open"] >= 1
    _, _, all_queues = await call("GET", f"{triage}/v1/queues", "dev-manager")
    assert {"sada", "sos", "manual_review"} <= {q["service"] for q in all_queues}


@pytest.mark.parametrize(
    ("token", "agency", "system"),
    [
        ("dev-partner-hospital", "police", "dev-police"),
        ("dev-partner-police", "police", "dev-hospital"),
        ("dev-partner-police", "hospital", "dev-police"),
        ("dev-partner-voluntary", "police", "dev-police"),
    ],
)
async def test_a_partner_cannot_submit_as_another_partner(stack: Stack, token: str, agency: str, system: str) -> None:
    """Intake answers 403 when source.agency or source.system is not the token's partner."""
    body = submission(agency=agency, reference=f"ACL-IMPOSTOR-{agency}-{system}", source__system=system)
    status, answer = await post_json(stack.url("intake") + "/v1/referrals", body, token)
    assert status == 403 and answer["error"] == "wrong_partner"


@pytest.mark.parametrize("token", ["dev-officer-sada", "dev-officer-manual_review", "dev-manager"])
async def test_an_officer_token_cannot_submit_a_referral(stack: Stack, token: str) -> None:
    """Officer tokens are not partner tokens: intake answers 401."""
    body = submission(reference=f"ACL-OFFICER-{token}")
    status, answer = await post_json(stack.url("intake") + "/v1/referrals", body, token)
    assert status == 401 and answer["error"] == "unauthorised"


def _token_fields(node: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) in the YAML document whose key names a token."""
    if isinstance(node, dict):
        for key, value in node.items():
            if "token" in str(key).lower():
                yield str(key), value
            yield from _token_fields(value)
    elif isinstance(node, list):
        for value in node:
            yield from _token_fields(value)


DEV_TOKENS = (
    [
        f"dev-partner-{a}"
        for a in (
            "police",
            "hospital",
            "gp",
            "prison",
            "probation",
            "school",
            "college",
            "council",
            "housing",
            "voluntary",
            "self",
        )
    ]
    + [f"dev-officer-{s}" for s in ("sada", "no_more", "sos", "mnwg", "modern_slavery", "hate_crime", "manual_review")]
    + ["dev-manager"]
)


@pytest.mark.parametrize("config", sorted(CONFIG_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_access_files_store_tokens_only_as_sha256_hashes(config: Path) -> None:
    """Every token field is `sha256:<64 hex>`, and no plain dev token is stored as a token."""
    text = config.read_text()
    fields = list(_token_fields(yaml.safe_load(text)))
    assert fields, f"{config.name} holds no token fields"
    for key, value in fields:
        assert key == "token_sha256", f"{config.name}: token stored under {key!r}"
        assert isinstance(value, str) and re.fullmatch(r"sha256:[0-9a-f]{64}", value), config.name
    assert not re.search(r"token\w*\s*:\s*[\"']?dev-(partner|officer|manager)", text)
    stored = {value for _, value in fields}
    assert not set(DEV_TOKENS) & stored
    if config.name == "dev.yaml":  # the published dev tokens are there, but only as their hashes
        assert {hash_token(token) for token in DEV_TOKENS} <= stored


async def test_a_burst_over_the_rate_limit_gets_exactly_the_limit_through(stack: Stack) -> None:
    """20 concurrent submissions from a partner allowed 5 a minute: 5 are 202, 15 are 429 with Retry-After."""
    url = stack.url("intake") + "/v1/referrals"
    headers = {"Authorization": f"Bearer {BURST_TOKEN}"}
    timeout = aiohttp.ClientTimeout(total=30)

    async def one(session: aiohttp.ClientSession, n: int) -> tuple[int, str | None]:
        body = submission(agency="voluntary", reference=f"ACL-BURST-{n}", source__system="burst-voluntary")
        async with session.post(url, json=body, headers=headers) as response:
            await response.read()
            return response.status, response.headers.get("Retry-After")

    async with aiohttp.ClientSession(timeout=timeout) as session:
        answers = await asyncio.gather(*(one(session, n) for n in range(20)))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [202] * BURST_LIMIT + [429] * (20 - BURST_LIMIT)
    retry_after = {value for status, value in answers if status == 429}
    assert retry_after == {str(60 // BURST_LIMIT)}


async def test_a_manager_settles_an_item_another_officer_claimed_and_the_claim_holder_cannot_after(
    stack: Stack,
) -> None:
    """A manager may not take over a claim, but may settle the claimed item; the item is then final for
    the officer who claimed it."""
    referral_id = await fresh_referral(stack, "sada", "ACL-OVERRIDE-1")
    base = f"{stack.url('triage')}/v1/queues/sada/items/{referral_id}"
    status, _, claimed = await call("POST", base + "/claim", "dev-officer-sada")
    assert status == 200 and (claimed["state"], claimed["claimed_by"]) == ("claimed", "dev-officer-sada")
    status, _, taken = await call("POST", base + "/claim", "dev-manager")
    assert (status, taken) == (
        409,
        {"error": "claimed_by_another", "detail": "the item is claimed by another officer", "errors": []},
    )
    status, _, closed = await call("POST", base + "/close", "dev-manager", {"reason": "duplicate"})
    assert status == 200 and (closed["state"], closed["claimed_by"]) == ("closed", "dev-manager")
    status, _, late = await call("POST", base + "/accept", "dev-officer-sada")
    assert (status, late) == (
        409,
        {"error": "item_final", "detail": "the item is already closed and can no longer change", "errors": []},
    )


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


async def sign_in(triage: str, token: str) -> str:
    """Sign in to the console as a browser would; the session cookie it sets."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        async with session.get(triage + "/console/sign-in") as page:
            csrf = csrf_of(await page.text())
        form = {"csrf_token": csrf, "token": token, "next": "/"}
        async with session.post(triage + "/console/sign-in", data=form, allow_redirects=False) as answer:
            assert answer.status == 303, await answer.text()
            return answer.cookies[SESSION_COOKIE].value


async def home(triage: str, cookie: str) -> tuple[int, str, str]:
    """The console's home page with this session: (status, where it redirects, the page)."""
    async with (
        aiohttp.ClientSession(cookies={SESSION_COOKIE: cookie}) as session,
        session.get(triage + "/", allow_redirects=False) as page,
    ):
        return page.status, page.headers.get("Location", ""), await page.text()


async def sign_out(triage: str, cookie: str) -> None:
    _, _, page = await home(triage, cookie)
    async with (
        aiohttp.ClientSession(cookies={SESSION_COOKIE: cookie}) as session,
        session.post(triage + "/console/sign-out", data={"csrf_token": csrf_of(page)}, allow_redirects=False) as answer,
    ):
        assert (answer.status, answer.headers["Location"]) == (303, "/console/sign-in")


def rotated_access(path: Path, source: Path) -> Path:
    """The module's access file with SADA's officer on a new token and SOS's officer removed."""
    text = source.read_text()
    text = text.replace(hash_token("dev-officer-sada"), hash_token("rotated-officer-sada"))
    sos = "  - id: dev-officer-sos\n    name: Duty officer (sos)\n    services: [sos]\n"
    sos += f'    token_sha256: "{hash_token("dev-officer-sos")}"\n'
    assert sos in text
    path.write_text(text.replace(sos, ""))
    return path


RATE_LIMIT = 3


async def test_sessions_end_on_sign_out_token_rotation_and_removal_on_every_replica(stack: Stack) -> None:
    """A second triage replica reads an access file where SADA's officer has a new token and SOS's officer
    is gone: their sessions, issued by the first replica, no longer sign them in there. A session signed
    out on the first replica is refused by both. (The same replica shows actions rate-limited per officer
    and /metrics served only on its metrics port.)"""
    first = stack.url("triage")
    sada, sos, review, review_2 = [
        await sign_in(first, token)
        for token in ("dev-officer-sada", "dev-officer-sos", "dev-officer-manual_review", "dev-officer-manual_review")
    ]
    for cookie in (sada, sos, review, review_2):
        assert (await home(first, cookie))[0] == 200
    metrics_port = free_port()
    workdir = Path(stack.env()["SOSAFE_CONFIG_FILE"]).parent
    replica = await asyncio.to_thread(
        stack.start_service,
        "triage",
        name="triage-rotated",
        port=free_port(),
        env_overrides={
            "SOSAFE_CONFIG_FILE": str(rotated_access(workdir / "rotated.yaml", workdir / "access.yaml")),
            "SOSAFE_OFFICER_ACTIONS_PER_MINUTE": str(RATE_LIMIT),
            "SOSAFE_METRICS_PORT": str(metrics_port),
        },
    )
    try:
        second = replica.base_url
        for cookie in (sada, sos):  # rotated, removed: signed out on the replica with the new access file
            assert (await home(second, cookie))[:2] == (303, "/console/sign-in")
        assert (await home(second, review))[0] == 200
        status, _, page = await home(second, review_2)
        assert status == 200 and "Your queues" in page

        await sign_out(first, review)
        for triage in (first, second):
            assert (await home(triage, review))[:2] == (303, "/console/sign-in")
        assert (await home(second, review_2))[0] == 200  # only the session signed out ends

        answers = [
            await call(
                "POST", f"{second}/v1/queues/manual_review/items/{UNKNOWN_ID}/claim", "dev-officer-manual_review"
            )
            for _ in range(RATE_LIMIT + 1)
        ]
        assert [(status, body) for status, _, body in answers[:RATE_LIMIT]] == [(404, NOT_QUEUED_HERE)] * RATE_LIMIT
        status, headers, body = answers[-1]
        assert status == 429 and body["error"] == "rate_limited" and body["errors"] == []
        assert headers["Retry-After"] == str(60 // RATE_LIMIT) and headers["Cache-Control"] == "no-store"
        assert (await call("GET", f"{second}/v1/queues", "dev-officer-manual_review"))[0] == 200  # reads still fine

        async with aiohttp.ClientSession() as session:
            async with session.get(second + "/metrics") as on_main_port:
                assert on_main_port.status == 404
            async with session.get(f"http://127.0.0.1:{metrics_port}/metrics") as on_metrics_port:
                assert on_metrics_port.status == 200
                assert "sosafe_triage_officer_actions_total" in await on_metrics_port.text()
    finally:
        await asyncio.to_thread(replica.stop)
