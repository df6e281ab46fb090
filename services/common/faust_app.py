"""Builds a Faust app with the settings every service shares, tuned for the embedded broker where it runs
on one (docs/architecture.md#the-embedded-broker)."""

from __future__ import annotations

from typing import Any

import faust
from prometheus_client import CollectorRegistry

from schemas.submission import MAX_BODY_BYTES
from services.common.audit_signing import signing_topic_class
from services.common.confirmed_producer import ConfirmingProducer
from services.common.confirmed_producer import install as install_producer
from services.common.contiguous_consumer import install as install_contiguous_consumer
from services.common.kafka_security import faust_credentials
from services.common.local_state import app_state_dir
from services.common.send_faults import SendFaults, parse_faults
from services.common.settings import CommonSettings
from services.common.split_producer import SplitProducer


def make_app(app_id: str, settings: CommonSettings, web_port: int, **extra: Any) -> faust.App:
    """A Faust app for one service; nothing connects until the worker starts. It logs in to the broker as
    the service's own principal (`services.common.kafka_security`) and signs what it sends to
    `audit.events` with the service's audit key (`services.common.audit_signing`)."""
    embedded = settings.embedded_broker
    datadir = app_state_dir(settings.tables_dir, app_id)
    datadir.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = dict(
        broker=settings.broker_urls,
        broker_credentials=faust_credentials(settings),
        Topic=signing_topic_class(settings.audit_keyring),
        store=settings.table_store,
        key_serializer="raw",
        value_serializer="raw",
        topic_partitions=settings.topic_partitions,
        topic_allow_declare=True,
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=settings.heartbeat_interval_s,
        broker_commit_interval=1.0,
        web_port=web_port,
        web_bind=settings.web_bind,
        web_host=settings.web_bind,
        web_in_thread=False,
        web_router_enabled=False,
        web_tables_enabled=False,
        web_stats_enabled=False,
        web_application_options={"client_max_size": MAX_BODY_BYTES + 1024},
        datadir=str(datadir),
        table_standby_replicas=0,
        stream_wait_empty=False,
    )
    options.update(extra)
    app = faust.App(app_id, **options)
    install_contiguous_consumer(app, settings.fetch_max_wait_ms, settings.consumer_trace)
    # Tansu reports a partition's end offset as the first offset of the last batch + 1; one record per
    # changelog batch keeps Faust table recovery exact (SplitProducer). Apache Kafka does not need it.
    faults = parse_faults(settings.fault_fail_sends)
    install_producer(
        app,
        SplitProducer if embedded else ConfirmingProducer,
        SendFaults(faults, settings.data_dir / "faults", app_id) if faults else None,
    )
    return app


def new_registry() -> CollectorRegistry:
    """A Prometheus registry per app, so tests can run several apps in one process."""
    return CollectorRegistry(auto_describe=True)
