"""Distinctive personal values pushed through every path reach no sink, at INFO and at DEBUG.

One stack per log level runs every path (accepted, duplicate, rejected over HTTP and Kafka with the values
inside the failing fields, notified by e-mail and webhook, escalated, webhook dead-lettered, poison messages
dead-lettered, an officer action refused, the referrer's new information with the values in its addendum
and its withdrawal of an accepted referral, each outcome sent to the referring partner's webhook), then every
sink is collected and searched: worker logs, the broker's log, /metrics, webhooks received (the teams' and the
partner's outcome webhooks), e-mails decoded (the new-information and withdrawal ones too), HTTP error bodies,
and the topics referrals.rejected, messages.dead, notifications.dead, audit.events and referrals.outcomes.
The two dead-letter topics keep the raw payload on purpose (restricted access, so the sender's data is never
lost): there the values may appear inside that raw field only. `referrals.updates`, like
`referrals.submitted`, carries the person's data by design and is not searched.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from aiokafka.structs import ConsumerRecord

from services.cli.stack import Stack
from services.triage.routing.ruleset import DEFAULT_RULESET_PATH
from tests.support.config import access_with_webhooks, with_outcomes_webhook
from tests.support.flow import eventually, queue_item
from tests.support.http import post_json
from tests.support.kafka import produce, read_topic
from tests.support.outbox import Mail, read_outbox
from tests.support.payloads import DISTINCTIVE, distinctive_submission
from tests.support.receivers import WebhookReceiver

pytestmark = pytest.mark.integration

RAW_FIELDS = {"referrals.rejected": "raw_payload", "messages.dead": "raw"}
"""Restricted dead-letter topics and the one field of their records that keeps the raw payload."""

CLEAN_TOPICS = ("notifications.dead", "audit.events", "referrals.outcomes")
EXPECTED_AUDIT = {
    "accepted",
    "duplicate",
    "rejected",
    "notified",
    "escalated",
    "dead_lettered",
    "information_added",
    "withdrawn",
}
PARTNER_HOOK = "partner-police"
"""The receiver's path for the referring partner's outcome webhook (dev-police)."""


@dataclass
class Sinks:
    """Everything the stack wrote or answered while carrying the personal values."""

    level: str
    worker_logs: dict[str, str] = field(default_factory=dict)
    broker_log: str = ""
    metrics: dict[str, str] = field(default_factory=dict)
    webhooks: list[str] = field(default_factory=list)
    mails: list[Mail] = field(default_factory=list)
    http_errors: dict[str, tuple[int, Any]] = field(default_factory=dict)
    topics: dict[str, list[ConsumerRecord]] = field(default_factory=dict)


def assert_no_personal_value(text: str, where: str) -> None:
    folded = text.casefold()
    for name, value in DISTINCTIVE.items():
        assert value.casefold() not in folded, f"the subject's {name} leaked into {where}"


def short_deadline_ruleset(path: Path) -> Path:
    """The default ruleset with deadlines of about two seconds, so items breach their SLA in the test."""
    text = DEFAULT_RULESET_PATH.read_text()
    for priority in ("urgent", "high", "medium", "standard"):
        text, replaced = re.subn(rf"^  {priority}: .*$", f"  {priority}: 0.0006", text, count=1, flags=re.MULTILINE)
        assert replaced == 1, priority
    path.write_text(text)
    return path


def personal_values_in_failing_fields(reference: str) -> dict[str, Any]:
    """A submission whose only errors are fields holding the personal values in a form that fails validation."""
    body = distinctive_submission(reference=reference)
    given, family = DISTINCTIVE["given_name"], DISTINCTIVE["family_name"]
    body["subject"].update(
        given_name=given * 12,  # over 100 characters
        family_name=family * 5,
        email=f"{DISTINCTIVE['email']} ({given} {family})",
        date_of_birth=f"{DISTINCTIVE['date_of_birth']} ({given})",
        postcode=f"{DISTINCTIVE['postcode']}!",
        phone=f"{DISTINCTIVE['phone']} for {family}",
    )
    body["role"] = DISTINCTIVE["narrative"]
    body["narrative"] = {"told_in_confidence": DISTINCTIVE["narrative"]}
    return body


FAILING_FIELDS = {
    "subject.given_name",
    "subject.family_name",
    "subject.email",
    "subject.date_of_birth",
    "subject.postcode",
    "subject.phone",
    "role",
    "narrative",
}


def poison_message() -> bytes:
    """A message no worker can decode, carrying the personal values."""
    return orjson.dumps(
        {
            "referral_id": "LEAK-POISON",
            "subject": {k: v for k, v in DISTINCTIVE.items() if k != "narrative"},
            "narrative": DISTINCTIVE["narrative"],
        }
    )


async def send_every_path(stack: Stack, sinks: Sinks) -> None:
    """Accepted (notified, escalated, webhook dead-lettered), duplicate, rejected over HTTP and Kafka,
    poison messages on triage's and notify's topics, and refused requests with personal values in them."""
    assert stack.broker is not None
    intake, bootstrap = stack.url("intake") + "/v1/referrals", stack.broker.bootstrap
    da = distinctive_submission(reference="LEAK-DA")
    hate = distinctive_submission(agency="voluntary", reference="LEAK-HC")
    hate["concerns"] = ["hate_crime"]
    status, accepted = await post_json(intake, da, "dev-partner-police")
    assert status == 202, accepted
    assert (await post_json(intake, da, "dev-partner-police"))[0] == 202  # duplicate
    assert (await post_json(intake, hate, "dev-partner-voluntary"))[0] == 202
    invalid = personal_values_in_failing_fields("LEAK-BAD")
    sinks.http_errors["intake invalid submission"] = await post_json(intake, invalid, "dev-partner-police")
    broken = json.dumps(da).encode()[:-40]
    sinks.http_errors["intake invalid JSON"] = await post_json(intake, None, "dev-partner-police", raw=broken)
    await produce(bootstrap, "referrals.submitted", orjson.dumps(personal_values_in_failing_fields("LEAK-KBAD")))
    await produce(
        bootstrap, "referrals.submitted", orjson.dumps(distinctive_submission(agency="gp", reference="LEAK-KAFKA"))
    )
    await produce(bootstrap, "referrals.accepted", poison_message(), key=b"LEAK-POISON")
    await produce(bootstrap, "triage.decisions", poison_message(), key=b"LEAK-POISON")
    triage = stack.url("triage")
    referral_id = accepted["referral_id"]
    await eventually(lambda: queue_item(triage, "sada", referral_id, "dev-manager"), what="the SADA queue item")
    item = f"{triage}/v1/queues/sada/items/{referral_id}"
    sinks.http_errors["triage invalid action"] = await post_json(
        f"{item}/decline",
        {"reason": DISTINCTIVE["narrative"] * 20, "to": DISTINCTIVE["given_name"]},
        "dev-officer-sada",
    )
    await send_the_referrers_updates(stack, referral_id, item)


async def send_the_referrers_updates(stack: Stack, referral_id: str, item: str) -> None:
    """New information with the values in its addendum (hate crime added: a `new_information` e-mail), then,
    once SADA has accepted, a withdrawal (a `withdrawn` e-mail to SADA's team)."""
    updates = f"{stack.url('intake')}/v1/referrals/{referral_id}"
    information = {
        "schema_version": "1",
        "concerns": ["hate_crime"],
        "narrative_addendum": f"{DISTINCTIVE['narrative']}: {DISTINCTIVE['given_name']} {DISTINCTIVE['phone']}",
    }
    assert (await post_json(f"{updates}/updates", information, "dev-partner-police"))[0] == 202
    assert (await post_json(f"{item}/claim", {}, "dev-officer-sada"))[0] == 200
    assert (await post_json(f"{item}/accept", {}, "dev-officer-sada"))[0] == 200
    withdrawal = {"schema_version": "1", "reason": "support_in_place"}
    assert (await post_json(f"{updates}/withdraw", withdrawal, "dev-partner-police"))[0] == 202


async def collect(stack: Stack, sinks: Sinks, receiver: WebhookReceiver) -> None:
    """Wait until every path has left its trace, then read every sink the running stack offers."""
    assert stack.broker is not None
    bootstrap = stack.broker.bootstrap

    def audited(records: list[ConsumerRecord]) -> bool:
        return {json.loads(r.value)["action"] for r in records} >= EXPECTED_AUDIT

    sinks.topics["audit.events"] = await read_topic(bootstrap, "audit.events", timeout=90, until=audited)
    for what, wanted in (
        ("an escalation e-mail to a service manager", lambda m: "manager@" in m.recipient),
        ("the new-information e-mail", lambda m: "Subject: [SoSafe] NEW INFORMATION" in m.text),
        ("SADA's withdrawal e-mail", lambda m: "Subject: [SoSafe] WITHDRAWN" in m.text),
    ):
        await eventually(
            lambda wanted=wanted: asyncio.sleep(0, any(wanted(m) for m in read_outbox(stack.outbox))), what=what
        )
    sinks.topics["referrals.outcomes"] = await read_topic(
        bootstrap, "referrals.outcomes", timeout=30, until=lambda rs: any(b'"withdrawn"' in r.value for r in rs)
    )
    await eventually(
        lambda: asyncio.sleep(0, any(b'"withdrawn"' in r.body for r in receiver.for_hook(PARTNER_HOOK))),
        what="the partner's withdrawn outcome webhook",
    )
    minimum = {"referrals.rejected": 2, "messages.dead": 3, "notifications.dead": 1}
    for topic, count in minimum.items():
        sinks.topics[topic] = await read_topic(
            bootstrap, topic, timeout=30, until=lambda rs, n=count: len(rs) >= n, settle=1.0
        )
    async with aiohttp.ClientSession() as session:
        for service in ("intake", "triage", "notify"):
            async with session.get(stack.url(service) + "/metrics") as response:
                sinks.metrics[service] = await response.text()
    sinks.mails = read_outbox(stack.outbox)
    sinks.webhooks = [
        r.path + "\n" + json.dumps(r.headers) + "\n" + r.body.decode(errors="replace") for r in receiver.received
    ]


async def run_every_path(workdir: Path, level: str) -> Sinks:
    receiver = WebhookReceiver(behaviour={"hate_crime": lambda n: 500})
    await receiver.start()
    access = access_with_webhooks(workdir / "access.yaml", receiver)
    with_outcomes_webhook(access, "dev-police", receiver.url(PARTNER_HOOK), "SOSAFE_WEBHOOK_SECRET_PARTNER_POLICE")
    env = {
        "SOSAFE_CONFIG_FILE": str(access),
        "SOSAFE_WEBHOOK_SECRET_PARTNER_POLICE": "leak-test-partner-secret",
        "SOSAFE_RULESET_FILE": str(short_deadline_ruleset(workdir / "ruleset.yaml")),
        "SOSAFE_LOG_LEVEL": level,
        "SOSAFE_SLA_CHECK_INTERVAL_S": "1",
        "SOSAFE_RETRY_BASE_S": "0.1",
        "SOSAFE_RETRY_MAX_S": "0.3",
        "SOSAFE_RETRY_MAX_ATTEMPTS": "2",
        **{f"SOSAFE_WEBHOOK_SECRET_{s.upper()}": "leak-test-secret" for s in ("sada", "sos", "hate_crime")},
    }
    stack = Stack(workdir=workdir / "stack", partitions=2, extra_env=env)
    sinks = Sinks(level)
    await asyncio.to_thread(stack.start)
    try:
        await send_every_path(stack, sinks)
        await collect(stack, sinks, receiver)
    finally:
        await asyncio.to_thread(stack.stop)
        await receiver.stop()
    sinks.worker_logs = {
        path.stem: path.read_text(errors="replace") for path in sorted((stack.workdir / "logs").glob("*.log"))
    }
    sinks.broker_log = (stack.workdir / "broker.log").read_text(errors="replace")
    return sinks


@pytest.fixture(scope="module", params=["INFO", "DEBUG"])
def sinks(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Sinks:
    """One stack per log level; it is stopped before the tests search what it left."""
    return asyncio.run(run_every_path(tmp_path_factory.mktemp(f"leaks-{request.param}"), request.param))


def test_worker_logs_hold_no_personal_value(sinks: Sinks) -> None:
    """Each worker's log, at INFO and at DEBUG (libraries held at WARNING), names nobody."""
    assert set(sinks.worker_logs) == {"intake", "triage", "notify"}
    assert "submission_rejected" in sinks.worker_logs["intake"]
    assert "message_dead_lettered" in sinks.worker_logs["triage"]
    assert "notification_sent" in sinks.worker_logs["notify"]
    for service, text in sinks.worker_logs.items():
        debug_lines = '"level": "debug"' in text
        assert debug_lines == (sinks.level == "DEBUG"), f"{service} did not log at {sinks.level}"
        assert_no_personal_value(text, f"{service}'s log at {sinks.level}")


def test_the_broker_log_holds_no_personal_value(sinks: Sinks) -> None:
    """The embedded broker's own log names nobody."""
    assert sinks.broker_log.strip(), "the broker wrote no log"
    assert_no_personal_value(sinks.broker_log, "the broker's log")


def test_metrics_hold_no_personal_value(sinks: Sinks) -> None:
    """No service's /metrics names anybody, in a label or anywhere else."""
    assert set(sinks.metrics) == {"intake", "triage", "notify"}
    assert "sosafe_" in sinks.metrics["intake"]
    for service, text in sinks.metrics.items():
        assert_no_personal_value(text, f"{service}'s /metrics")


def test_webhooks_hold_no_personal_value(sinks: Sinks) -> None:
    """Webhook bodies and headers (working and failing hooks alike) name nobody."""
    paths = {text.split("\n", 1)[0] for text in sinks.webhooks}
    assert {"/hooks/sada", "/hooks/hate_crime", f"/hooks/{PARTNER_HOOK}"} <= paths
    kinds = {json.loads(text.rsplit("\n", 1)[1])["kind"] for text in sinks.webhooks if f"/{PARTNER_HOOK}\n" in text}
    assert {"triaged", "claimed", "accepted", "withdrawn"} <= kinds, "the partner's outcome webhooks"
    for text in sinks.webhooks:
        assert_no_personal_value(text, "a webhook")


def test_decoded_emails_hold_no_personal_value(sinks: Sinks) -> None:
    """Every e-mail, transfer encoding undone (so a wrapped line cannot hide a name), names nobody."""
    assert any("manager@" in mail.recipient for mail in sinks.mails)
    assert {mail.service for mail in sinks.mails} >= {"sada", "hate_crime"}
    for subject in ("NEW INFORMATION", "WITHDRAWN"):
        assert any(f"Subject: [SoSafe] {subject}" in mail.text for mail in sinks.mails), subject
    for mail in sinks.mails:
        assert_no_personal_value(mail.text, f"the e-mail {mail.notification_id}")


def test_http_error_bodies_hold_no_personal_value(sinks: Sinks) -> None:
    """422s for a submission whose failing fields hold the values, for broken JSON and for an officer's
    invalid action name the fields and rules only."""
    status, answer = sinks.http_errors["intake invalid submission"]
    assert status == 422 and {error["loc"] for error in answer["errors"]} == FAILING_FIELDS, answer
    assert sinks.http_errors["intake invalid JSON"][0] == 422
    status, answer = sinks.http_errors["triage invalid action"]
    assert status == 422 and {error["loc"] for error in answer["errors"]} == {"reason", "to"}, answer
    for what, (_, answer) in sinks.http_errors.items():
        assert_no_personal_value(json.dumps(answer), f"the {what} answer")


def record_text(record: ConsumerRecord, without: str | None = None) -> str:
    """A record's key, headers and value (less the field `without`) as one text."""
    value = json.loads(record.value)
    if without is not None:
        value.pop(without)
    headers = [(name, bytes(data).decode(errors="replace")) for name, data in record.headers]
    return json.dumps([(record.key or b"").decode(errors="replace"), headers, value])


@pytest.mark.parametrize("topic", list(RAW_FIELDS))
def test_restricted_dead_letters_keep_personal_values_only_in_their_raw_field(sinks: Sinks, topic: str) -> None:
    """The raw payload keeps the sender's data; the reason, errors, key and headers name nobody."""
    records, raw_field = sinks.topics[topic], RAW_FIELDS[topic]
    raws = [json.loads(record.value)[raw_field]["excerpt"] for record in records]
    assert any(all(value in raw for value in DISTINCTIVE.values()) for raw in raws), f"{topic} lost the payload"
    for record in records:
        assert_no_personal_value(record_text(record, without=raw_field), f"{topic} outside {raw_field}")


@pytest.mark.parametrize("topic", CLEAN_TOPICS)
def test_notification_dead_letters_and_audit_events_hold_no_personal_value(sinks: Sinks, topic: str) -> None:
    """Failed notifications, the permanent audit and the referrer's outcomes name nobody, in key, headers or
    value."""
    records = sinks.topics[topic]
    assert records
    if topic == "audit.events":
        assert {json.loads(r.value)["action"] for r in records} >= EXPECTED_AUDIT
    if topic == "referrals.outcomes":
        assert {json.loads(r.value)["kind"] for r in records} >= {"triaged", "accepted", "withdrawn"}
    for record in records:
        assert_no_personal_value(record_text(record), topic)
