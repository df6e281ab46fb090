"""Triage's Faust app and wiring: topics, tables, ruleset, officers, metrics. No logic here."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import faust
from faust.types import TableT

from services.common import topics
from services.common.access import Registry, load_access
from services.common.faust_app import make_app, new_registry
from services.common.kafka_security import security_options
from services.common.local_state import bytes_table, recovered_records_counter
from services.common.logs import get_logger
from services.common.observability import install_observability
from services.triage import agents
from services.triage.api import reports, web
from services.triage.cases.replies import PendingReplies
from services.triage.console import report_page, rules_diff_page, views
from services.triage.metrics import TriageMetrics
from services.triage.read.database import migrate, open_engine, read_model_url
from services.triage.read.projector import Projector
from services.triage.read.queries import ReadModel
from services.triage.routing.ruleset import load_ruleset
from services.triage.service import Triage
from services.triage.settings import TriageSettings

log = get_logger("sosafe.triage")


def build(settings: TriageSettings) -> Triage:
    ruleset = load_ruleset(settings.ruleset_file)  # a bad ruleset stops start-up with one sentence
    if ruleset.holidays_run_out(datetime.now(UTC).date()):  # deadlines would work through bank holidays
        log.warning("bank_holidays_run_out", ruleset_version=ruleset.version, refresh="docs/routing.md")
    app = make_app(topics.TRIAGE_APP, settings, settings.triage_port)
    registry = new_registry()
    access = load_access(settings.config_file)
    partitions = settings.topic_partitions
    read_url = read_model_url(settings)
    asyncio.run(migrate(read_url))  # the read model's schema is current before anything serves

    def topic(name: str, internal: bool = False) -> faust.TopicT:
        return app.topic(name, internal=internal, partitions=partitions)

    recovered = recovered_records_counter(registry)

    def table(name: str) -> TableT[bytes, bytes]:
        return bytes_table(app, name, partitions, recovered, "triage")

    triage = Triage(
        settings=settings,
        app=app,
        registry=registry,
        metrics=TriageMetrics.create(registry),
        ruleset=ruleset,
        access=access,
        tokens=Registry(access),
        replies=PendingReplies(),
        view=ReadModel(open_engine(read_url)),
        accepted=topic(topics.ACCEPTED),
        decisions=topic(topics.DECISIONS),
        actions=topic(topics.ACTIONS),
        escalations=topic(topics.ESCALATIONS),
        outcomes=topic(topics.OUTCOMES),
        audit=topic(topics.AUDIT),
        dead=topic(topics.DEAD_MESSAGES),
        by_subject=topic(topics.TRIAGE_BY_SUBJECT, internal=True),
        sla_checks=topic(topics.TRIAGE_SLA_CHECKS, internal=True),
        cases=table("cases"),
        subject_history=table("subject-history"),
    )
    install_observability(
        app, registry, "triage", extra_ready=triage.view.caught_up.is_set, metrics_port=settings.metrics_port
    )

    @app.task  # type: ignore[untyped-decorator]
    async def project_read_model() -> None:
        writer = open_engine(read_url, writer=True)
        try:
            await Projector(
                writer, settings.bootstrap_servers, triage.view.caught_up, security=security_options(settings)
            ).run()
        finally:
            await writer.dispose()
            await triage.view.engine.dispose()

    agents.register(triage)
    web.register(triage)
    views.register(triage)
    reports.register(triage)
    report_page.register(triage)
    rules_diff_page.register(triage)
    return triage
