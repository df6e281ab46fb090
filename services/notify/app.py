"""Notify's Faust app and wiring: topics, tables, senders, routing, metrics. No logic here."""

from __future__ import annotations

import faust
from mode import Service

from services.common import topics
from services.common.access import load_access
from services.common.faust_app import make_app, new_registry
from services.common.local_state import bytes_table, recovered_records_counter
from services.common.observability import install_observability
from services.notify import agents
from services.notify.adapters.smtp import SmtpSender
from services.notify.adapters.webhook import WebhookSender
from services.notify.metrics import NotifyMetrics
from services.notify.routing import load_notify_routing, partner_webhook_targets
from services.notify.service import Notify, Senders
from services.notify.settings import NotifySettings


def build(settings: NotifySettings) -> Notify:
    routing = load_notify_routing(settings.config_file)
    if not settings.embedded_broker:
        routing.require_https_webhooks()
    app = make_app(topics.NOTIFY_APP, settings, settings.notify_port)
    registry = new_registry()
    smtp = SmtpSender(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_sender,
        domain=settings.smtp_domain,
        team_addresses=routing.team_addresses(),
        manager_addresses=routing.manager_addresses(),
        starttls=settings.smtp_starttls,
        use_tls=settings.smtp_use_tls,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        timeout=settings.send_timeout_s,
    )
    access = load_access(settings.config_file)
    partners = partner_webhook_targets(access.partners, settings.webhook_secrets(), not settings.embedded_broker)
    webhook = WebhookSender(
        targets=routing.webhook_targets(settings.webhook_secrets()),
        partner_targets=partners,
        timeout=settings.send_timeout_s,
    )
    partitions = settings.topic_partitions
    recovered = recovered_records_counter(registry)

    def topic(name: str) -> faust.TopicT:
        return app.topic(name, partitions=partitions)

    notify = Notify(
        settings=settings,
        app=app,
        registry=registry,
        metrics=NotifyMetrics.create(registry),
        routing=routing,
        senders=Senders(smtp, webhook),
        partners_told=frozenset(partners),
        partner_outcomes={
            name: topic(name)
            for name in topics.partner_outcome_topics(p.id for p in access.partners if p.outcomes_topic)
        },
        decisions=topic(topics.DECISIONS),
        escalations=topic(topics.ESCALATIONS),
        outcomes=topic(topics.OUTCOMES),
        retry=topic(topics.NOTIFY_RETRY),
        dead=topic(topics.NOTIFY_DEAD),
        audit=topic(topics.AUDIT),
        dead_messages=topic(topics.DEAD_MESSAGES),
        sent=bytes_table(app, "notifications-sent", partitions, recovered, "notify"),
        retried=bytes_table(app, "notifications-retried", partitions, recovered, "notify"),
    )

    @app.service
    class CloseSenders(Service):
        async def on_stop(self) -> None:
            await notify.senders.close()

    install_observability(app, registry, "notify", metrics_port=settings.metrics_port)
    agents.register(notify)
    return notify
