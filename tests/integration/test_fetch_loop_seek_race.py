"""A rebalance lands while a batch fetched before it is still being handed to the agent: nothing is
skipped. The interleaving is driven, not waited for (`tests/support/seek_race_worker.py`), so the test
fails on every run when Faust's own fetch loop is put back (`SOSAFE_TEST_FETCH_LOOP=faust`)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from services.common.broker import EmbeddedBroker, create_topics, free_port
from services.common.child_process import spawn
from tests.support.flow import eventually
from tests.support.kafka import produce_batch

pytestmark = pytest.mark.integration

TOPIC = "seek-race"
GROUP = "seek-race"
COUNT = 10
HOLD = 2
"""The agent holds this offset while the group rebalances; the offsets before it are committed."""
STALE = 5
"""Fetched before the rebalance, handed over after it; HOLD+1 .. STALE-1 sat in the cleared agent queue."""


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    started = EmbeddedBroker(log_path=tmp_path / "broker.log")
    started.start()
    yield started
    started.stop()


def processed(out: Path) -> list[int]:
    return [int(line) for line in out.read_text().split()] if out.exists() else []


async def committed(bootstrap: str) -> int | None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=GROUP, enable_auto_commit=False)
    await consumer.start()
    try:
        return await consumer.committed(TopicPartition(TOPIC, 0))
    finally:
        await consumer.stop()


def out_of_order(offsets: list[int]) -> list[tuple[int, list[int]]]:
    """Each offset processed before every offset below it was, with the offsets it went past."""
    seen: set[int] = set()
    jumps = []
    for offset in offsets:
        missing = [below for below in range(offset) if below not in seen]
        if missing:
            jumps.append((offset, missing))
        seen.add(offset)
    return jumps


@pytest.mark.timeout(90)
async def test_a_rebalance_during_a_fetched_batch_skips_nothing(broker: EmbeddedBroker, tmp_path: Path) -> None:
    """The agent holds offset 2 (0 and 1 committed) while offset 5, fetched before, is being delivered; the
    group rebalances in between. Afterwards every offset is processed, each only after all below it, and the
    group's commit reaches the end only once everything is processed."""
    await create_topics(broker.bootstrap, 1, [TOPIC])
    await produce_batch(broker.bootstrap, TOPIC, [(None, f"m{n}".encode()) for n in range(STALE)])
    out = tmp_path / "processed.txt"
    env = {
        **os.environ,
        "SOSAFE_BROKER_URL": broker.url,
        "SOSAFE_EMBEDDED_BROKER": "true",
        "SOSAFE_TOPIC_PARTITIONS": "1",
        "SOSAFE_TABLE_STORE": "memory://",
        "SOSAFE_DATA_DIR": str(tmp_path / "data"),
        "SEEK_RACE_TOPIC": TOPIC,
        "SEEK_RACE_OUT": str(out),
        "SEEK_RACE_HOLD": str(HOLD),
        "SEEK_RACE_STALE": str(STALE),
        "SEEK_RACE_WEB_PORT": str(free_port()),
        "SEEK_RACE_FETCH_LOOP": os.environ.get("SOSAFE_TEST_FETCH_LOOP", ""),
        "SOSAFE_CONSUMER_TRACE": "1",
    }
    with open(tmp_path / "worker.log", "wb") as log:
        worker = spawn(
            [sys.executable, "-m", "tests.support.seek_race_worker"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        await eventually(lambda: _async(HOLD in processed(out)), timeout=60, what=f"offset {HOLD} held by the agent")
        await produce_batch(broker.bootstrap, TOPIC, [(None, f"m{n}".encode()) for n in range(STALE, COUNT)])
        await eventually(lambda: _async(COUNT - 1 in processed(out)), timeout=60, what="the last offset processed")
        jumps, at = out_of_order(processed(out)), await committed(broker.bootstrap)
        assert not jumps, (
            f"processed past unprocessed offsets (offset, skipped): {jumps}; all: {processed(out)}; committed: {at}"
        )
        assert set(processed(out)) == set(range(COUNT))
        await eventually(lambda: _committed_is(broker.bootstrap, COUNT), timeout=30, what=f"commit at {COUNT}")
        assert worker.poll() is None, "the worker ended on its own"
    finally:
        worker.terminate()
        try:
            worker.wait(15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(5)


async def _async(value: bool) -> bool:
    return value


async def _committed_is(bootstrap: str, offset: int) -> bool:
    return await committed(bootstrap) == offset
