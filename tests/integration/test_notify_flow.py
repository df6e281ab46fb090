"""Notify end to end on the real broker with a real SMTP sink and a real webhook receiver."""

from __future__ import annotations

import asyncio
import email
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import pytest
import pytest_asyncio

from schemas.audit import ActorKind, AuditAction, AuditEvent
from services.cli.stack import Stack
from services.common.audit_chain import ChainHead, next_event
from services.common.audit_keys import DEVELOPMENT_AUDIT_KEY, DEVELOPMENT_AUDIT_KEY_ID, AuditKeyring
from services.notify.signing import IDEMPOTENCY_HEADER, verify
from tests.support.config import access_with_webhooks
from tests.support.flow import eventually
from tests.support.http import get_json, post_json
from tests.support.kafka import produce, read_topic
from tests.support.metrics import sample_value
from tests.support.payloads import DISTINCTIVE, distinctive_submission, submission
from tests.support.receivers import WebhookReceiver

pytestmark = pytest.mark.integration

SECRET = "integration-webhook-secret"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def system(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Stack, WebhookReceiver]]:
    receiver = WebhookReceiver(behaviour={"sos": lambda n: 500 if n <= 2 else 200, "hate_crime": lambda n: 503})
    await receiver.start()
    workdir = tmp_path_factory.mktemp("notify")
    env = {
        "SOSAFE_CONFIG_FILE": str(access_with_webhooks(workdir / "access.yaml", receiver)),
        "SOSAFE_RETRY_BASE_S": "0.2",
        "SOSAFE_RETRY_MAX_S": "1",
        "SOSAFE_RETRY_MAX_ATTEMPTS": "3",
        **{f"SOSAFE_WEBHOOK_SECRET_{s.upper()}": SECRET for s in ("sada", "sos", "hate_crime")},
    }
    stack = Stack(workdir=workdir, partitions=2, extra_env=env)
    await asyncio.to_thread(stack.start)
    yield stack, receiver
    await asyncio.to_thread(stack.stop)
    await receiver.stop()


async def submit(stack: Stack, body: dict, token: str = "dev-partner-police") -> str:
    status, answer = await post_json(stack.url("intake") + "/v1/referrals", body, token)
    assert status == 202, answer
    return answer["referral_id"]


def mails_for(stack: Stack, referral_id: str) -> list[email.message.Message]:
    messages = [email.message_from_bytes(p.read_bytes()) for p in stack.outbox.glob("*.eml")]
    return [m for m in messages if referral_id in m.get_payload(decode=True).decode()]


async def notify_metric(stack: Stack, **labels: str) -> float:
    async with aiohttp.ClientSession() as session, session.get(stack.url("notify") + "/metrics") as response:
        return sample_value(await response.text(), "sosafe_notify_notifications_total", **labels)


@pytest.mark.asyncio(loop_scope="module")
async def test_high_risk_da_gives_one_email_and_one_signed_webhook_without_personal_data(system) -> None:
    """SADA's team gets one e-mail and one verifiable webhook, the MARAC coordinator one e-mail; none carries the
    person's details."""
    stack, receiver = system
    referral_id = await submit(stack, distinctive_submission(reference="NOT-DA-1"))
    hooks = await eventually(
        lambda: asyncio.sleep(0, [r for r in receiver.for_hook("sada") if referral_id.encode() in r.body]),
        what="SADA webhook",
    )
    await eventually(lambda: asyncio.sleep(0, len(mails_for(stack, referral_id)) >= 2), what="SADA and MARAC e-mails")
    await asyncio.sleep(1.0)  # nothing more should arrive
    hooks = [r for r in receiver.for_hook("sada") if referral_id.encode() in r.body]
    every = mails_for(stack, referral_id)
    assert sorted(m["To"] for m in every) == ["referrals@marac.sosafe.example.org", "referrals@sada.sosafe.example.org"]
    mails = [m for m in every if m["To"] == "referrals@sada.sosafe.example.org"]
    assert len(hooks) == 1 and len(mails) == 1
    [hook], [mail] = hooks, mails
    assert verify(SECRET.encode(), hook.headers, hook.body, datetime.now(UTC))
    assert not verify(b"another-secret", hook.headers, hook.body, datetime.now(UTC))
    assert mail["To"] == "referrals@sada.sosafe.example.org"
    assert json.loads(hook.body)["service"] == "sada" and json.loads(hook.body)["priority"] == "high"
    text = "".join(m.as_string() for m in every) + hook.body.decode() + json.dumps(hook.headers)
    for value in DISTINCTIVE.values():
        assert value not in text


@pytest.mark.asyncio(loop_scope="module")
async def test_webhook_failing_twice_is_retried_and_delivered_once(system) -> None:
    """SOS's receiver fails twice then succeeds: one success, two retries counted."""
    stack, receiver = system
    body = submission(
        reference="NOT-SOS-1", concerns=["knife_crime"], role="at_risk", subject__date_of_birth="2008-05-01"
    )
    referral_id = await submit(stack, body)

    async def delivered() -> bool:
        return await notify_metric(stack, channel="webhook", service="sos", outcome="sent") >= 1

    await eventually(delivered, what="the SOS webhook delivered")
    attempts = [r for r in receiver.for_hook("sos") if referral_id.encode() in r.body]
    assert len(attempts) == 3 and len({r.headers[IDEMPOTENCY_HEADER] for r in attempts}) == 1
    assert await notify_metric(stack, channel="webhook", service="sos", outcome="retried") == 2


