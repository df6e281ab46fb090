"""Intake to triage on the real embedded broker: queues, scopes, officer actions, restart recovery."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from services.cli.stack import Stack
from tests.support.flow import eventually, queue_item
from tests.support.http import get_json, post_json
from tests.support.payloads import submission

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    started = Stack(workdir=tmp_path_factory.mktemp("triage"), services=("intake", "triage"), partitions=2)
    started.start()
    yield started
    started.stop()


async def submit(stack: Stack, body: dict) -> str:
    status, answer = await post_json(stack.url("intake") + "/v1/referrals", body, "dev-partner-police")
    assert status == 202, answer
    return answer["referral_id"]


async def act(
    stack: Stack, service: str, referral_id: str, action: str, token: str, body: dict | None = None
) -> tuple[int, dict]:
    url = f"{stack.url('triage')}/v1/queues/{service}/items/{referral_id}/{action}"
    return await post_json(url, body or {}, token)


async def test_high_risk_da_referral_is_queued_for_sada_with_its_explanation(stack: Stack) -> None:
    """The item shows in SADA's queue with priority, due time, flags and reasons; SOS cannot see it."""
    body = submission(reference="TRI-DA-1", household__children_under_18=1)
    referral_id = await submit(stack, body)
    triage = stack.url("triage")
    item = await eventually(
        lambda: queue_item(triage, "sada", referral_id, "dev-officer-sada", "open"), what="the SADA queue item"
    )
    assert item["priority"] == "high" and item["state"] == "new"
    assert set(item["flags"]) == {"marac", "children_in_household"}
    assert "da-victim-high-risk" in item["rule_ids"] and item["reasons"]
    assert item["ruleset_version"]
    due = datetime.fromisoformat(item["due_at"])
    submitted = datetime.fromisoformat(body["submitted_at"].replace("Z", "+00:00"))
    assert timedelta(hours=23) < due - submitted < timedelta(hours=25)
    status, _ = await get_json(f"{triage}/v1/queues/sada", "dev-officer-sos")
    assert status == 403
    status, hidden = await get_json(f"{triage}/v1/referrals/{referral_id}", "dev-officer-sos")
    assert (status, hidden["error"]) == (404, "unknown_referral")  # answered as if it did not exist
    status, queues = await get_json(f"{triage}/v1/queues", "dev-officer-sos")
    assert status == 200 and [q["service"] for q in queues] == ["sos"]


async def test_claims_conflict_accept_is_final_and_a_lone_decline_goes_to_manual_review(stack: Stack) -> None:
    """Claim then another claim is 409; accept is final; declining the only open item makes manual review."""
    first = await submit(stack, submission(reference="TRI-ACT-1"))
    # Below MARAC level and another person (a repeat victim is flagged for MARAC), so SADA's is its only
    # item: a MARAC-flagged referral also has the coordinator's.
    second = await submit(
        stack,
        submission(reference="TRI-ACT-2", risk__dash_score=10, risk__level="medium", subject__given_name="Jo"),
    )
    triage = stack.url("triage")
    for rid in (first, second):
        await eventually(lambda rid=rid: queue_item(triage, "sada", rid, "dev-officer-sada"), what="queue item")
    status, claimed = await act(stack, "sada", first, "claim", "dev-officer-sada")
    assert status == 200 and claimed["state"] == "claimed" and claimed["claimed_by"] == "dev-officer-sada"
    status, refused = await act(stack, "sada", first, "claim", "dev-manager")
    assert status == 409 and refused["error"]
    status, accepted = await act(stack, "sada", first, "accept", "dev-officer-sada")
    assert status == 200 and accepted["state"] == "accepted"
    status, _ = await act(stack, "sada", first, "decline", "dev-officer-sada", {"reason": "not_eligible"})
    assert status == 409
    status, _ = await act(stack, "sada", second, "decline", "dev-officer-sada")
    assert status == 422, "a decline needs a reason"
    status, declined = await act(stack, "sada", second, "decline", "dev-officer-sada", {"reason": "not_eligible"})
    assert status == 200 and declined["state"] == "declined"
    review = await eventually(
        lambda: queue_item(triage, "manual_review", second, "dev-manager", "open"), what="the manual review item"
    )
    assert review["state"] == "new" and "officer.decline_fallback" in review["rule_ids"]
    status, _ = await act(stack, "sos", second, "claim", "dev-officer-sada")
    assert status == 403


async def test_referral_view_shows_decisions_items_and_the_audit_trail_in_order(stack: Stack) -> None:
    """GET /v1/referrals/{id} gives the referral, its decision and its trail from intake and triage."""
    referral_id = await submit(stack, submission(reference="TRI-VIEW-1"))
    triage = stack.url("triage")

    async def trail() -> list[str] | None:
        status, body = await get_json(f"{triage}/v1/referrals/{referral_id}", "dev-officer-sada")
        actions = [e["action"] for e in body["audit"]] if status == 200 else []
        return actions if "queued" in actions else None

    actions = await eventually(trail, what="the audit trail")
    assert actions[:4] == ["submitted", "accepted", "triaged", "queued"]
    _status, body = await get_json(f"{triage}/v1/referrals/{referral_id}", "dev-officer-sada")
    assert body["referral"]["referral_id"] == referral_id
    assert body["decisions"][0]["ruleset_version"] and body["decisions"][0]["assignments"]


async def test_restarted_triage_worker_keeps_every_queue_item_and_state(stack: Stack) -> None:
    """Tables recover from their changelogs: a claimed item is still claimed after a restart."""
    ids = [await submit(stack, submission(reference=f"TRI-RESTART-{n}")) for n in range(5)]
    triage = stack.url("triage")
    for rid in ids:
        await eventually(lambda rid=rid: queue_item(triage, "sada", rid, "dev-officer-sada"), what="queue item")
    status, _ = await act(stack, "sada", ids[0], "claim", "dev-officer-sada")
    assert status == 200
    _, before = await get_json(f"{triage}/v1/queues/sada?state=all", "dev-manager")
    stack.processes["triage"].stop()
    stack.start_service("triage")
    _, after = await get_json(f"{triage}/v1/queues/sada?state=all", "dev-manager")
    assert after == before
    assert next(i for i in after if i["referral_id"] == ids[0])["claimed_by"] == "dev-officer-sada"
