"""Workers killed at random moments lose and duplicate nothing (DESIGN §7), on the real embedded broker."""

from __future__ import annotations

import asyncio
import json
import random
import sys
import uuid
from collections import defaultdict
from datetime import UTC, datetime

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from services.cli.stack import Stack
from services.cli.synthetic import synthetic_submissions
from tests.support.flow import eventually
from tests.support.http import get_json
from tests.support.kafka import read_topic
from tests.support.outbox import read_outbox

pytestmark = pytest.mark.integration

COUNT = 500


async def produce_all(bootstrap: str, bodies: list[dict]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        for n, body in enumerate(bodies):
            await producer.send("referrals.submitted", orjson.dumps(body))
            if n % 25 == 24:
                await producer.flush()
                await asyncio.sleep(0.5)  # a steady stream for about 10 s, so the kills land mid-flow
        await producer.flush()
    finally:
        await producer.stop()


async def chaos(stack: Stack, rng: random.Random, rounds: int) -> list[str]:
    """SIGKILL triage and notify alternately at random moments, restarting each at once."""
    killed = []
    for n in range(rounds):
        await asyncio.sleep(rng.uniform(1.5, 4.0))
        name = ("triage", "notify")[n % 2]
        stack.processes[name].kill()
        killed.append(name)
        await asyncio.to_thread(stack.start_service, name, False)
    return killed


def decisions_by_referral(records: list) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for record in records:
        decision = json.loads(record.value)
        if decision["kind"] == "initial":
            found[decision["referral_id"]].add(decision["decision_id"])
    return found


@pytest.mark.timeout(600)
async def test_killing_triage_and_notify_repeatedly_loses_and_duplicates_nothing(tmp_path) -> None:
    """500 referrals while triage and notify are each SIGKILLed twice: every referral has one decision,
    exactly its queue items, one notification per assignment and channel, and a complete audit trail."""
    stack = Stack(workdir=tmp_path, partitions=4)
    await asyncio.to_thread(stack.start)
    try:
        run = f"crash-{uuid.uuid4().hex[:6]}"
        bodies = list(synthetic_submissions(COUNT, 7, datetime.now(UTC), run))
        killed, _ = await asyncio.gather(chaos(stack, random.Random(11), 4),
                                         produce_all(stack.broker.bootstrap, bodies))
        assert killed.count("triage") >= 2 and killed.count("notify") >= 2
        for name in ("triage", "notify"):
            await asyncio.to_thread(stack.processes[name].wait_ready, 90)

        accepted = await read_topic(stack.broker.bootstrap, "referrals.accepted", timeout=60,
                                    until=lambda rs: len({json.loads(r.value)["referral_id"] for r in rs}) >= COUNT)
        referral_ids = {json.loads(r.value)["referral_id"] for r in accepted}
        assert len(referral_ids) == COUNT

        decisions = await read_topic(stack.broker.bootstrap, "triage.decisions", timeout=90,
                                     until=lambda rs: set(decisions_by_referral(rs)) >= referral_ids)
        initial = decisions_by_referral(decisions)
        undecided = sorted(rid for rid in referral_ids if not initial[rid])
        if undecided:
            where = {}
            for topic in ("sosafe-triage-by-subject", "sosafe-triage-cases-changelog", "referrals.accepted"):
                records = await read_topic(stack.broker.bootstrap, topic, timeout=5)
                where[topic] = [(r.partition, r.offset) for r in records if undecided[0].encode() in (r.value or b"")]
            raise AssertionError(f"{len(undecided)} referrals never decided, e.g. {undecided[:3]}: {where}")
        assert all(len(initial[rid]) == 1 for rid in referral_ids), "a referral got two different decisions"
        assignments = {}
        for record in decisions:
            decision = json.loads(record.value)
            if decision["kind"] == "initial":
                assignments[decision["referral_id"]] = {a["service"] for a in decision["assignments"]}
        expected_mails = sum(len(services) for services in assignments.values())

        def mails_done() -> bool:
            return len({m.notification_id for m in read_outbox(stack.outbox)}) >= expected_mails

        await eventually(lambda: asyncio.sleep(0, mails_done()), timeout=75, what="every notification")
        await asyncio.sleep(2.0)  # anything duplicated late would arrive now
        mails = read_outbox(stack.outbox)
        ids_per_assignment: dict[tuple[str, str], set[str]] = defaultdict(set)
        for mail in mails:
            ids_per_assignment[(mail.referral_id, mail.service)].add(mail.notification_id)
        expected_keys = {(rid, service) for rid, services in assignments.items() for service in services}
        assert set(ids_per_assignment) == expected_keys
        assert all(len(ids) == 1 for ids in ids_per_assignment.values()), "two notifications for one assignment"

        triage = stack.url("triage")
        for rid in sorted(referral_ids):
            status, body = await get_json(f"{triage}/v1/referrals/{rid}", "dev-manager")
            assert status == 200
            assert len([d for d in body["decisions"] if d["kind"] == "initial"]) == 1
            assert {item["service"] for item in body["items"]} == assignments[rid]
            actions = [event["action"] for event in body["audit"]]
            assert actions.count("submitted") >= 1 and actions.count("accepted") == 1
            assert actions.count("triaged") == 1 and actions.count("queued") == len(assignments[rid])
            notified = {e["details"]["service"] for e in body["audit"] if e["action"] == "notified"}
            assert notified == assignments[rid], f"audit trail misses a notification of {rid}"
        verify = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "services.cli.main", "audit", "verify", "--broker", stack.broker.bootstrap,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        output, _ = await verify.communicate()
        assert verify.returncode == 0, f"audit chains broken after the crashes: {output.decode()[-2000:]}"
        logs = "".join(path.read_text() for path in (tmp_path / "logs").glob("*.log"))
        assert "offset_gap_skipped" not in logs, "a worker went on past messages it never processed"
    finally:
        await asyncio.to_thread(stack.stop)
