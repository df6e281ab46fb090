"""A send the broker never acknowledges ends the worker before its input is committed, and the restarted
worker delivers the message again: nothing lost, nothing routed twice (on the real embedded broker)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from schemas.identity import referral_id_for
from services.cli.stack import Stack
from services.cli.supervisor import RestartPolicy
from services.cli.synthetic import synthetic_submissions
from services.common.worker_exit import EXIT_STEP_UNCONFIRMED
from tests.support.kafka import produce_steadily
from tests.support.outcomes import routed_exactly_once

pytestmark = pytest.mark.integration

COUNT = 30

FAULTS = {
    "intake": [
        "sosafe-intake-validated:3",
        "sosafe-intake-referrals-seen-changelog:5",
        "referrals.accepted:7",
        "audit.events:9",
    ],
    "triage": [
        "sosafe-triage-by-subject:4",
        "triage.decisions:6",
        "sosafe-triage-cases-changelog:10",
        "sosafe-triage-subject-history-changelog:3",
        "audit.events:12",
        "referrals.outcomes:8",
    ],
    "notify": ["sosafe-notify-notifications-sent-changelog:5", "audit.events:7"],
}
"""One failed send in every step each agent takes: the topic and which send to it fails (once)."""


def key_every_other(n: int, body: dict) -> bytes | None:
    """Every other submission keyed by its referral id, as the HTTP path sends it: intake admits those where it
    reads them, and the others after the re-keying hop, so the faults reach both ways of admitting."""
    return referral_id_for(body["source"]["system"], body["source"]["reference"]).encode() if n % 2 else None


@pytest.mark.timeout(420)
async def test_a_failed_send_in_any_step_loses_and_duplicates_nothing(tmp_path) -> None:
    """With one send failing in every step of every agent (outputs, audit events and table changelogs), each
    worker exits with its unconfirmed-step code once per fault, and every referral is still accepted once,
    decided once, queued exactly as decided, notified once per assignment and audited in full."""
    spec = ",".join(fault for faults in FAULTS.values() for fault in faults)
    reports: list[str] = []
    stack = Stack(
        workdir=tmp_path,
        partitions=2,
        extra_env={"SOSAFE_FAULT_FAIL_SENDS": spec},
        supervise=True,
        restart_policy=RestartPolicy(first_delay_s=0.5, max_delay_s=2.0),
        report=reports.append,
    )
    await asyncio.to_thread(stack.start)
    try:
        assert stack.broker is not None
        bodies = list(synthetic_submissions(COUNT, 3, datetime.now(UTC), f"faults-{uuid.uuid4().hex[:6]}"))
        await produce_steadily(stack.broker.bootstrap, "referrals.submitted", bodies, 10, 0.3, key_every_other)
        outcomes = await routed_exactly_once(stack, COUNT, tmp_path, timeout=240)
        assert len(outcomes.referral_ids) == COUNT
        for service, faults in FAULTS.items():
            exits = [line for line in reports if line.startswith(f"{service} exited")]
            assert all(f"exited with code {EXIT_STEP_UNCONFIRMED};" in line for line in exits), exits
            assert len(exits) == len(faults) == stack.restarts[service], (
                f"{service} should have exited and restarted once per injected fault: {reports}"
            )
    finally:
        await asyncio.to_thread(stack.stop)
