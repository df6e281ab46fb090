"""The Grafana dashboard and its provisioning: loadable, wired to the Prometheus data source, and every
query reading only metrics that docs/operations.md documents (and so the services export)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from services.intake.metrics import IntakeMetrics
from tests.deploy.operations_doc import REPO, is_documented, metric_names_in_query

GRAFANA_DIR = REPO / "deploy" / "grafana"
DASHBOARD = GRAFANA_DIR / "dashboards" / "sosafe.json"


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    loaded = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    return [panel for panel in dashboard["panels"] if panel["type"] != "row"]


def queries(dashboard: dict[str, Any]) -> list[str]:
    return [target["expr"] for panel in panels(dashboard) for target in panel["targets"]]


def test_dashboard_loads_with_unique_panels_on_the_grid(dashboard: dict[str, Any]) -> None:
    """A titled dashboard with a stable uid; panel ids unique; every panel within Grafana's 24 columns."""
    assert dashboard["uid"] == "sosafe-overview" and dashboard["title"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]


def test_every_panel_queries_the_provisioned_prometheus(dashboard: dict[str, Any]) -> None:
    """Each panel has queries, on the data source uid that provisioning creates."""
    datasources = yaml.safe_load((GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml").read_text())
    (prometheus,) = datasources["datasources"]
    assert prometheus["url"] == "http://prometheus:9090"
    for panel in panels(dashboard):
        assert panel["targets"], panel["title"]
        assert panel["datasource"]["uid"] == prometheus["uid"]
        assert all(target["datasource"]["uid"] == prometheus["uid"] for target in panel["targets"])


def test_dashboard_provider_reads_the_directory_compose_mounts() -> None:
    """The provider's path is where docker-compose.yml mounts deploy/grafana/dashboards."""
    provider = yaml.safe_load((GRAFANA_DIR / "provisioning" / "dashboards" / "sosafe.yml").read_text())
    (entry,) = provider["providers"]
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    mounts = dict(
        str(volume).rsplit(":", 1)[0].split(":", 1)
        for volume in compose["services"]["grafana"]["volumes"]
        if str(volume).startswith("./")
    )
    assert mounts["./deploy/grafana/dashboards"] == entry["options"]["path"]


def test_every_query_reads_only_documented_metrics(dashboard: dict[str, Any], documented_metrics: set[str]) -> None:
    """No panel reads a metric that docs/operations.md does not list (a typo would draw an empty panel)."""
    used = {name for expr in queries(dashboard) for name in metric_names_in_query(expr)}
    undocumented = sorted(name for name in used if not is_documented(name, documented_metrics))
    assert not undocumented


def test_dashboard_shows_each_view_the_design_asks_for(dashboard: dict[str, Any]) -> None:
    """Intake rate and rejections, decisions, queue depth, overdue, notification outcomes, latency, lag."""
    used = {name for expr in queries(dashboard) for name in metric_names_in_query(expr)}
    assert used >= {
        "sosafe_intake_received_total",
        "sosafe_intake_rejected_total",
        "sosafe_triage_decisions_total",
        "sosafe_triage_queue_depth",
        "sosafe_triage_overdue_items",
        "sosafe_notify_notifications_total",
        "sosafe_triage_latency_seconds_bucket",
        "sosafe_notify_end_to_end_seconds_bucket",
        "sosafe_consumer_lag_messages",
    }
    latency = [expr for expr in queries(dashboard) if "_seconds_bucket" in expr]
    assert latency and all(expr.startswith("histogram_quantile(") for expr in latency)


def test_every_metric_intake_registers_is_documented(documented_metrics: set[str]) -> None:
    """The names intake's metrics module registers are the names the doc lists (counters with `_total`)."""
    registry = CollectorRegistry()
    IntakeMetrics.create(registry)
    exported = {family.name + ("_total" if family.type == "counter" else "") for family in registry.collect()}
    assert exported
    assert sorted(name for name in exported if name not in documented_metrics) == []


@pytest.mark.parametrize(
    ("module", "class_name"),
    [("services.triage.metrics", "TriageMetrics"), ("services.notify.metrics", "NotifyMetrics")],
)
def test_every_metric_triage_and_notify_register_is_documented(
    documented_metrics: set[str], module: str, class_name: str
) -> None:
    """As for intake; skipped while a service's metrics module does not exist yet."""
    metrics_module = pytest.importorskip(module, reason=f"{module} is not written yet")
    metrics_class = getattr(metrics_module, class_name, None)
    if metrics_class is None:
        pytest.skip(f"{module}.{class_name} is not written yet")
    registry = CollectorRegistry()
    metrics_class.create(registry)
    exported = {family.name + ("_total" if family.type == "counter" else "") for family in registry.collect()}
    assert sorted(name for name in exported if name not in documented_metrics) == []
