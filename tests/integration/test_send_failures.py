"""A send the broker never acknowledges ends the worker before its input is committed, and the restarted
worker delivers the message again: nothing lost, nothing routed twice (on the real embedded broker)."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from datetime import UTC, datetime

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from services.cli.stack import Stack
from services.cli.synthetic import synthetic_submissions
from services.common.worker_exit import EXIT_STEP_UNCONFIRMED
from tests.support.outcomes import routed_exactly_once

pytestmark = pytest.mark.integration

COUNT = 40

FAULTS = {
    "intake": ["sosafe-intake-validated:3", "sosafe-intake-referrals-seen-changelog:5", "referrals.accepted:7",
               "audit.events:9"],
    "triage": ["sosafe-triage-by-subject:4", "triage.decisions:6", "sosafe-triage-cases-changelog:10",
               "sosafe-triage-subject-history-changelog:3", "audit.events:12"],
    "notify": ["sosafe-notify-notifications-sent-changelog:5", "audit.events:7"],
}
"""One failed send in every step each agent takes: the topic and which send to it fails (once)."""


async def restart_exited(stack: Stack, exits: dict[str, list[int]], stop: asyncio.Event) -> None:
    """Restart each worker that exits, as `sosafe dev` or a container runtime would; record its exit code."""
    while not stop.is_set():
        for name, proc in list(stack.processes.items()):
            if proc.process is not None and proc.process.poll() is not None:
                exits[name].append(proc.process.returncode)
                proc.stop()
                await asyncio.to_thread(stack.start_service, name, False)
        await asyncio.sleep(0.2)


async def produce_all(bootstrap: str, bodies: list[dict]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        for n, body in enumerate(bodies):
            await producer.send("referrals.submitted", orjson.dumps(body))
            if n % 10 == 9:
                await producer.flush()
                await asyncio.sleep(0.3)
        await producer.flush()
    finally:
        await producer.stop()


@pytest.mark.timeout(420)
async def test_a_failed_send_in_any_step_loses_and_duplicates_nothing(tmp_path) -> None:
    """With one send failing in every step of every agent (outputs, audit events and table changelogs), each
    worker exits with its unconfirmed-step code once per fault, and every referral is still accepted once,
    decided once, queued exactly as decided, notified once per assignment and audited in full."""
    spec = ",".join(fault for faults in FAULTS.values() for fault in faults)
    stack = Stack(workdir=tmp_path, partitions=2, extra_env={"SOSAFE_FAULT_FAIL_SENDS": spec})
    await asyncio.to_thread(stack.start)
    exits: dict[str, list[int]] = defaultdict(list)
    stop = asyncio.Event()
    watcher = asyncio.create_task(restart_exited(stack, exits, stop))
    try:
        assert stack.broker is not None
        bodies = list(synthetic_submissions(COUNT, 3, datetime.now(UTC), f"faults-{uuid.uuid4().hex[:6]}"))
        await produce_all(stack.broker.bootstrap, bodies)
        outcomes = await routed_exactly_once(stack, COUNT, tmp_path, timeout=240)
        assert len(outcomes.referral_ids) == COUNT
        for service, faults in FAULTS.items():
            assert exits[service] == [EXIT_STEP_UNCONFIRMED] * len(faults), (
                f"{service} should have exited once per injected fault: {exits[service]}")
    finally:
        stop.set()
        await watcher
        await asyncio.to_thread(stack.stop)