@pytest.mark.asyncio(loop_scope="module")
async def test_webhook_failing_always_is_dead_lettered_audited_and_counted(system) -> None:
    """Hate crime's receiver always fails: notifications.dead, a dead_lettered audit event, a metric."""
    stack, _receiver = system
    body = submission(agency="voluntary", reference="NOT-HC-1", concerns=["hate_crime"])
    referral_id = await submit(stack, body, "dev-partner-voluntary")
    dead = await read_topic(
        stack.broker.bootstrap,
        "notifications.dead",
        timeout=40,
        until=lambda rs: any(referral_id in r.value.decode() for r in rs),
    )
    [entry] = [json.loads(r.value) for r in dead if referral_id in r.value.decode()]
    assert entry["notification"]["channel"] == "webhook" and entry["last_error"]
    audit = await read_topic(
        stack.broker.bootstrap,
        "audit.events",
        until=lambda rs: any(referral_id in r.value.decode() and b"dead_lettered" in r.value for r in rs),
    )
    assert any(json.loads(r.value)["action"] == "dead_lettered" for r in audit if referral_id in r.value.decode())
    assert await notify_metric(stack, channel="webhook", service="hate_crime", outcome="dead_lettered") == 1


@pytest.mark.asyncio(loop_scope="module")
async def test_trail_is_in_order_and_a_forged_event_breaks_verification(system) -> None:
    """The trail reads submitted, accepted, triaged, queued, notified; every event is signed and verifies,
    also after the audit key is rotated; rewriting an event, or appending a well-linked next event under a
    key the services do not hold, fails `audit verify`."""
    stack, _ = system
    referral_id = await submit(stack, submission(reference="NOT-AUDIT-1"))

    async def trail() -> list[dict] | None:
        status, body = await get_json(f"{stack.url('triage')}/v1/referrals/{referral_id}", "dev-officer-sada")
        events = body["audit"] if status == 200 else []
        actions = {e["action"] for e in events}
        return events if {"queued", "notified"} <= actions else None

    events = await eventually(trail, what="queued and notified events in the trail")
    assert [e["action"] for e in events][:5] == ["submitted", "accepted", "triaged", "queued", "notified"]
    verify_cmd = [sys.executable, "-m", "services.cli.main", "audit", "verify", "--broker", stack.broker.bootstrap]
    clean = await asyncio.to_thread(subprocess.run, verify_cmd, capture_output=True, text=True, timeout=120)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert {e["key_id"] for e in events} == {DEVELOPMENT_AUDIT_KEY_ID}
    # Rotated: a new current key, the development key kept as a previous one; the old events still verify.
    rotated_env = {
        **os.environ,
        "SOSAFE_AUDIT_KEY": "a-new-audit-key-after-rotation",
        "SOSAFE_AUDIT_KEY_ID": "rotated-2",
        "SOSAFE_AUDIT_KEYS_PREVIOUS": f"{DEVELOPMENT_AUDIT_KEY_ID}:{DEVELOPMENT_AUDIT_KEY}",
    }
    rotated = await asyncio.to_thread(
        subprocess.run, verify_cmd, capture_output=True, text=True, timeout=120, env=rotated_env
    )
    assert rotated.returncode == 0, rotated.stdout + rotated.stderr
    original = AuditEvent.model_validate(next(e for e in events if e["action"] == "queued"))
    rewritten = original.model_copy(update={"details": {**original.details, "priority": "standard"}})
    rewritten = rewritten.model_copy(update={"hash": rewritten.computed_hash()})
    # Well linked after the last triage event, well hashed, signed under the key id the services use,
    # but with a guessed secret: only the MAC gives it away.
    last = max((AuditEvent.model_validate(e) for e in events if e["emitted_by"] == "triage"), key=lambda e: e.seq)
    appended, _ = next_event(
        ChainHead(seq=last.seq, hash=last.hash),
        emitter="triage",
        chain_key=referral_id,
        referral_id=referral_id,
        action=AuditAction.closed,
        actor_kind=ActorKind.officer,
        actor="dev-officer-sada",
        occurred_at=datetime.now(UTC),
    )
    appended = AuditKeyring.of(DEVELOPMENT_AUDIT_KEY_ID, "a-guessed-audit-key").sign(appended)
    for forged in (appended, rewritten):
        await produce(stack.broker.bootstrap, "audit.events", forged.model_dump_json().encode(), referral_id.encode())
    broken = await asyncio.to_thread(subprocess.run, verify_cmd, capture_output=True, text=True, timeout=120)
    assert broken.returncode == 1 and referral_id in broken.stdout
    assert f"seq {appended.seq}: mac does not match" in broken.stdout
    assert f"seq {original.seq}: mac does not match" in broken.stdout
