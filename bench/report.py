"""What `make bench` writes: the machine it ran on, latency percentiles, `docs/benchmarks.json` and the
figures table of `docs/benchmarks.md` (between markers, so the prose around it is kept)."""

from __future__ import annotations

import json
import os
import platform
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BEGIN, END = "<!-- bench:figures:begin -->", "<!-- bench:figures:end -->"


def machine() -> dict[str, Any]:
    """nproc, CPU model and memory from /proc, plus the Python version."""
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory_kb = int(line.split()[1])
    return {
        "nproc": os.cpu_count() or 0,
        "cpu": cpu,
        "memory_gb": round(memory_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


def summary(results: dict[str, Any]) -> dict[str, Any]:
    """The exact keys of `docs/benchmarks.json` (the issue's contract for this file)."""
    keys = (
        "date",
        "machine",
        "kafka_path_per_s",
        "http_per_s",
        "faust_baseline_per_s",
        "raw_baseline_per_s",
        "ratio_to_faust",
        "ratio_to_raw",
        "p50_ms",
        "p95_ms",
        "p99_ms",
        "rss_mb",
        "records_per_referral",
    )
    return {key: results[key] for key in keys}


def figures_markdown(r: dict[str, Any]) -> str:
    m, x = r["machine"], r["extra"]
    rss = ", ".join(f"{service} {mb:.0f} MB" for service, mb in r["rss_mb"].items())
    rows = [
        ("Kafka path, submitted → notified (referrals/s)", f"{r['kafka_path_per_s']:.0f}", "≥ 1,000"),
        ("… as a share of the bare-Faust three-hop baseline", f"{r['ratio_to_faust']:.0%}", "≥ 60%"),
        ("… as a share of the raw aiokafka three-hop baseline", f"{r['ratio_to_raw']:.1%}", "—"),
        ("HTTP intake, 202 accepted (referrals/s)", f"{r['http_per_s']:.0f}", "≥ 1,000"),
        ("HTTP path, submitted → notified (referrals/s)", f"{x['http_notified_per_s']:.0f}", "—"),
        ("Bare Faust baseline, three hops (msg/s)", f"{r['faust_baseline_per_s']:.0f}", "—"),
        ("Raw aiokafka baseline, three hops (msg/s)", f"{r['raw_baseline_per_s']:.0f}", "—"),
        (
            f"Latency at {x['latency_rate']:.0f}/s for {x['latency_seconds']:.0f} s: p50 / p95 / p99 (ms)",
            f"{r['p50_ms']:.0f} / {r['p95_ms']:.0f} / {r['p99_ms']:.0f}",
            "p99 < 250",
        ),
        ("Latency run: achieved rate (referrals/s submitted)", f"{x['latency_achieved_per_s']:.0f}", "—"),
        (
            f"Latency at {x['latency_low_rate']:.0f}/s: p50 / p95 / p99 (ms)",
            f"{x['low_p50_ms']:.0f} / {x['low_p95_ms']:.0f} / {x['low_p99_ms']:.0f}",
            "—",
        ),
        (f"Peak RSS per service after {x['referrals_total']:,} referrals", rss, "< 200 MB each, after 100,000"),
        (
            f"Records written per HTTP referral, all topics ({x['records_count']:,} referrals)",
            f"{r['records_per_referral']:.2f}",
            "≤ 8",
        ),
        (
            "Runs in which every referral was notified",
            ", ".join(
                f"{name} {'yes' if x.get(key) else 'NO'}"
                for name, key in (
                    ("Kafka", "kafka_complete"),
                    ("HTTP", "http_complete"),
                    ("latency", "latency_complete"),
                    ("low-rate latency", "low_latency_complete"),
                )
            ),
            "all",
        ),
    ]
    table = "\n".join(f"| {name} | {value} | {target} |" for name, value, target in rows)
    return (
        f"Run of {r['date']} on {m['nproc']} × {m['cpu']}, {m['memory_gb']} GB RAM, Python {m['python']}, "
        f"{x['partitions']} partitions per topic, {x['count']:,} referrals per throughput run "
        f"(bench wall time {x['wall_s']:.0f} s).\n\n"
        "| measure | measured | target |\n|---|---|---|\n" + table + "\n"
    )


def write_docs(results: dict[str, Any], docs: Path) -> None:
    """`benchmarks.json` in full; in `benchmarks.md` only the text between the figure markers."""
    docs.mkdir(parents=True, exist_ok=True)
    (docs / "benchmarks.json").write_text(json.dumps(summary(results), indent=2) + "\n")
    md = docs / "benchmarks.md"
    block = f"{BEGIN}\n{figures_markdown(results)}{END}"
    text = md.read_text() if md.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text:
        text += f"\n{BEGIN}\n{END}\n"
    md.write_text(re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S))


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
