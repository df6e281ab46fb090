"""The referrer's side end to end: a partner follows its own referral through triage, a claim, a decline with
a reason and a reassignment, by status, by polling and by signed webhooks to a real aiohttp peer; it sees none
of another partner's referrals."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio

from services.cli.stack import Stack
from services.notify.signing import IDEMPOTENCY_HEADER, verify
from tests.support.config import access_with_webhooks, with_outcomes_webhook
from tests.support.flow import eventually, queue_item
from tests.support.http import get_json, post_json
from tests.support.payloads import DISTINCTIVE, distinctive_submission
from tests.support.receivers import WebhookReceiver

pytestmark = pytest.mark.integration

SECRET = "referrer-outcomes-secret"
POLICE, HOSPITAL, MANAGER = "dev-partner-police", "dev-partner-hospital", "dev-manager"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def system(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Stack, WebhookReceiver]]:
    receiver = WebhookReceiver()
    await receiver.start()
    workdir = tmp_path_factory.mktemp("referrer")
    access = access_with_webhooks(workdir / "access.yaml", receiver, services=())
    with_outcomes_webhook(access, "dev-police", receiver.url("police"), "SOSAFE_WEBHOOK_SECRET_PARTNER_POLICE")
    env = {"SOSAFE_CONFIG_FILE": str(access), "SOSAFE_WEBHOOK_SECRET_PARTNER_POLICE": SECRET}
    stack = Stack(workdir=workdir, partitions=2, extra_env=env)
    await asyncio.to_thread(stack.start)
    yield stack, receiver
    await asyncio.to_thread(stack.stop)
    await receiver.stop()


async def status_of(stack: Stack, referral_id: str, token: str = POLICE) -> tuple[int, Any]:
    return await get_json(f"{stack.url('triage')}/v1/referrals/{referral_id}", token)


async def act(stack: Stack, service: str, referral_id: str, action: str, **body: str) -> None:
    url = f"{stack.url('triage')}/v1/queues/{service}/items/{referral_id}/{action}"
    status, answer = await post_json(url, body, MANAGER)
    assert status == 200, answer


async def assignments_when(stack: Stack, referral_id: str, wanted: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The partner's view of each assignment, once every service in `wanted` is in the state given."""

    async def probe() -> dict[str, dict[str, Any]] | None:
        status, body = await status_of(stack, referral_id)
        if status != 200:
            return None
        shown = {a["service"]: a for a in body["assignments"]}
        return shown if all(shown.get(s, {}).get("state") == state for s, state in wanted.items()) else None

    return await eventually(probe, what=f"the partner to see {wanted}")


@pytest.mark.asyncio(loop_scope="module")
async def test_a_partner_follows_its_referral_and_sees_no_one_elses(system) -> None:
    stack, receiver = system
    body = distinctive_submission(reference="REF-STATUS-1")
    # Below MARAC level, so SADA's is the only item and its decline falls back to manual review (a MARAC-level
    # referral also has the MARAC coordinator's item, ruleset 2026.12.1); so SADA's priority is medium.
    body["risk"] = {"dash_score": 10, "level": "medium", "immediate_danger": False}
    status, answer = await post_json(stack.url("intake") + "/v1/referrals", body, POLICE)
    assert status == 202, answer
    referral_id = answer["referral_id"]

    triaged = await assignments_when(stack, referral_id, {"sada": "new"})
    assert set(triaged) == {"sada"}
    assert triaged["sada"]["priority"] == "medium" and triaged["sada"]["due_at"]
    await eventually(lambda: queue_item(stack.url("triage"), "sada", referral_id, MANAGER), what="the SADA item")

    await act(stack, "sada", referral_id, "claim")
    await assignments_when(stack, referral_id, {"sada": "claimed"})
    await act(stack, "sada", referral_id, "decline", reason="no_capacity: told Sam on the phone")
    after_decline = await assignments_when(stack, referral_id, {"sada": "declined", "manual_review": "new"})
    assert after_decline["sada"]["reason_code"] == "no_capacity"
    await eventually(
        lambda: queue_item(stack.url("triage"), "manual_review", referral_id, MANAGER), what="the fallback item"
    )
    await act(stack, "manual_review", referral_id, "reassign", to="sos", reason="wrong_service")
    final = await assignments_when(stack, referral_id, {"manual_review": "reassigned", "sos": "new"})
    assert final["manual_review"]["to"] == "sos"

    status, body = await status_of(stack, referral_id)
    kinds = [(o["kind"], o["service"]) for o in body["outcomes"]]
    first, later = kinds[:-5], kinds[-5:]
    assert ("triaged", "sada") in first and all(kind == "triaged" for kind, _ in first)
    assert later == [
        ("claimed", "sada"),
        ("declined", "sada"),
        ("triaged", "manual_review"),
        ("reassigned", "manual_review"),
        ("triaged", "sos"),
    ]
    assert [o["seq"] for o in body["outcomes"]] == list(range(1, len(kinds) + 1))
    text = json.dumps(body)
    for value in (*DISTINCTIVE.values(), "dev-manager", "told Sam"):
        assert str(value) not in text, "no personal data, officer or free text in the partner's view"

    # Another partner: the same 404 as an unknown referral, and nothing of it in its own feed.
    other_status, other = await status_of(stack, referral_id, HOSPITAL)
    unknown_status, unknown = await status_of(stack, "no-such-referral", HOSPITAL)
    assert (other_status, other) == (unknown_status, unknown) and other_status == 404
    _, feed = await get_json(f"{stack.url('triage')}/v1/referrals", HOSPITAL)
    assert all(change["referral_id"] != referral_id for change in feed["changes"])

    # Polling: every outcome once, in order; the cursor moves past them.
    _, polled = await get_json(f"{stack.url('triage')}/v1/referrals", POLICE)
    mine = [c for c in polled["changes"] if c["referral_id"] == referral_id]
    assert mine == body["outcomes"]
    _, rest = await get_json(f"{stack.url('triage')}/v1/referrals?updated_since={polled['cursor']}", POLICE)
    assert rest["changes"] == [] and rest["cursor"] == polled["cursor"]

    # Webhooks: each outcome signed, with its id as the Idempotency-Key, in the referral's order.
    async def hooks() -> list[Any] | None:
        got = [r for r in receiver.for_hook("police") if referral_id.encode() in r.body]
        return got if len({json.loads(r.body)["outcome_id"] for r in got}) == len(kinds) else None

    delivered = await eventually(hooks, what="every outcome webhook")
    now = datetime.now(UTC)
    for hook in delivered:
        assert verify(SECRET.encode(), hook.headers, hook.body, now)
        assert hook.headers[IDEMPOTENCY_HEADER] == json.loads(hook.body)["outcome_id"]
    first_seen: dict[str, int] = {}
    for hook in delivered:
        first_seen.setdefault(json.loads(hook.body)["outcome_id"], json.loads(hook.body)["seq"])
    assert list(first_seen.values()) == list(range(1, len(kinds) + 1)), "delivered in the referral's order"
    assert [json.loads(h.body)["kind"] for h in delivered][: len(kinds)] == [o["kind"] for o in body["outcomes"]]
    for value in DISTINCTIVE.values():
        assert all(str(value).encode() not in h.body for h in delivered)
