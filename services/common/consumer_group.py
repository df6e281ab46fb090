"""Consumer-group membership checks a worker makes before it joins.

A worker that restarts while its killed predecessor is still a member of the consumer group causes two
rebalances in a row (one when it joins, one when the session of the dead member times out). Each rebalance
is a chance for duplicates and a pause; `wait_for_departed_members` makes a starting worker wait out the
session timeout when the group still has members, so there is one.
"""

from __future__ import annotations

import asyncio
import contextlib

from aiokafka.admin import AIOKafkaAdminClient

from services.common.logs import get_logger

log = get_logger("sosafe.consumer_group")


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
