"""Prometheus alert rules: valid, unit-tested by promtool, and each with a runbook in docs/operations.md."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.operations_doc import REPO, doc_anchors, is_documented, metric_names_in_query

PROMETHEUS_DIR = REPO / "deploy" / "prometheus"
ALERTS = PROMETHEUS_DIR / "alerts.yml"
ALERT_TESTS = PROMETHEUS_DIR / "alerts_test.yml"
UK_TIME_TESTS = PROMETHEUS_DIR / "uk_time_test.yml"
RUNBOOK_PREFIX = "docs/operations.md#"


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def alert_rules() -> list[dict[str, Any]]:
    return [rule for group in load(ALERTS)["groups"] for rule in group["rules"] if "alert" in rule]


def alert_names() -> list[str]:
    return sorted({rule["alert"] for rule in alert_rules()})


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.skip("promtool is not installed (Debian package `prometheus`; `make system-packages`)")
    return path


def run_promtool(promtool: str, *args: str) -> None:
    result = subprocess.run([promtool, *args], cwd=REPO, capture_output=True, text=True, timeout=240, check=False)
    assert result.returncode == 0, f"promtool {' '.join(args)}:\n{result.stdout}\n{result.stderr}"


def test_alert_rules_pass_promtool_check(promtool: str) -> None:
    """`promtool check rules` accepts alerts.yml."""
    run_promtool(promtool, "check", "rules", str(ALERTS.relative_to(REPO)))


def test_prometheus_config_passes_promtool_check(promtool: str) -> None:
    """`promtool check config` accepts prometheus.yml and the rule file it loads."""
    run_promtool(promtool, "check", "config", str((PROMETHEUS_DIR / "prometheus.yml").relative_to(REPO)))


def test_alert_unit_tests_pass(promtool: str) -> None:
    """`promtool test rules alerts_test.yml`: each alert fires when it should and stays quiet otherwise."""
    run_promtool(promtool, "test", "rules", str(ALERT_TESTS.relative_to(REPO)))


def test_uk_working_hours_follow_british_summer_time(promtool: str) -> None:
    """`promtool test rules uk_time_test.yml`: BST starts and ends on the last Sundays of March and October."""
    run_promtool(promtool, "test", "rules", str(UK_TIME_TESTS.relative_to(REPO)))


@pytest.mark.parametrize("alert", alert_names())
def test_every_alert_has_a_firing_case_and_a_quiet_case(alert: str) -> None:
    """alerts_test.yml evaluates every alert at a time it fires and at a time it must not."""
    cases = [
        case
        for group in load(ALERT_TESTS)["tests"]
        for case in group.get("alert_rule_test", [])
        if case["alertname"] == alert
    ]
    assert any(case.get("exp_alerts") for case in cases), f"no test where {alert} fires"
    assert any(not case.get("exp_alerts") for case in cases), f"no test where {alert} stays quiet"


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule["alert"])
def test_every_alert_has_a_severity_a_summary_and_a_runbook(rule: dict[str, Any]) -> None:
    """Labels carry severity; annotations a summary and a runbook_url into docs/operations.md."""
    assert rule["labels"]["severity"] in {"critical", "warning"}
    assert rule["annotations"]["summary"].strip()
    assert rule["annotations"]["runbook_url"] == RUNBOOK_PREFIX + rule["alert"].lower()


def test_every_runbook_url_has_its_section_in_the_operations_doc(operations_doc: str) -> None:
    """Each runbook_url anchor is a heading of docs/operations.md."""
    anchors = doc_anchors(operations_doc)
    missing = sorted(
        {
            rule["annotations"]["runbook_url"]
            for rule in alert_rules()
            if rule["annotations"]["runbook_url"].removeprefix(RUNBOOK_PREFIX) not in anchors
        }
    )
    assert not missing


def test_every_link_into_the_operations_doc_resolves(operations_doc: str) -> None:
    """Links to docs/operations.md#... from the deploy files, and the doc's own #links, name real sections."""
    anchors = doc_anchors(operations_doc)
    sources = [REPO / "docker-compose.yml", *sorted(p for p in (REPO / "deploy").rglob("*") if p.is_file())]
    links = {
        (path.name, anchor)
        for path in sources
        for anchor in re.findall(r"docs/operations\.md#([\w-]+)", path.read_text(encoding="utf-8"))
    }
    links |= {("operations.md", anchor) for anchor in re.findall(r"\]\(#([\w-]+)\)", operations_doc)}
    assert len(links) > 10
    broken = sorted(link for link in links if link[1] not in anchors)
    assert not broken


def test_alerts_read_only_documented_metrics(documented_metrics: set[str]) -> None:
    """Every metric an alert or recording rule reads is listed in docs/operations.md."""
    rules = [rule for group in load(ALERTS)["groups"] for rule in group["rules"]]
    used = {name for rule in rules for name in metric_names_in_query(rule["expr"])}
    assert used
    undocumented = sorted(name for name in used if not is_documented(name, documented_metrics))
    assert not undocumented
