"""Poison of 200 KB and of 5 MB on every topic a service consumes from outside: each message ends as exactly
one rejection or dead letter per consuming service, with its length, SHA-256 and an audit event, and valid
messages after it on the same partitions still go through."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka.partitioner import DefaultPartitioner

from schemas.codec import encode
from schemas.escalation import Escalation
from schemas.identity import referral_id_for
from schemas.notification import Notification, NotificationAttempt, NotificationChannel, NotificationKind
from schemas.raw_excerpt import EXCERPT_BYTES
from schemas.vocabulary import Priority, Service
from services.cli.stack import Stack
from services.notify.content import notification_id_for
from tests.support.flow import eventually, queue_item
from tests.support.http import post_json
from tests.support.kafka import produce, read_topic
from tests.support.outbox import read_outbox
from tests.support.payloads import submission

pytestmark = pytest.mark.integration

PARTITIONS = 2
SIZES = {"200KB": 200_000, "5MB": 5 * 1024 * 1024}
CONSUMERS = {
    "referrals.accepted": ("triage",),
    "triage.decisions": ("triage", "notify"),
    "triage.actions": ("triage",),
    "triage.escalations": ("notify",),
    "notifications.retry": ("notify",),
    "sosafe-triage-by-subject": ("triage",),
    "sosafe-triage-sla-checks": ("triage",),
}
"""Every topic consumed by triage or notify and the services that consume each: poison on one is
dead-lettered once by each of its consumers. Intake rejects instead: `referrals.submitted` (from partners)
and its internal `sosafe-intake-validated` (which only intake writes) go to `referrals.rejected`."""
VALIDATED = "sosafe-intake-validated"


def partition_of(key: bytes) -> int:
    return int(DefaultPartitioner()(key, list(range(PARTITIONS)), list(range(PARTITIONS))))


def key_for(partition: int, prefix: str) -> bytes:
    return next(k for i in range(100) if partition_of(k := f"{prefix}-{i}".encode()) == partition)


def reference_for(partition: int) -> str:
    """A partner reference whose referral id is keyed to `partition` on every topic keyed by referral."""
    return next(
        ref
        for i in range(100)
        if partition_of(referral_id_for("dev-police", ref := f"AFTER-POISON-{i}").encode()) == partition
    )


@dataclass(frozen=True)
class Poison:
    topic: str
    partition: int
    offset: int
    length: int
    sha256: str


@dataclass
class Outcome:
    poison: list[Poison]
    referrals: dict[int, str]
    claims: dict[int, int]
    probes: dict[str, str] = field(default_factory=dict)
    """Notification id -> what it proves: a mail after the poison, from each partition of the topic."""
    rejected: list[dict[str, Any]] = field(default_factory=list)
    dead: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)


def values(records: list) -> list[dict[str, Any]]:
    return [json.loads(r.value) for r in records]


def retry_probe(referral_id: str, now: datetime) -> NotificationAttempt:
    notification = Notification(
        notification_id=str(uuid.uuid4()),
        kind=NotificationKind.assignment,
        channel=NotificationChannel.email,
        referral_id=referral_id,
        service=Service.sada,
        priority=Priority.high,
        due_at=now + timedelta(days=1),
        flags=[],
        link="http://127.0.0.1/console",
        source_id=str(uuid.uuid4()),
        created_at=now,
    )
    return NotificationAttempt(notification=notification, attempt=1, not_before=now)


async def poison_everything(stack: Stack) -> Outcome:
    """Poison first, then valid messages behind it on every partition, then wait for every outcome."""
    bootstrap = stack.broker.bootstrap
    poison: list[Poison] = []

    async def send(topic: str, raw: bytes, key: bytes | None) -> None:
        sent = await produce(bootstrap, topic, raw, key=key)
        poison.append(Poison(topic, sent.partition, sent.offset, len(raw), hashlib.sha256(raw).hexdigest()))

    for size_index, (name, size) in enumerate(SIZES.items()):
        raw = b"\x01" * size
        await send("referrals.submitted", raw, None)
        for partition in range(PARTITIONS):
            await send("referrals.submitted", raw, key_for(partition, f"poison-{name}"))
        for index, topic in enumerate((*CONSUMERS, VALIDATED)):
            # one size on each partition, so both partitions of every topic carry poison
            await send(topic, raw, key_for((index + size_index) % PARTITIONS, f"poison-{topic}"))

    referrals: dict[int, str] = {}
    for partition in range(PARTITIONS):
        status, answer = await post_json(
            stack.url("intake") + "/v1/referrals", submission(reference=reference_for(partition)), "dev-partner-police"
        )
        assert status == 202, answer
        referrals[partition] = answer["referral_id"]

    now = datetime.now(UTC)
    probes: dict[str, str] = {}
    for partition, referral_id in referrals.items():
        escalation = Escalation(
            escalation_id=str(uuid.uuid4()),
            referral_id=referral_id,
            service=Service.sada,
            priority=Priority.high,
            due_at=now,
            detected_at=now,
            state="new",
        )
        await produce(bootstrap, "triage.escalations", encode(escalation), key=referral_id.encode())
        probes[notification_id_for(escalation.escalation_id, Service.sada, NotificationChannel.email)] = (
            f"an escalation on triage.escalations partition {partition}"
        )
        attempt = retry_probe(referral_id, now)
        await produce(bootstrap, "notifications.retry", encode(attempt), key=referral_id.encode())
        probes[attempt.notification.notification_id] = f"a retry on notifications.retry partition {partition}"

    claims: dict[int, int] = {}
    for partition, referral_id in referrals.items():
        await eventually(
            lambda rid=referral_id: queue_item(stack.url("triage"), "sada", rid, "dev-officer-sada"),
            timeout=90,
            what=f"the referral keyed to partition {partition} queued after the poison",
        )
        url = f"{stack.url('triage')}/v1/queues/sada/items/{referral_id}/claim"
        claims[partition], _ = await post_json(url, {}, "dev-officer-sada")

    outcome = Outcome(poison=poison, referrals=referrals, claims=claims, probes=probes)
    submitted = [p for p in poison if p.topic in ("referrals.submitted", VALIDATED)]
    dead_expected = sum(len(CONSUMERS[p.topic]) for p in poison if p.topic in CONSUMERS)
    outcome.rejected = values(
        await read_topic(
            bootstrap, "referrals.rejected", timeout=60, until=lambda rs: len(rs) >= len(submitted), settle=1.0
        )
    )
    outcome.dead = values(
        await read_topic(bootstrap, "messages.dead", timeout=60, until=lambda rs: len(rs) >= dead_expected, settle=1.0)
    )
    await eventually(
        lambda: asyncio.to_thread(lambda: set(probes) <= {m.notification_id for m in read_outbox(stack.outbox)}),
        timeout=60,
        what="the escalation and retry mails sent after the poison",
    )
    set_aside = len(submitted) + dead_expected

    def all_audited(records: list) -> bool:
        events = values(records)
        notified = {v["referral_id"] for v in events if v["action"] == "notified"}
        return (
            sum(1 for v in events if v["action"] in {"rejected", "dead_lettered"}) >= set_aside
            and set(referrals.values()) <= notified
        )

    outcome.audit = values(await read_topic(bootstrap, "audit.events", timeout=60, until=all_audited))
    return outcome


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    started = Stack(workdir=tmp_path_factory.mktemp("poison"), partitions=PARTITIONS)
    started.start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def outcome(stack: Stack) -> Outcome:
    return asyncio.run(poison_everything(stack))


def test_every_poison_message_was_accepted_by_the_broker_at_full_size(outcome: Outcome) -> None:
    """The embedded broker takes 5 MB records (so the services must cope with them), on both partitions."""
    assert sorted({p.length for p in outcome.poison}) == sorted(SIZES.values())
    for topic in ("referrals.submitted", VALIDATED, *CONSUMERS):
        assert {p.partition for p in outcome.poison if p.topic == topic} == set(range(PARTITIONS)), topic


def test_poison_on_referrals_submitted_is_rejected_once_with_its_length_and_hash(outcome: Outcome) -> None:
    """Keyless and keyed to each partition, 200 KB and 5 MB: one rejection each, found by source position,
    with the whole length and SHA-256, an excerpt no longer than the limit, and the rejection audited."""
    for p in (p for p in outcome.poison if p.topic == "referrals.submitted"):
        submission_id = f"{p.topic}:{p.partition}:{p.offset}"
        found = [r for r in outcome.rejected if r["submission_id"] == submission_id]
        assert len(found) == 1, f"{len(found)} rejections for {submission_id}"
        [record] = found
        raw = record["raw_payload"]
        assert record["rejection_version"] == "2" and record["reason"] == "undecodable"
        assert (raw["length"], raw["sha256"], raw["truncated"]) == (p.length, p.sha256, True)
        assert raw["excerpt"] == "\x01" * EXCERPT_BYTES
        audit = [e for e in outcome.audit if e["chain"] == f"intake:rejection-{submission_id}"]
        assert [e["action"] for e in sorted(audit, key=lambda e: e["seq"])] == ["submitted", "rejected"]
        assert audit[-1]["details"]["raw_sha256"] == p.sha256 and audit[-1]["details"]["raw_length"] == p.length


def test_poison_on_intakes_internal_topic_is_rejected_once_with_its_length_and_hash(outcome: Outcome) -> None:
    """200 KB and 5 MB on `sosafe-intake-validated`: one `internal_invalid` rejection each, found by source
    position, with the whole length and SHA-256, and audited."""
    for p in (p for p in outcome.poison if p.topic == VALIDATED):
        submission_id = f"internal:{p.partition}:{p.offset}"
        found = [r for r in outcome.rejected if r["submission_id"] == submission_id]
        assert len(found) == 1, f"{len(found)} rejections for {submission_id}"
        [record] = found
        raw = record["raw_payload"]
        assert record["reason"] == "internal_invalid"
        assert (raw["length"], raw["sha256"], raw["truncated"]) == (p.length, p.sha256, True)
        audit = [e for e in outcome.audit if e["chain"] == f"intake:rejection-{submission_id}"]
        assert [e["action"] for e in sorted(audit, key=lambda e: e["seq"])] == ["submitted", "rejected"]


@pytest.mark.parametrize(("topic", "size"), [(t, s) for t in CONSUMERS for s in SIZES])
def test_poison_is_dead_lettered_once_by_each_consumer_and_audited(outcome: Outcome, topic: str, size: str) -> None:
    """One dead letter per consuming service for the message (by topic, partition and offset), with the
    whole length and SHA-256, and one dead_lettered audit event naming the same hash."""
    [p] = [p for p in outcome.poison if p.topic == topic and p.length == SIZES[size]]
    for service in CONSUMERS[topic]:
        found = [
            d
            for d in outcome.dead
            if d["service"] == service and (d["topic"], d["partition"], d["offset"]) == (topic, p.partition, p.offset)
        ]
        assert len(found) == 1, f"{service}: {len(found)} dead letters for {topic}[{p.partition}]@{p.offset}"
        [record] = found
        assert record["dead_letter_version"] == "2" and record["reason"] == "invalid_message"
        assert (record["raw"]["length"], record["raw"]["sha256"], record["raw"]["truncated"]) == (
            p.length,
            p.sha256,
            True,
        )
        events = [e for e in outcome.audit if e["chain"] == f"{service}:dead-letter:{topic}:{p.partition}:{p.offset}"]
        assert [e["action"] for e in events] == ["dead_lettered"], service
        assert events[0]["details"]["raw_sha256"] == p.sha256 and events[0]["emitted_by"] == service


def test_nothing_else_was_dead_lettered(outcome: Outcome) -> None:
    """Only the poison: no valid message sent after it ended on messages.dead or referrals.rejected."""
    poisoned = {(p.topic, p.partition, p.offset) for p in outcome.poison}
    assert {(d["topic"], d["partition"], d["offset"]) for d in outcome.dead} <= poisoned
    assert len(outcome.dead) == sum(len(CONSUMERS[p.topic]) for p in outcome.poison if p.topic in CONSUMERS)
    assert len(outcome.rejected) == sum(1 for p in outcome.poison if p.topic in ("referrals.submitted", VALIDATED))


def test_valid_messages_after_the_poison_still_go_through_on_every_partition(outcome: Outcome, stack: Stack) -> None:
    """A referral keyed to each partition is queued and can be claimed (referrals.submitted, accepted,
    decisions, actions); an escalation and a retry on each partition are mailed; no worker died."""
    assert set(outcome.referrals) == set(range(PARTITIONS))
    assert outcome.claims == {partition: 200 for partition in range(PARTITIONS)}
    mailed = {m.notification_id for m in read_outbox(stack.outbox)}
    assert set(outcome.probes) <= mailed, [what for nid, what in outcome.probes.items() if nid not in mailed]
    notified = {e["referral_id"] for e in outcome.audit if e["action"] == "notified"}
    assert set(outcome.referrals.values()) <= notified
    assert all(process.alive() for process in stack.processes.values())
