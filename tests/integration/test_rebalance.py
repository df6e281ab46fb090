"""Two triage workers share the partitions; when one is killed the other finishes its work."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

import orjson
import pytest

from services.cli.stack import Stack
from services.cli.synthetic import synthetic_submissions
from services.common.broker import free_port
from tests.support.http import get_json
from tests.support.kafka import produce, read_topic

pytestmark = pytest.mark.integration


async def assigned(url: str) -> int:
    _, body = await get_json(url + "/readyz")
    return body.get("partitions_assigned", 0) if isinstance(body, dict) else 0


@pytest.mark.timeout(300)
async def test_a_killed_triage_workers_partitions_are_finished_by_the_other(tmp_path) -> None:
    """Referrals keyed to the killed worker's partitions are still decided and queued by the survivor."""
    stack = Stack(workdir=tmp_path, services=("intake", "triage"), partitions=4)
    await asyncio.to_thread(stack.start)
    try:
        second = await asyncio.to_thread(stack.start_service, "triage", True, "triage-2", free_port())
        await asyncio.sleep(8)  # let the group settle with both members
        first_share, second_share = await assigned(stack.url("triage")), await assigned(second.base_url)
        assert first_share > 0 and second_share > 0, "both workers should hold partitions"
        run = f"rebalance-{uuid.uuid4().hex[:6]}"
        bodies = list(synthetic_submissions(120, 3, datetime.now(UTC), run))
        for body in bodies[:60]:
            await produce(stack.broker.bootstrap, "referrals.submitted", orjson.dumps(body))
        second.kill()
        for body in bodies[60:]:
            await produce(stack.broker.bootstrap, "referrals.submitted", orjson.dumps(body))
        accepted = await read_topic(stack.broker.bootstrap, "referrals.accepted", timeout=60,
                                    until=lambda rs: len({json.loads(r.value)["referral_id"] for r in rs}) >= 120)
        ids = {json.loads(r.value)["referral_id"] for r in accepted}
        assert len(ids) == 120

        def queued(records: list) -> set[str]:
            return {json.loads(r.value)["referral_id"] for r in records
                    if json.loads(r.value)["action"] == "queued" and json.loads(r.value)["emitted_by"] == "triage"}

        audit = await read_topic(stack.broker.bootstrap, "audit.events", timeout=120,
                                 until=lambda rs: queued(rs) >= ids)
        assert queued(audit) >= ids
        assert await assigned(stack.url("triage")) > first_share, "the survivor took over the partitions"
    finally:
        await asyncio.to_thread(stack.stop)
