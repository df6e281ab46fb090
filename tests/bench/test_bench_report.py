"""The bench's pure parts: how the raw baseline matches the system's records, and what the figures say."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.baselines import HOP_TOPICS, extra_per_hop
from bench.report import BEGIN, END, RULES_BEGIN, figures_markdown, summary, write_docs, write_rules_diff_docs


def test_the_raw_baseline_at_the_systems_records_writes_that_many_records_per_message() -> None:
    """First record + three forwards + three hops' extras = records per referral; never fewer than 4."""
    for records in (4.0, 8.0, 14.41):
        assert len(HOP_TOPICS) + (len(HOP_TOPICS) - 1) * extra_per_hop(records) == pytest.approx(records)
    assert extra_per_hop(2.0) == 0.0


def _results(held_steps: list[int], held: int, stopped: str | None = None) -> dict[str, Any]:
    def step(n: int, triage: float) -> dict[str, Any]:
        return {
            "held": n,
            "sent": 20_000,
            "notified": 20_000,
            "complete": True,
            "per_s": 50.0,
            "seconds": 400.0,
            "rss_mb": {"intake": 80.0, "triage": triage, "notify": 90.0, "broker": 500.0},
            "cpu_ms_per_referral": {"intake": 1.0, "triage": 5.0, "notify": 4.0, "broker": 3.0},
            "load_average": (3.0, 2.0, 1.0),
        }

    steps = [step(n, 150.0 + n / 1000) for n in held_steps]
    return {
        "date": "2026-11-29 03:00 UTC",
        "machine": {"nproc": 2, "cpu": "test", "memory_gb": 1.0, "python": "3.11", "kernel": "k"},
        "kafka_path_per_s": 50.0,
        "http_per_s": 600.0,
        "faust_baseline_per_s": 1000.0,
        "raw_baseline_per_s": 9000.0,
        "raw_same_records_per_s": 2000.0,
        "ratio_to_faust": 0.05,
        "ratio_to_raw": 0.0056,
        "ratio_to_raw_same_records": 0.025,
        "p50_ms": 100.0,
        "p95_ms": 200.0,
        "p99_ms": 300.0,
        "rss_mb": {"intake": 80.0, "triage": 250.0, "notify": 90.0},
        "rss_mb_at": {str(s["held"]): {k: s["rss_mb"][k] for k in ("intake", "triage", "notify")} for s in steps},
        "restart_ready_s": 12.5,
        "referrals_held": held_steps[-1] + 200,
        "records_per_referral": 14.41,
        "rules_diff_100k_s": 6.5,
        "extra": {
            "http_notified_per_s": 40.0,
            "latency_rate": 200.0,
            "latency_seconds": 30.0,
            "latency_achieved_per_s": 199.0,
            "latency_low_rate": 50.0,
            "low_p50_ms": 90.0,
            "low_p95_ms": 100.0,
            "low_p99_ms": 110.0,
            "referrals_total": held_steps[-1] + 200,
            "records_count": 500,
            "kafka_complete": True,
            "http_complete": True,
            "latency_complete": True,
            "low_latency_complete": True,
            "held_steps": steps,
            "held": held,
            "held_stopped_early": stopped,
            "idle_cpu_pct": {"fresh": {"broker": 12.0, "triage": 4.0}, "held": {"broker": 20.0, "triage": 5.0}},
            "idle_seconds": 20.0,
            "restart_error": None,
            "partitions": 4,
            "count": 20_000,
            "wall_s": 100.0,
            "load_average_at_start": (1.0, 1.0, 1.0),
            "load_average_at_end": (2.0, 2.0, 2.0),
        },
    }


def test_a_full_held_run_reports_triage_rss_at_both_ends_without_extrapolating() -> None:
    text = figures_markdown(_results([20_000, 40_000, 60_000, 80_000, 100_000], 100_000))
    assert "170 MB at 20,000; 250 MB at 100,000 (+47%)" in text
    assert "extrapolation" not in text
    assert "| 100,000 | 50 | 500 | 80 | 90 | 250 |" in text


def test_a_held_run_stopped_short_says_why_and_labels_the_extrapolation() -> None:
    text = figures_markdown(_results([20_000, 40_000], 100_000, "stopped at 40,000 of 100,000: 1800 s allowed"))
    assert "100,000 not reached (stopped at 40,000 of 100,000: 1800 s allowed)" in text
    assert "extrapolation to 100,000 250 MB (an extrapolation, not a measurement)" in text


def test_the_json_keeps_the_old_keys_and_adds_the_held_figures(tmp_path: Path) -> None:
    results = _results([20_000, 100_000], 100_000)
    (tmp_path / "benchmarks.md").write_text(f"# Benchmarks\n\nprose kept\n\n{BEGIN}\nstale figures\n{END}\n\nafter\n")
    write_docs(results, tmp_path)
    written = json.loads((tmp_path / "benchmarks.json").read_text())
    assert written == summary(results)
    assert set(written) >= {"kafka_path_per_s", "ratio_to_raw", "rss_mb", "records_per_referral"}
    assert written["rss_mb_at"]["20000"]["triage"] == 170.0
    assert written["ratio_to_raw_same_records"] == 0.025
    assert written["restart_ready_s"] == 12.5
    md = (tmp_path / "benchmarks.md").read_text()
    assert "prose kept" in md and md.endswith("after\n") and "stale figures" not in md


def test_the_rules_diff_figure_alone_keeps_the_other_figures(tmp_path: Path) -> None:
    """`python -m bench rules-diff` writes its key into the JSON and its block into the page, nothing else."""
    (tmp_path / "benchmarks.json").write_text(json.dumps({"kafka_path_per_s": 1200.0, "rules_diff_100k_s": 99.0}))
    (tmp_path / "benchmarks.md").write_text(f"# Benchmarks\n\n{BEGIN}\nsystem figures\n{END}\n")
    figures = {
        "rules_diff_100k_s": 7.25,
        "rules_diff_replayed": 100_000,
        "rules_diff_moved": 134,
        "rules_diff_fill_s": 21.2,
        "rules_diff_distinct_facts": 70_483,
    }
    for _ in range(2):  # a second run replaces its own block
        write_rules_diff_docs(figures, tmp_path, "2026-12-01 09:00 UTC", (3.5, 3.0, 2.0))
    assert json.loads((tmp_path / "benchmarks.json").read_text()) == {
        "kafka_path_per_s": 1200.0,
        "rules_diff_100k_s": 7.25,
    }
    md = (tmp_path / "benchmarks.md").read_text()
    assert "system figures" in md and md.count(RULES_BEGIN) == 1
    assert "of 100,000 referrals, default ruleset against one changed rule (s) | 7.25 | < 10 |" in md
    assert "load average 3.5 at the start" in md and "70,483 distinct fact sets" in md
