"""Health, readiness and metrics views every service serves.

`/metrics` is on the service's own port by default (development), or, with `SOSAFE_METRICS_PORT` set (the
cluster), only on that port, a listener of its own that Prometheus reaches and partners and officers do not.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import faust
from aiohttp import web as aioweb
from faust.sensors.prometheus import FaustMetrics, PrometheusMonitor, setup_prometheus_sensors
from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest

from services.common.contiguous_consumer import count_offset_jumps

LAG_INTERVAL_S = 5.0

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""Histogram buckets (seconds) of every stage latency, the same in each service so dashboards compare them."""


def consumer_lag(app: faust.App) -> dict[str, int]:
    """Messages not yet committed per topic, over the partitions this worker holds."""
    lag: dict[str, int] = {}
    consumer = app.consumer
    for tp in consumer.assignment():
        highwater = consumer.highwater(tp)
        if highwater is None or highwater < 0:
            continue
        committed = getattr(consumer, "_committed_offset", {}).get(tp) or 0  # no public accessor in Faust
        lag[tp.topic] = lag.get(tp.topic, 0) + max(0, highwater - committed)
    return lag


async def broker_reachable(app: faust.App, timeout: float = 1.0) -> bool:
    """True when a TCP connection to any bootstrap server opens within `timeout`."""
    for url in app.conf.broker:
        host, port = url.host or "127.0.0.1", url.port or 9092
        with contextlib.suppress(OSError, asyncio.TimeoutError):
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return True
    return False


def partitions_assigned(app: faust.App) -> int:
    with contextlib.suppress(Exception):  # consumer not started yet
        return len(app.consumer.assignment())
    return 0


UNAUTHENTICATED_WARNING = (
    "the broker connection is unauthenticated (PLAINTEXT, the embedded broker): for development only"
)


def serve_metrics_apart(app: faust.App, registry: CollectorRegistry, host: str, port: int) -> None:
    """`GET /metrics` on a listener of its own at `host:port`, opened when the worker starts."""
    runners: list[aioweb.AppRunner] = []

    async def metrics(request: aioweb.Request) -> aioweb.Response:
        return aioweb.Response(body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    @app.task  # type: ignore[untyped-decorator]
    async def open_metrics_port() -> None:
        web_app = aioweb.Application()
        web_app.router.add_get("/metrics", metrics)
        runner = aioweb.AppRunner(web_app, access_log=None)
        await runner.setup()
        await aioweb.TCPSite(runner, host, port).start()
        runners.append(runner)  # kept for the worker's life


def install_observability(
    app: faust.App,
    registry: CollectorRegistry,
    service: str,
    extra_ready: Callable[[], bool] | None = None,
    metrics_port: int | None = None,
) -> None:
    """`/metrics` (Faust's own sensor plus the service's registry), `/healthz`, `/readyz`.

    With `metrics_port` (`SOSAFE_METRICS_PORT`), `/metrics` is served only there, not on the service's port.
    """
    name_prefix = f"sosafe_{service}_faust"
    if metrics_port is None:
        setup_prometheus_sensors(app, pattern="/metrics", registry=registry, name_prefix=name_prefix)
    else:
        app.monitor = PrometheusMonitor(metrics=FaustMetrics.create(registry, name_prefix))
        serve_metrics_apart(app, registry, app.conf.web_bind, metrics_port)
    jumps = Counter(
        "sosafe_consumer_offset_jumps_total",
        "Fetches that began past a partition's expected offset: re-read, or skipped if the log lacks them",
        ["service", "topic", "outcome"],
        registry=registry,
    )
    count_offset_jumps(app, jumps, service)
    lag_gauge = Gauge(
        "sosafe_consumer_lag_messages",
        "Messages behind the end of each consumed topic",
        ["service", "topic"],
        registry=registry,
    )

    @app.timer(LAG_INTERVAL_S)  # type: ignore[untyped-decorator]
    async def measure_lag() -> None:
        with contextlib.suppress(Exception):  # the consumer may be mid-rebalance; the next tick measures
            for topic, behind in consumer_lag(app).items():
                lag_gauge.labels(service, topic).set(behind)

    @app.page("/healthz")
    async def healthz(self: View, request: Request) -> Response:
        return self.json({"status": "ok", "service": service})

    authenticated = app.conf.broker_credentials is not None

    @app.page("/readyz")
    async def readyz(self: View, request: Request) -> Response:
        reachable = await broker_reachable(app)
        assigned = partitions_assigned(app)
        recovery = getattr(app.tables, "recovery", None)
        recovering = bool(app.rebalancing or app.in_recovery or (recovery and not recovery.completed.is_set()))
        ready = reachable and assigned > 0 and not recovering and (extra_ready is None or extra_ready())
        body = {
            "ready": ready,
            "service": service,
            "broker_reachable": reachable,
            "partitions_assigned": assigned,
            "recovering": recovering,
            "broker_authenticated": authenticated,
        }
        if not authenticated:
            body["warning"] = UNAUTHENTICATED_WARNING
        return self.json(body, status=200 if ready else 503)
