"""Guards against Faust skipping messages around a rebalance (at-least-once, DESIGN §7).

1. When a message arrives whose offset is more than one past the last one read, Faust (0.15.3) assumes the
   offsets in between were compacted away or were transaction markers, and treats them as acknowledged, so
   its next commit skips them. None of the topics our agents consume is compacted or transactional: a gap
   here means a message fetched before a rebalance overtook the re-read of the range (faust-streaming
   issues #216, #221, #312, #606). The crash test saw whole ranges of decisions never notified that way.
   `refuse_offset_gaps` makes Faust record no gap, so commits stop short of the range, and a moment later
   seeks the partition back to the start of the range, so it is read and processed (again, for some
   messages: every consumer here is idempotent). Each occurrence is logged and counted.
2. The usual trigger is a worker that restarts while its dead predecessor is still in the consumer group,
   which gives two rebalances in a row. `wait_for_departed_members` makes a starting worker wait out the
   session timeout when the group still has members, so there is one rebalance.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from faust.transport.consumer import Consumer
from prometheus_client import Counter

from services.common.logs import get_logger

log = get_logger("sosafe.offset_gaps")


REREAD_DELAY_S = 2.0
"""Long enough for Faust to finish the batch it was iterating when the gap appeared."""


class GapGuard:
    """Refused gaps and their pending re-reads; one per process, installed on Faust's consumer class."""

    counter: Counter | None = None
    service: str = "unknown"
    pending: dict[Any, int] = {}
    tasks: set[asyncio.Task[None]] = set()

    @classmethod
    async def refuse(cls, consumer: Any, tp: Any, offset_from: int, offset_to: int) -> None:
        log.error("offset_gap_refused", topic=tp.topic, partition=tp.partition, offset_from=offset_from,
                  offset_to=offset_to, committed=consumer._committed_offset.get(tp))
        if cls.counter is not None:
            cls.counter.labels(cls.service, tp.topic).inc()
        scheduled = tp in cls.pending
        cls.pending[tp] = min(offset_from, cls.pending.get(tp, offset_from))
        if not scheduled:
            task = asyncio.get_running_loop().create_task(cls._reread(consumer, tp))
            cls.tasks.add(task)
            task.add_done_callback(cls.tasks.discard)

    @classmethod
    async def _reread(cls, consumer: Any, tp: Any) -> None:
        await asyncio.sleep(REREAD_DELAY_S)
        offset = cls.pending.pop(tp)
        if tp in consumer.assignment():
            await consumer.seek(tp, offset)
            log.warning("offset_gap_reread", topic=tp.topic, partition=tp.partition, offset_from=offset)


async def _refuse_gap(self: Any, tp: Any, offset_from: int, offset_to: int) -> None:
    await GapGuard.refuse(self, tp, offset_from, offset_to)


def refuse_offset_gaps(counter: Counter | None = None, service: str = "unknown") -> None:
    """Install the guard on Faust's consumer (once per process) and count into `counter`."""
    Consumer._add_gap = _refuse_gap  # type: ignore[method-assign]
    if counter is not None:
        GapGuard.counter, GapGuard.service = counter, service


async def wait_for_departed_members(bootstrap: str, group: str, session_timeout_s: float) -> bool:
    """Wait out the session timeout if `group` has members (perhaps a killed predecessor). True if waited."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    try:
        await admin.start()
        [described] = (await admin.describe_consumer_groups([group]))[0].groups
        members = described[5] if described[0] == 0 else []
    except Exception as exc:  # an unreachable broker is the worker's own start-up error to report
        log.warning("consumer_group_not_described", error_type=type(exc).__name__)
        return False
    finally:
        with contextlib.suppress(Exception):
            await admin.close()
    if not members:
        return False
    log.info("waiting_for_departed_members", members=len(members), seconds=session_timeout_s + 1)
    await asyncio.sleep(session_timeout_s + 1)
    return True
