"""Consumer-group membership checks a worker makes before it joins.

A worker that restarts while its killed predecessor is still a member of the consumer group causes two
rebalances in a row (one when it joins, one when the session of the dead member times out). Each rebalance
is a chance for duplicates and a pause; `wait_for_departed_members` makes a starting worker wait, at most
the session timeout, until a member has left the group, so there is one. It asks the broker every half
second rather than sleeping the whole timeout: a predecessor killed a few seconds ago has already used up
part of its session.

Apache Kafka drops a member whose session has expired from the group's description; the embedded Tansu
broker goes on listing it until the next member joins (measured: in the fault tests, polled for the whole
timeout after each of 11 worker exits, the count never fell). So only cluster workers wait: on the
embedded broker the wait would cost its whole length and buy nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient

from services.common.logs import get_logger

log = get_logger("sosafe.consumer_group")

POLL_INTERVAL_S = 0.5


async def _member_count(admin: AIOKafkaAdminClient, group: str) -> int:
    [described] = (await admin.describe_consumer_groups([group]))[0].groups
    return len(described[5]) if described[0] == 0 else 0


async def wait_for_departed_members(
    bootstrap: str, group: str, session_timeout_s: float, security: Mapping[str, Any] | None = None
) -> bool:
    """Wait, at most the session timeout, for `group`'s membership to shrink if it has members (perhaps a
    killed predecessor). True if waited. `security`: aiokafka's options from services.common.kafka_security."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000, **(security or {}))
    try:
        await admin.start()
        members = await _member_count(admin, group)
        if not members:
            return False
        log.info("waiting_for_departed_members", members=members, at_most_seconds=session_timeout_s + 1)
        started = time.monotonic()
        while time.monotonic() - started < session_timeout_s + 1:
            await asyncio.sleep(POLL_INTERVAL_S)
            if await _member_count(admin, group) < members:
                log.info("member_departed", waited_seconds=round(time.monotonic() - started, 1))
                break
        return True
    except Exception as exc:  # an unreachable broker is the worker's own start-up error to report
        log.warning("consumer_group_not_described", error_type=type(exc).__name__)
        return False
    finally:
        with contextlib.suppress(Exception):
            await admin.close()
