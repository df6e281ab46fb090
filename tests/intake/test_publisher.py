"""Intake's own producer: acknowledged submissions return, a hung broker fails within the publish timeout."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.common.broker import EmbeddedBroker, create_topics
from services.common.topics import REJECTED, SUBMITTED
from services.intake.openapi import openapi_document
from services.intake.publisher import SubmissionNotPublished, SubmissionPublisher
from services.intake.settings import IntakeSettings
from tests.support.kafka import read_topic

TIMEOUT_S = 1.5
MARGIN_S = 1.0


def test_openapi_documents_the_503_with_retry_after() -> None:
    """Partners learn from the contract that a 503 comes with Retry-After and is safe to retry."""
    answer = openapi_document()["paths"]["/v1/referrals"]["post"]["responses"]["503"]
    assert "Retry-After" in answer["headers"]
    assert "triaged once" in answer["description"]


async def test_a_publisher_that_is_not_running_refuses_at_once() -> None:
    """Before start (or after stop) a publish fails straight away instead of waiting on a producer."""
    publisher = SubmissionPublisher(IntakeSettings(broker_url="kafka://127.0.0.1:9"))
    started = time.monotonic()
    with pytest.raises(SubmissionNotPublished):
        await publisher.publish(SUBMITTED, b"key", b"{}")
    assert time.monotonic() - started < 0.5


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    started = EmbeddedBroker(log_path=tmp_path / "broker.log")
    started.start()
    asyncio.run(create_topics(started.bootstrap, 1, [SUBMITTED, REJECTED]))
    yield started
    if started.process is not None:
        os.kill(started.process.pid, signal.SIGCONT)
    started.stop()


@pytest.mark.integration
async def test_publish_fails_within_the_timeout_while_the_broker_is_paused_and_recovers_after(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """Acknowledged before the pause; SubmissionNotPublished within the timeout while the broker is stopped
    (SIGSTOP), on a partition it has written to and on a topic it has no metadata for; acknowledged again
    once the broker continues."""
    settings = IntakeSettings(broker_url=broker.url, publish_timeout_s=TIMEOUT_S, data_dir=tmp_path)
    publisher = SubmissionPublisher(settings)
    await publisher.start()
    try:
        await publisher.publish(SUBMITTED, b"k", b"before")
        assert broker.process is not None
        os.kill(broker.process.pid, signal.SIGSTOP)
        try:
            for topic in (SUBMITTED, REJECTED):
                started = time.monotonic()
                with pytest.raises(SubmissionNotPublished):
                    await publisher.publish(topic, b"k", b"during")
                assert time.monotonic() - started < TIMEOUT_S + MARGIN_S
        finally:
            os.kill(broker.process.pid, signal.SIGCONT)

        async def published_after_pause() -> bool:
            try:
                await publisher.publish(SUBMITTED, b"k", b"after")
            except SubmissionNotPublished:
                return False
            return True

        deadline = time.monotonic() + 20
        while not await published_after_pause():
            assert time.monotonic() < deadline, "the publisher did not recover within 20 s of SIGCONT"
        values = [r.value for r in await read_topic(broker.bootstrap, SUBMITTED, until=lambda rs: len(rs) >= 2)]
        assert values[0] == b"before" and b"after" in values
    finally:
        await publisher.stop()
