"""Least privilege (DESIGN §5, §7): who may call which endpoint, partner identity, hashed tokens, rate limits."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from services.cli.stack import Stack
from services.common.access import hash_token
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
}
"""Every kind of caller. A partner token is not an officer token, so triage answers it 401 like a bad one."""

OFFICER_SCOPES = {"officer-sada", "officer-sos", "officer-manual_review", "manager"}
SADA_ONLY = {"officer-sada": 200, "officer-sos": 403, "officer-manual_review": 403, "manager": 200}
SOS_ONLY = {"officer-sada": 403, "officer-sos": 200, "officer-manual_review": 403, "manager": 200}

ENDPOINTS: dict[str, tuple[str, str, dict[str, int]]] = {
    "list-queues": ("GET", "/v1/queues", dict.fromkeys(OFFICER_SCOPES, 200)),
    "sada-queue": ("GET", "/v1/queues/sada", SADA_ONLY),
    "sos-queue": ("GET", "/v1/queues/sos", SOS_ONLY),
    "sada-referral": ("GET", "/v1/referrals/{sada}", SADA_ONLY),
    "sos-referral": ("GET", "/v1/referrals/{sos}", SOS_ONLY),
    "claim-sada": ("POST", "/v1/queues/sada/items/{sada}/claim", SADA_ONLY),
    "claim-sos": ("POST", "/v1/queues/sos/items/{sos}/claim", SOS_ONLY),
    "kpis": ("GET", "/v1/reports/kpis?from=2026-01-01&to=2027-01-01",
             {"officer-sada": 403, "officer-sos": 403, "officer-manual_review": 403, "manager": 200}),
}
"""Each triage endpoint with the status every officer scope gets; any caller not listed gets 401."""


def expected_status(endpoint: str, caller: str) -> int:
    return ENDPOINTS[endpoint][2].get(caller, 401)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("access")
    access = access_with_partner(workdir / "access.yaml", "burst-voluntary", BURST_TOKEN, BURST_LIMIT)
    started = Stack(workdir=workdir, services=("intake", "triage"), partitions=2,
                    extra_env={"SOSAFE_CONFIG_FILE": str(access)})
    started.start()
    yield started
    started.stop()


def sada_submission(reference: str) -> dict[str, Any]:
    """A high-risk domestic abuse victim of 25: SADA only."""
    return submission(reference=reference)


def sos_submission(reference: str) -> dict[str, Any]:
    """A 22-year-old at risk from knife crime: SOS only."""
    return submission(reference=reference, role="at_risk", concerns=["knife_crime"],
                      subject__date_of_birth="2004-05-01")


async def submit_and_wait(stack: Stack, service: str, body: dict[str, Any]) -> str:
    """Submit as the police partner and wait until the referral is a new item in `service`'s queue."""
    status, answer = await post_json(stack.url("intake") + "/v1/referrals", body, "dev-partner-police")
    assert status == 202, answer
    referral_id: str = answer["referral_id"]
    await eventually(lambda: queue_item(stack.url("triage"), service, referral_id, "dev-manager", "open"),
                     what=f"the {service} queue item")
    return referral_id


@pytest.fixture(scope="module")
def queued(stack: Stack) -> dict[str, str]:
    """One referral waiting in SADA's queue and one in SOS's."""
    async def both() -> dict[str, str]:
        sada, sos = await asyncio.gather(submit_and_wait(stack, "sada", sada_submission("ACL-SADA-1")),
                                         submit_and_wait(stack, "sos", sos_submission("ACL-SOS-1")))
        return {"sada": sada, "sos": sos}
    return asyncio.run(both())


async def call(method: str, url: str, token: str | None) -> tuple[int, dict[str, str], Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    kwargs: dict[str, Any] = {"json": {}} if method == "POST" else {}
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session, session.request(
            method, url, headers=headers, **kwargs) as response:
        return response.status, dict(response.headers), await response.json(content_type=None)


@pytest.mark.parametrize("caller", list(TOKENS))
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
async def test_each_triage_endpoint_answers_each_caller_with_the_documented_status(
        stack: Stack, queued: dict[str, str], endpoint: str, caller: str) -> None:
    """Officers see their own services, managers all, the KPI report is managers' only; others get 401."""
    method, path, _ = ENDPOINTS[endpoint]
    expected = expected_status(endpoint, caller)
    ids = dict(queued)
    if method == "POST" and expected == 200:  # a granted claim changes state: give it its own referral
        service = "sada" if "{sada}" in path else "sos"
        body = (sada_submission if service == "sada" else sos_submission)(f"ACL-CLAIM-{endpoint}-{caller}")
        ids[service] = await submit_and_wait(stack, service, body)
    status, headers, body = await call(method, stack.url("triage") + path.format(**ids), TOKENS[caller])
    assert status == expected, body
    if status == 401:
        assert headers.get("WWW-Authenticate") == "Bearer" and body["error"] == "unauthorised"
    elif status == 403:
        assert body["error"] in {"out_of_scope", "managers_only"} and body["errors"] == []
    elif method == "POST":
        assert body["state"] == "claimed" and body["claimed_by"] == TOKENS[caller]


async def test_refused_claims_leave_the_item_new_and_unclaimed(stack: Stack, queued: dict[str, str]) -> None:
    """Claims refused with 401 or 403 change nothing: the item is still new with no claimant."""
    triage = stack.url("triage")
    for caller in ("officer-sos", "officer-manual_review", "no-token", "bad-token", "partner"):
        url = f"{triage}/v1/queues/sada/items/{queued['sada']}/claim"
        assert (await call("POST", url, TOKENS[caller]))[0] in {401, 403}
    item = await queue_item(triage, "sada", queued["sada"], "dev-officer-sada")
    assert item is not None and item["state"] == "new" and item["claimed_by"] is None


async def test_an_officer_sees_only_their_own_services_in_the_queue_list(
        stack: Stack, queued: dict[str, str]) -> None:
    """GET /v1/queues lists exactly the caller's scope: one service for an officer, every one for a manager."""
    triage = stack.url("triage")
    _, _, sos_queues = await call("GET", f"{triage}/v1/queues", "dev-officer-sos")
    assert [q["service"] for q in sos_queues] == ["sos"] and sos_queues[0]["open"] >= 1
    _, _, all_queues = await call("GET", f"{triage}/v1/queues", "dev-manager")
    assert {"sada", "sos", "manual_review"} <= {q["service"] for q in all_queues}


@pytest.mark.parametrize(("token", "agency", "system"), [
    ("dev-partner-hospital", "police", "dev-police"),
    ("dev-partner-police", "police", "dev-hospital"),
    ("dev-partner-police", "hospital", "dev-police"),
    ("dev-partner-voluntary", "police", "dev-police"),
])
async def test_a_partner_cannot_submit_as_another_partner(stack: Stack, token: str, agency: str,
                                                          system: str) -> None:
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


DEV_TOKENS = ([f"dev-partner-{a}" for a in ("police", "hospital", "gp", "prison", "probation", "school",
                                            "college", "council", "housing", "voluntary", "self")]
              + [f"dev-officer-{s}" for s in ("sada", "no_more", "sos", "mnwg", "modern_slavery",
                                              "hate_crime", "manual_review")]
              + ["dev-manager"])


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
