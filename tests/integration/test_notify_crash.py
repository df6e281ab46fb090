"""A notify worker killed after the peer received a notification but before committing sends it again
only with the same id, so the peer can de-duplicate (issue 4: at least once, never lost)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from services.cli.stack import Stack
from tests.support.config import access_with_webhooks
from tests.support.flow import eventually
from tests.support.http import post_json
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
        # the high-risk referral is SADA's and, at MARAC level, the MARAC coordinator's: one id per service
        ids_per_service = {m.service: {n.notification_id for n in mails if n.service == m.service} for m in mails}
        assert "sada" in ids_per_service and all(len(ids) == 1 for ids in ids_per_service.values()), ids_per_service
    finally:
        await asyncio.to_thread(stack.stop)
        await receiver.stop()
