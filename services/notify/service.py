"""The notify service object: everything notify's agents need, built once by `app.build`, and its channel
senders. Agents import this type only; `app.py` builds it and wires them in.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import faust
from faust.types import TableT
from prometheus_client import CollectorRegistry

from schemas.notification import NotificationChannel
from services.notify.adapters.channels import Sender
from services.notify.adapters.smtp import SmtpSender
from services.notify.adapters.webhook import WebhookSender
from services.notify.metrics import NotifyMetrics
from services.notify.routing import NotifyRouting
from services.notify.settings import NotifySettings


@dataclass
class Senders:
    """The channel adapters, started once inside the worker's event loop and closed at shutdown."""

    smtp: SmtpSender
    webhook: WebhookSender
    started: bool = False

    def for_channel(self, channel: NotificationChannel) -> Sender:
        return self.smtp if channel == NotificationChannel.email else self.webhook

    async def ensure_started(self) -> None:
        if not self.started:
            self.started = True
            await self.smtp.start()
            await self.webhook.start()

    async def close(self) -> None:
        if self.started:
            await self.smtp.close()
            await self.webhook.close()


@dataclass
class Notify:
    """Everything notify's agents need, built once at start-up."""

    settings: NotifySettings
    app: faust.App
    registry: CollectorRegistry
    metrics: NotifyMetrics
    routing: NotifyRouting
    senders: Senders
    decisions: faust.TopicT
    escalations: faust.TopicT
    outcomes: faust.TopicT
    retry: faust.TopicT
    dead: faust.TopicT
    audit: faust.TopicT
    dead_messages: faust.TopicT
    sent: TableT[bytes, bytes]
    retried: TableT[bytes, bytes]
    partner_outcomes: dict[str, faust.TopicT] = field(default_factory=dict)
    """The outcome topic of each partner of the access file that asked for one (`outcomes_topic: true`), by
    topic name (`referrals.outcomes.<partner id>`)."""
    partners_told: frozenset[str] = frozenset()
    """Partners with an outcomes webhook; the others poll triage for their outcomes."""
    rng: random.Random = field(default_factory=random.Random)
