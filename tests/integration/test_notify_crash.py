"""A notify worker killed after the peer received a notification but before committing sends it again
only with the same id, so the peer can de-duplicate (issue 4: at least once, never lost); the same for the
referring partner's outcome webhooks, counted by outcome id (issue 14)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from services.cli.stack import Stack
from tests.support.config import access_with_webhooks, with_outcomes_webhook
from tests.support.flow import eventually, queue_item
from tests.support.http import post_json
from tests.support.kafka import read_topic
from tests.support.outbox import read_outbox
from tests.support.payloads import submission
from tests.support.receivers import Received, WebhookReceiver

pytestmark = pytest.mark.integration


@pytest.mark.timeout(240)
async def test_notify_killed_mid_delivery_resends_with_the_same_ids(tmp_path: Path) -> None:
    """SIGKILL notify while SADA's webhook receiver holds the request; after the restart every copy the
    peer got carries one Idempotency-Key and every e-mail one Message-ID."""
    receiver = WebhookReceiver()
    stack_box: list[Stack] = []
    killed: list[bool] = []

    def kill_notify_once(received: Received) -> None:
        if not killed and stack_box:
            killed.append(True)
            stack_box[0].processes["notify"].kill()

    receiver.on_request = kill_notify_once
    await receiver.start()
    env = {
        "SOSAFE_CONFIG_FILE": str(access_with_webhooks(tmp_path / "access.yaml", receiver)),
        **{f"SOSAFE_WEBHOOK_SECRET_{s.upper()}": "crash-secret" for s in ("sada", "sos", "hate_crime")},
    }
    stack = Stack(workdir=tmp_path / "stack", partitions=1, extra_env=env)
    stack_box.append(stack)
    await asyncio.to_thread(stack.start)
    try:
        status, answer = await post_json(
            stack.url("intake") + "/v1/referrals", submission(reference="CRASH-1"), "dev-partner-police"
        )
        assert status == 202
        referral_id = answer["referral_id"]
        await eventually(lambda: asyncio.sleep(0, bool(killed)), what="the notify worker killed mid-delivery")
        await asyncio.to_thread(stack.start_service, "notify", True)

        def copies() -> list[Received]:
            return [r for r in receiver.for_hook("sada") if referral_id.encode() in r.body]

        await eventually(
            lambda: asyncio.sleep(0, len(copies()) >= 2), timeout=90, what="the webhook sent again after the restart"
        )
        await asyncio.sleep(2.0)
        keys = {r.headers["Idempotency-Key"] for r in copies()}
        assert len(keys) == 1, f"copies of one notification carried {len(keys)} different ids"
        mails = [m for m in read_outbox(stack.outbox) if m.referral_id == referral_id]
        by_service = {m.service: {n.notification_id for n in mails if n.service == m.service} for m in mails}
        assert "sada" in by_service and all(len(ids) == 1 for ids in by_service.values()), by_service
    finally:
        await asyncio.to_thread(stack.stop)
        await receiver.stop()


@pytest.mark.timeout(240)
async def test_notify_killed_mid_outcome_webhook_loses_no_outcome_and_resends_only_by_outcome_id(
    tmp_path: Path,
) -> None:
    """SIGKILL notify while the partner's outcome webhook receiver holds the first outcome; after the restart
    and two more outcomes (claim, accept), the partner has had every outcome on `referrals.outcomes` for the
    referral, and every copy's Idempotency-Key is its body's outcome id: none lost, and what came twice
    came with one key, which the receiver de-duplicates on."""
    receiver = WebhookReceiver()
    stack_box: list[Stack] = []
    killed: list[bool] = []

    def kill_notify_on_the_first_outcome(received: Received) -> None:
        if received.path == "/hooks/partner" and not killed and stack_box:
            killed.append(True)
            stack_box[0].processes["notify"].kill()

    receiver.on_request = kill_notify_on_the_first_outcome
    await receiver.start()
    access = access_with_webhooks(tmp_path / "access.yaml", receiver)
    with_outcomes_webhook(access, "dev-police", receiver.url("partner"), "SOSAFE_WEBHOOK_SECRET_PARTNER_POLICE")
    env = {
        "SOSAFE_CONFIG_FILE": str(access),
        "SOSAFE_WEBHOOK_SECRET_PARTNER_POLICE": "crash-partner-secret",
        **{f"SOSAFE_WEBHOOK_SECRET_{s.upper()}": "crash-secret" for s in ("sada", "sos", "hate_crime")},
    }
    stack = Stack(workdir=tmp_path / "stack", partitions=1, extra_env=env)
    stack_box.append(stack)
    await asyncio.to_thread(stack.start)
    try:
        assert stack.broker is not None
        status, answer = await post_json(
            stack.url("intake") + "/v1/referrals", submission(reference="CRASH-OUT-1"), "dev-partner-police"
        )
        assert status == 202
        referral_id = answer["referral_id"]
        await eventually(lambda: asyncio.sleep(0, bool(killed)), what="notify killed mid outcome webhook")
        await asyncio.to_thread(stack.start_service, "notify", True)
        triage = stack.url("triage")
        await eventually(lambda: queue_item(triage, "sada", referral_id, "dev-manager"), what="the SADA item")
        item = f"{triage}/v1/queues/sada/items/{referral_id}"
        assert (await post_json(f"{item}/claim", {}, "dev-officer-sada"))[0] == 200
        assert (await post_json(f"{item}/accept", {}, "dev-officer-sada"))[0] == 200

        def of_referral(records: list) -> list[dict]:
            values = [json.loads(r.value) for r in records]
            return [v for v in values if v["referral_id"] == referral_id]

        records = await read_topic(
            stack.broker.bootstrap,
            "referrals.outcomes",
            timeout=60,
            until=lambda rs: {"claimed", "accepted"} <= {v["kind"] for v in of_referral(rs)},
        )
        published = {v["outcome_id"]: v for v in of_referral(records)}
        assert {v["kind"] for v in published.values()} >= {"triaged", "claimed", "accepted"}

        def received() -> list[tuple[str, dict]]:
            copies = [(r.headers["Idempotency-Key"], json.loads(r.body)) for r in receiver.for_hook("partner")]
            return [(key, body) for key, body in copies if body["referral_id"] == referral_id]

        await eventually(
            lambda: asyncio.sleep(0, {key for key, _ in received()} >= set(published) or None),
            timeout=90,
            what="every outcome delivered to the partner after the restart",
        )
        copies = received()
        assert all(key == body["outcome_id"] for key, body in copies), "a copy's key is not its outcome id"
        assert {key for key, _ in copies} == set(published), "the partner got an outcome that was never published"
        for key, body in copies:
            assert body == published[key], "two copies under one key differ"
        held = copies[0][0]  # the outcome whose request notify was killed during: never recorded, so sent again
        assert [key for key, _ in copies].count(held) >= 2, "the outcome held at the kill was not sent again"
    finally:
        await asyncio.to_thread(stack.stop)
        await receiver.stop()
