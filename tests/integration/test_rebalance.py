"""Two triage workers share the partitions; when one is killed the other finishes its work."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import orjson
import pytest

from schemas.identity import referral_id_for
from services.cli.stack import Stack
from services.cli.synthetic import synthetic_submissions
from services.common.broker import free_port
from tests.support.flow import eventually
from tests.support.http import get_json, post_json
from tests.support.kafka import produce
from tests.support.outcomes import routed_exactly_once

pytestmark = pytest.mark.integration

COUNT = 120


async def assigned(url: str) -> int:
    _, body = await get_json(url + "/readyz")
    return body.get("partitions_assigned", 0) if isinstance(body, dict) else 0


@pytest.mark.timeout(300)
async def test_a_killed_triage_workers_partitions_are_finished_by_the_other(tmp_path) -> None:
    """Referrals keyed to the killed worker's partitions are still decided, queued, notified and audited by
    the survivor, each exactly once: one decision, exactly its queue items, one notification id per
    assignment, a complete trail, and the audit chains verify."""
    stack = Stack(workdir=tmp_path, partitions=4)
    await asyncio.to_thread(stack.start)
    try:
        assert stack.broker is not None
        second = await asyncio.to_thread(stack.start_service, "triage", True, "triage-2", free_port())
        await asyncio.sleep(8)  # let the group settle with both members
        first_share, second_share = await assigned(stack.url("triage")), await assigned(second.base_url)
        assert first_share > 0 and second_share > 0, "both workers should hold partitions"
        run = f"rebalance-{uuid.uuid4().hex[:6]}"
        bodies = list(synthetic_submissions(COUNT, 3, datetime.now(UTC), run))
        for body in bodies[: COUNT // 2]:
            await produce(stack.broker.bootstrap, "referrals.submitted", orjson.dumps(body))
        second.kill()
        for body in bodies[COUNT // 2 :]:
            await produce(stack.broker.bootstrap, "referrals.submitted", orjson.dumps(body))
        outcomes = await routed_exactly_once(stack, COUNT, tmp_path, timeout=150)
        assert await assigned(stack.url("triage")) > first_share, "the survivor took over the partitions"
        print(f"redelivered with the same ids after the kill: {outcomes.redelivered}")
    finally:
        await asyncio.to_thread(stack.stop)


@pytest.mark.timeout(300)
async def test_every_triage_replica_answers_for_every_referral(tmp_path) -> None:
    """With two replicas each owning half the partitions, either one lists every item and applies actions
    on referrals whose partition the other owns."""
    stack = Stack(workdir=tmp_path, services=("intake", "triage"), partitions=4)
    await asyncio.to_thread(stack.start)
    try:
        second = await asyncio.to_thread(stack.start_service, "triage", True, "triage-2", free_port())
        await asyncio.sleep(8)
        run = f"replicas-{uuid.uuid4().hex[:6]}"
        bodies = [
            body
            for body in synthetic_submissions(40, 5, datetime.now(UTC), run)
            if body["concerns"] == ["domestic_abuse"] and body["role"] == "victim"
        ][:8]
        for body in bodies:
            body["consent"] = {"obtained": True, "basis": "consent"}
            await produce(stack.broker.bootstrap, "referrals.submitted", orjson.dumps(body))
        ids = {referral_id_for(b["source"]["system"], b["source"]["reference"]) for b in bodies}

        async def listed(url: str) -> set[str]:
            items = []
            for service in ("sada", "manual_review"):
                _, found = await get_json(f"{url}/v1/queues/{service}?state=all", "dev-manager")
                items += found
            return {item["referral_id"] for item in items} & ids

        for url in (stack.url("triage"), second.base_url):
            try:
                await eventually(lambda url=url: _full(listed, url, ids), what=f"every item listed by {url}")
            except AssertionError:
                _, everything = await get_json(f"{url}/v1/queues", "dev-manager")
                raise AssertionError((await listed(url), ids, everything)) from None
        for url in (stack.url("triage"), second.base_url):
            for rid in sorted(ids)[:4] if url == second.base_url else sorted(ids)[4:]:
                _, body = await get_json(f"{url}/v1/referrals/{rid}", "dev-manager")
                service = body["items"][0]["service"]
                status, item = await post_json(f"{url}/v1/queues/{service}/items/{rid}/claim", {}, "dev-manager")
                assert status == 200 and item["state"] == "claimed", (url, rid, status, item)
    finally:
        await asyncio.to_thread(stack.stop)


async def _full(listed, url: str, ids: set[str]) -> bool:
    return await listed(url) == ids
