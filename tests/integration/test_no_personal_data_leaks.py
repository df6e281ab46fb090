"""Distinctive personal values pushed through every path never reach logs, metrics or notifications."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import orjson
import pytest

from services.cli.stack import Stack
from services.triage.ruleset import DEFAULT_RULESET_PATH
from tests.support.config import access_with_webhooks
from tests.support.flow import eventually
from tests.support.http import post_json
from tests.support.kafka import produce, read_topic
from tests.support.outbox import read_outbox
from tests.support.payloads import DISTINCTIVE, distinctive_submission
from tests.support.receivers import WebhookReceiver

pytestmark = pytest.mark.integration


def short_deadline_ruleset(path: Path) -> Path:
    """The default ruleset with deadlines of about two seconds, so items breach their SLA in the test."""
    text = DEFAULT_RULESET_PATH.read_text()
    for priority, hours in (("urgent", 4), ("high", 24), ("medium", 72), ("standard", 120)):
        text = text.replace(f"  {priority}: {hours}\n", f"  {priority}: 0.0006\n", 1)
    path.write_text(text)
    return path


async def submissions_with_every_outcome(stack: Stack) -> list[str]:
    """Accepted (notified, escalated, webhook dead-lettered), duplicate, rejected over HTTP and Kafka."""
    url = stack.url("intake") + "/v1/referrals"
    da = distinctive_submission(reference="LEAK-DA")
    hate = distinctive_submission(agency="voluntary", reference="LEAK-HC")
    hate["concerns"] = ["hate_crime"]
    assert (await post_json(url, da, "dev-partner-police"))[0] == 202
    assert (await post_json(url, da, "dev-partner-police"))[0] == 202  # duplicate
    status, answer = await post_json(url, hate, "dev-partner-voluntary")
    assert status == 202
    invalid = distinctive_submission(reference="LEAK-BAD")
    invalid["role"] = "witness"
    assert (await post_json(url, invalid, "dev-partner-police"))[0] == 422
    await produce(stack.broker.bootstrap, "referrals.submitted", orjson.dumps(invalid))
    await produce(stack.broker.bootstrap, "referrals.submitted", orjson.dumps(distinctive_submission(
        agency="gp", reference="LEAK-KAFKA")))
    return [answer["referral_id"]]


@pytest.mark.timeout(240)
async def test_personal_values_appear_in_no_log_metric_or_notification(tmp_path: Path) -> None:
    """Every path (accepted, rejected, duplicate, notified, escalated, dead-lettered) is leak-free."""
    receiver = WebhookReceiver(behaviour={"hate_crime": lambda n: 500})
    await receiver.start()
    env = {"SOSAFE_CONFIG_FILE": str(access_with_webhooks(tmp_path / "access.yaml", receiver)),
           "SOSAFE_RULESET_FILE": str(short_deadline_ruleset(tmp_path / "ruleset.yaml")),
           "SOSAFE_SLA_CHECK_INTERVAL_S": "1", "SOSAFE_RETRY_BASE_S": "0.1", "SOSAFE_RETRY_MAX_S": "0.3",
           "SOSAFE_RETRY_MAX_ATTEMPTS": "2",
           **{f"SOSAFE_WEBHOOK_SECRET_{s.upper()}": "leak-test-secret" for s in ("sada", "sos", "hate_crime")}}
    stack = Stack(workdir=tmp_path / "stack", partitions=2, extra_env=env)
    await asyncio.to_thread(stack.start)
    try:
        await submissions_with_every_outcome(stack)
        bootstrap = stack.broker.bootstrap

        def outcomes(records: list) -> set[str]:
            return {json.loads(r.value)["action"] for r in records}

        expected = {"accepted", "duplicate", "rejected", "notified", "escalated", "dead_lettered"}
        audit = await read_topic(bootstrap, "audit.events", timeout=90, until=lambda rs: outcomes(rs) >= expected)
        assert outcomes(audit) >= expected
        await eventually(lambda: asyncio.sleep(0, any("manager@" in m.recipient for m in read_outbox(stack.outbox))),
                         what="an escalation e-mail to a service manager")
        texts = [path.read_text(errors="replace") for path in (stack.workdir / "logs").glob("*.log")]
        async with aiohttp.ClientSession() as session:
            for service in ("intake", "triage", "notify"):
                async with session.get(stack.url(service) + "/metrics") as response:
                    texts.append(await response.text())
        texts += [mail.text for mail in read_outbox(stack.outbox)]
        texts += [received.body.decode(errors="replace") + json.dumps(received.headers)
                  for received in receiver.received]
        assert len(texts) > 6 and any("notification_sent" in text for text in texts)
        everything = "\n".join(texts)
        for name, value in DISTINCTIVE.items():
            assert value not in everything, f"the subject's {name} leaked"
    finally:
        await asyncio.to_thread(stack.stop)
        await receiver.stop()
