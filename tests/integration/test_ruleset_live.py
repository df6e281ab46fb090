"""A ruleset going live is an audit event: triage's first start with the default ruleset appends exactly one
`ruleset_live` (its version and the file's SHA-256) to chain `triage:ruleset:<version>`; a restart with
the same file appends none (the read model, caught up before the announcement, holds the first); and
`sosafe audit verify` passes with that chain, which names no referral."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
from aiokafka.structs import ConsumerRecord

from services.cli.stack import Stack
from services.triage.cases.ruleset_live import file_sha256
from services.triage.routing.ruleset import DEFAULT_RULESET_PATH, load_ruleset
from tests.support.flow import eventually
from tests.support.kafka import read_topic

pytestmark = pytest.mark.integration

VERSION = load_ruleset(DEFAULT_RULESET_PATH).version


@pytest.fixture
async def stack(tmp_path) -> AsyncIterator[Stack]:
    started = Stack(workdir=tmp_path, services=("triage",), partitions=2)
    await asyncio.to_thread(started.start)
    try:
        yield started
    finally:
        await asyncio.to_thread(started.stop)


def announcements(records: list[ConsumerRecord]) -> list[dict]:
    events = [json.loads(r.value) for r in records]
    return [e for e in events if e["action"] == "ruleset_live"]


async def triage_logged(stack: Stack, event: str, times: int) -> bool:
    log = (stack.workdir / "logs" / "triage.log").read_text(errors="replace")
    return log.count(f'"{event}"') >= times


@pytest.mark.timeout(300)
async def test_the_ruleset_is_announced_once_and_a_restart_adds_nothing(stack: Stack) -> None:
    bootstrap = stack.broker.bootstrap
    await eventually(lambda: triage_logged(stack, "ruleset_live", 1), what="triage announcing its ruleset")
    first = announcements(await read_topic(bootstrap, "audit.events", until=lambda rs: bool(announcements(rs))))
    assert len(first) == 1
    (event,) = first
    assert (event["chain"], event["seq"], event["referral_id"]) == (f"triage:ruleset:{VERSION}", 1, None)
    assert event["details"]["ruleset_version"] == VERSION
    assert event["details"]["sha256"] == file_sha256(DEFAULT_RULESET_PATH)
    assert event["key_id"] and event["mac"]

    stack.processes["triage"].stop()
    await asyncio.to_thread(stack.start_service, "triage")
    # The restarted worker reads the chain from its caught-up read model and says it is already live.
    await eventually(lambda: triage_logged(stack, "ruleset_already_live", 1), what="the restart finding it live")
    again = announcements(await read_topic(bootstrap, "audit.events", until=lambda rs: bool(announcements(rs))))
    assert again == first

    verify = [sys.executable, "-m", "services.cli.main", "audit", "verify", "--broker", bootstrap]
    checked = await asyncio.to_thread(subprocess.run, verify, capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr
