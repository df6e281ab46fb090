"""Intake's Faust app and wiring: topics, the seen-referrals table, metrics, access. No logic here."""

from __future__ import annotations

import faust

from services.common import topics
from services.common.access import Registry, load_access
from services.common.faust_app import make_app, new_registry
from services.common.kafka_security import client_options
from services.common.local_state import bytes_table, recovered_records_counter
from services.common.observability import install_observability
from services.common.rate_limit import RateLimiter
from services.intake import agents, update_views, web
from services.intake.metrics import IntakeMetrics
from services.intake.publisher import SubmissionPublisher
from services.intake.service import Intake
from services.intake.settings import IntakeSettings
from services.intake.subscriptions import discover_submission_topics


def build(settings: IntakeSettings) -> Intake:
    app = make_app(topics.INTAKE_APP, settings, settings.intake_port)
    registry = new_registry()
    access = load_access(settings.config_file)
    recovered = recovered_records_counter(registry)

    def raw_topic(*names: str, internal: bool = False) -> faust.TopicT:
        return app.topic(
            *names,
            key_serializer="raw",
            value_serializer="raw",
            internal=internal,
            partitions=settings.topic_partitions,
        )

    intake = Intake(
        settings=settings,
        app=app,
        registry=registry,
        metrics=IntakeMetrics.create(registry),
        access=access,
        tokens=Registry(access),
        rate_limiter=RateLimiter(),
        publisher=SubmissionPublisher(settings),
        submitted=raw_topic(*discover_submission_topics(client_options(settings), access)),
        validated=raw_topic(topics.INTAKE_VALIDATED, internal=True),
        accepted=raw_topic(topics.ACCEPTED),
        rejected=raw_topic(topics.REJECTED),
        audit=raw_topic(topics.AUDIT),
        seen=bytes_table(app, "referrals-seen", settings.topic_partitions, recovered, "intake"),
    )
    # Started before the app's own producer, consumer and web server, and stopped after them.
    app.add_dependency(intake.publisher)
    install_observability(app, registry, "intake", metrics_port=settings.metrics_port)
    agents.register(intake)
    web.register(intake)
    update_views.register(intake)
    return intake
