"""Each service's /metrics moves by the right amounts; /readyz follows the broker (issue 6)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio

from services.cli.stack import Stack
from services.common.broker import EmbeddedBroker, create_topics
from services.common.observability import UNAUTHENTICATED_WARNING
from tests.support.flow import eventually
from tests.support.http import get_json, post_json
from tests.support.metrics import sample_value
from tests.support.payloads import submission

pytestmark = pytest.mark.integration


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    # Supervised: a worker whose broker is replaced by an empty one finds its local tables ahead of the
    # changelogs and exits; it is restarted, rebuilds them and becomes ready, as in production.
    started = Stack(workdir=tmp_path_factory.mktemp("metrics"), partitions=1, supervise=True)
    await asyncio.to_thread(started.start)
    yield started
    await asyncio.to_thread(started.stop)


async def scrape(stack: Stack) -> dict[str, str]:
    async with aiohttp.ClientSession() as session:
        pages = {}
        for service in ("intake", "triage", "notify"):
            async with session.get(stack.url(service) + "/metrics") as response:
                pages[service] = await response.text()
        return pages


@pytest.mark.asyncio(loop_scope="module")
async def test_domain_and_faust_metrics_move_by_the_right_amounts(stack: Stack) -> None:
    """Three accepted referrals and one invalid one move intake, triage and notify counters exactly."""
    before = await scrape(stack)
    url = stack.url("intake") + "/v1/referrals"
    for n in range(3):
        assert (await post_json(url, submission(reference=f"MET-{n}"), "dev-partner-police"))[0] == 202
    assert (await post_json(url, submission(reference="MET-BAD", role="nobody"), "dev-partner-police"))[0] == 422

    def delta(after: dict[str, str], page: str, name: str, **labels: str) -> float:
        return sample_value(after[page], name, **labels) - sample_value(before[page], name, **labels)

    async def settled() -> dict[str, str] | None:
        after = await scrape(stack)
        sent = delta(
            after, "notify", "sosafe_notify_notifications_total", channel="email", service="sada", outcome="sent"
        )
        return after if sent >= 3 else None

    after = await eventually(settled, timeout=60, what="three SADA notifications sent")
    await asyncio.sleep(1.5)
    after = await scrape(stack)
    assert delta(after, "intake", "sosafe_intake_received_total", agency="police", channel="http") == 4
    assert delta(after, "intake", "sosafe_intake_accepted_total", agency="police") == 3
    assert delta(after, "intake", "sosafe_intake_rejected_total", reason="invalid_submission", channel="http") == 1
    assert delta(after, "triage", "sosafe_triage_decisions_total", service="sada", priority="high", kind="initial") == 3
    assert (
        delta(after, "notify", "sosafe_notify_notifications_total", channel="email", service="sada", outcome="sent")
        == 3
    )
    assert (
        delta(after, "intake", "sosafe_intake_faust_messages_received_per_topic_total", topic="referrals.submitted")
        == 4
    )
    assert (
        delta(after, "triage", "sosafe_triage_faust_messages_received_per_topic_total", topic="referrals.accepted") == 3
    )
    assert delta(after, "notify", "sosafe_notify_faust_topic_messages_sent_total", topic="topic.audit.events") >= 3


@pytest.mark.asyncio(loop_scope="module")
async def test_readiness_says_the_embedded_broker_is_unauthenticated(stack: Stack) -> None:
    """On the embedded broker every /readyz body says plainly that the connection is for development only."""
    for service in ("intake", "triage", "notify"):
        _, body = await get_json(stack.url(service) + "/readyz")
        assert body["broker_authenticated"] is False
        assert body["warning"] == UNAUTHENTICATED_WARNING


@pytest.mark.asyncio(loop_scope="module")
async def test_readiness_follows_the_broker(stack: Stack) -> None:
    """Broker stopped: /readyz 503 on every service; broker back: ready again (health stays 200)."""
    assert stack.broker is not None
    port = stack.broker.port
    stack.broker.stop()
    for service in ("intake", "triage", "notify"):
        await eventually(
            lambda s=service: _status(stack.url(s) + "/readyz", 503),
            timeout=30,
            what=f"{service} not ready without the broker",
        )
        assert await _status(stack.url(service) + "/healthz", 200)
    stack.broker = EmbeddedBroker(port=port, log_path=stack.workdir / "broker-2.log")
    await asyncio.to_thread(stack.broker.start)
    await create_topics(stack.broker.bootstrap, stack.partitions, stack.topics())
    for service in ("intake", "triage", "notify"):
        await eventually(
            lambda s=service: _status(stack.url(s) + "/readyz", 200),
            timeout=90,
            what=f"{service} ready again after the broker came back",
        )


async def _status(url: str, expected: int) -> bool:
    try:
        status, _ = await get_json(url)
    except aiohttp.ClientError:
        return False
    return status == expected
