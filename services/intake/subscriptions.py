"""Which submission topics intake reads: its own, every registered partner's, and any other partner topic.

A partner topic that exists on the broker but names no partner of the access file (a partner since
removed, or a topic made by mistake) is read too, so that what is written there is rejected
(`unknown_partner_topic`) and audited rather than left unread. Topics are listed once, at start-up: with
automatic topic creation off, a new partner topic comes with a new access file, which needs a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient

from services.common import topics
from services.common.access import AccessFile
from services.common.logs import get_logger

log = get_logger("sosafe.intake.subscriptions")

LIST_TIMEOUT_MS = 5000


async def existing_partner_topics(client: Mapping[str, Any]) -> set[str]:
    """The partner submission topics on the broker; empty (with a warning) if it cannot be asked.
    `client`: aiokafka's options for this service (services.common.kafka_security.client_options)."""
    admin = AIOKafkaAdminClient(request_timeout_ms=LIST_TIMEOUT_MS, **client)
    try:
        await admin.start()
        return {name for name in await admin.list_topics() if topics.partner_of_topic(name) is not None}
    except Exception as exc:  # an unreachable broker is the worker's own start-up error to report
        log.warning("partner_topics_not_listed", error_type=type(exc).__name__)
        return set()
    finally:
        with contextlib.suppress(Exception):
            await admin.close()


def submission_topics(access: AccessFile, existing: set[str]) -> tuple[str, ...]:
    """`referrals.submitted`, each registered partner's topic, then the other partner topics found."""
    registered = topics.partner_topics(p.id for p in access.partners)
    unregistered = sorted(existing - set(registered))
    if unregistered:
        log.warning("unregistered_partner_topics", count=len(unregistered))
    return (topics.SUBMITTED, *registered, *unregistered)


def discover_submission_topics(client: Mapping[str, Any], access: AccessFile) -> tuple[str, ...]:
    """`submission_topics` with the broker's partner topics; run before the worker's event loop starts."""
    return submission_topics(access, asyncio.run(existing_partner_topics(client)))
