"""Triage's tables on local disk: a restarted worker reads them and catches up from the changelog offsets
they hold, without replaying its changelogs; a worker whose local state is gone rebuilds it all from them."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator

import pytest
from aiokafka.structs import ConsumerRecord

from schemas.vocabulary import Service
from services.cli.stack import Stack
from tests.support.flow import eventually
from tests.support.http import get_json, post_json
from tests.support.kafka import read_topic
from tests.support.metrics import sample_value
from tests.support.payloads import submission

pytestmark = pytest.mark.integration

REFERRALS = 12
CASES_CHANGELOG = "sosafe-triage-cases-changelog"
HISTORY_CHANGELOG = "sosafe-triage-subject-history-changelog"


@pytest.fixture
async def stack(tmp_path) -> AsyncIterator[Stack]:
    started = Stack(
        workdir=tmp_path, services=("intake", "triage"), partitions=2, extra_env={"SOSAFE_SLA_CHECK_INTERVAL_S": "1"}
    )
    await asyncio.to_thread(started.start)
    try:
        yield started
    finally:
        await asyncio.to_thread(started.stop)


async def metrics(stack: Stack) -> str:
    status, text = await get_json(stack.url("triage") + "/metrics")
    assert status == 200
    return text


def recovered(text: str, table: str) -> float:
    return sample_value(text, "sosafe_table_records_recovered_total", service="triage", table=table)


async def open_items(stack: Stack) -> int:
    """Open queue items as the deadline watch counts them (from the cases it indexed)."""
    text = await metrics(stack)
    return sum(int(sample_value(text, "sosafe_triage_queue_depth", service=s.value)) for s in Service)


async def queued_referrals(stack: Stack) -> int:
    """Submit the referrals and wait until triage has queued every one; returns the items queued."""
    for n in range(REFERRALS):
        status, answer = await post_json(
            stack.url("intake") + "/v1/referrals", submission(reference=f"STATE-{n}"), "dev-partner-police"
        )
        assert status == 202, answer

    def queued(records: list[ConsumerRecord]) -> list[dict]:
        events = [json.loads(r.value) for r in records]
        return [e for e in events if e["action"] == "queued" and e["emitted_by"] == "triage"]

    audit = await read_topic(
        stack.broker.bootstrap,
        "audit.events",
        timeout=90,
        until=lambda rs: len({e["referral_id"] for e in queued(rs)}) >= REFERRALS,
    )
    items = len(queued(audit))
    assert len({e["referral_id"] for e in queued(audit)}) == REFERRALS
    await eventually(lambda: _equal(open_items(stack), items), what="the deadline watch counting every item")
    return items


async def changelog(stack: Stack, topic: str) -> list[ConsumerRecord]:
    return await read_topic(stack.broker.bootstrap, topic, timeout=4)


async def _equal(probe, expected: int) -> bool:
    return await probe == expected


async def restart_triage(stack: Stack, *, keep_state: bool) -> None:
    stack.processes["triage"].stop()
    state = stack.state_dir("triage") / "sosafe-triage"
    assert (state / "stopped-cleanly").exists(), "a SIGTERM stop is a clean stop"
    if not keep_state:
        shutil.rmtree(stack.state_dir("triage"))
    await asyncio.to_thread(stack.start_service, "triage")


@pytest.mark.timeout(300)
async def test_a_restart_with_local_state_reads_no_changelog_record_again(stack: Stack) -> None:
    """The tables on disk hold their changelog offsets: recovery starts there, so nothing is replayed, and
    every open item is still indexed from the local cases."""
    items = await queued_referrals(stack)
    cases, history = await changelog(stack, CASES_CHANGELOG), await changelog(stack, HISTORY_CHANGELOG)
    assert len(cases) >= 2 * REFERRALS and len(history) >= REFERRALS
    await restart_triage(stack, keep_state=True)
    after = await metrics(stack)
    assert recovered(after, "cases") == 0, f"replayed from a changelog of {len(cases)} records"
    assert recovered(after, "subject-history") == 0
    await eventually(lambda: _equal(open_items(stack), items), what="every open item indexed after the restart")


@pytest.mark.timeout(300)
async def test_a_worker_whose_local_state_was_deleted_recovers_every_record_from_the_changelogs(
    stack: Stack,
) -> None:
    """Deleting the state directory is safe: every changelog record is applied again and no item is lost."""
    items = await queued_referrals(stack)
    cases, history = await changelog(stack, CASES_CHANGELOG), await changelog(stack, HISTORY_CHANGELOG)
    await restart_triage(stack, keep_state=False)
    after = await metrics(stack)
    assert recovered(after, "cases") == len(cases)
    assert recovered(after, "subject-history") == len(history)
    await eventually(lambda: _equal(open_items(stack), items), what="every open item recovered")
