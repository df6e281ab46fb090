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
        "raw_same_records_per_s",
        "ratio_to_faust",
        "ratio_to_raw",
        "ratio_to_raw_same_records",
        "p50_ms",
        "p95_ms",
        "p99_ms",
        "rss_mb",
        "rss_mb_at",
        "restart_ready_s",
        "referrals_held",
        "records_per_referral",
        "rules_diff_100k_s",
    )
    return {key: results[key] for key in keys}


def _triage_rss(r: dict[str, Any]) -> tuple[str, str]:
    """The triage memory row: RSS at the first and last step of the held run, and how much it grew."""
    at = r["rss_mb_at"]
    if not at:
        return "not measured (the held run took no step)", ""
    counts = sorted(int(n) for n in at)
    first, last = counts[0], counts[-1]
    low, high = at[str(first)]["triage"], at[str(last)]["triage"]
    value = f"{low:.0f} MB at {first:,}; {high:.0f} MB at {last:,} ({high / low - 1:+.0%})"
    if last < 100_000 and last > first:
        slope = (high - low) / (last - first)
        steps = r["extra"]["held_steps"]
        why = r["extra"].get("held_stopped_early") or f"the run was set to {r['extra']['held']:,}"
        if not steps[-1]["complete"]:
            why = f"the step to {last:,} was incomplete: {steps[-1]['notified']:,} of {steps[-1]['sent']:,} notified"
        value += (
            f"; 100,000 not reached ({why}): straight-line extrapolation to 100,000 "
            f"{high + slope * (100_000 - last):.0f} MB (an extrapolation, not a measurement)"
        )
    return value, "< 250 MB; within 20% from 20,000 to 100,000"


def held_markdown(r: dict[str, Any]) -> str:
    """One row per step of the held run, then idle CPU per process."""
    x = r["extra"]
    names = sorted({name for step in x["held_steps"] for name in step["rss_mb"]})
    head = "| held | notified/s | " + " | ".join(f"RSS {n} MB" for n in names)
    head += " | " + " | ".join(f"CPU {n} ms/ref" for n in names) + " | load 1 min |\n"
    head += "|" + "---|" * (3 + 2 * len(names)) + "\n"
    rows = [
        f"| {s['held']:,}{'' if s['complete'] else ' (incomplete)'} | {s['per_s']:.0f} | "
        + " | ".join(f"{s['rss_mb'].get(n, 0):.0f}" for n in names)
        + " | "
        + " | ".join(f"{s['cpu_ms_per_referral'].get(n, 0):.1f}" for n in names)
        + f" | {s['load_average'][0]:.1f} |"
        for s in x["held_steps"]
    ]
    idle = x["idle_cpu_pct"]
    idle_names = sorted({name for found in idle.values() for name in found})
    idle_rows = [
        f"| {when} | " + " | ".join(f"{found.get(n, 0):.1f}" for n in idle_names) + " |" for when, found in idle.items()
    ]
    return (
        "\nHeld run, step by step (RSS now, not peak; CPU per referral of the step; warm-up of 200 not counted):\n\n"
        + head
        + "\n".join(rows)
        + f"\n\nIdle CPU, % of one core over {x['idle_seconds']:.0f} s with nothing submitted:\n\n"
        + "| when | "
        + " | ".join(idle_names)
        + " |\n|"
        + "---|" * (1 + len(idle_names))
        + "\n"
        + "\n".join(idle_rows)
        + "\n"
    )


def figures_markdown(r: dict[str, Any]) -> str:
    m, x = r["machine"], r["extra"]
    rss = ", ".join(f"{service} {mb:.0f} MB" for service, mb in r["rss_mb"].items())
    restart = (
        f"{r['restart_ready_s']:.1f}" if r["restart_ready_s"] is not None else f"not measured: {x['restart_error']}"
    )
    rows = [
        ("Kafka path, submitted → notified (referrals/s)", f"{r['kafka_path_per_s']:.0f}", "≥ 1,000"),
        ("… as a share of the bare-Faust three-hop baseline", f"{r['ratio_to_faust']:.0%}", "≥ 60%"),
        ("… as a share of the raw aiokafka three-hop baseline", f"{r['ratio_to_raw']:.1%}", "—"),
        (
            f"… as a share of raw aiokafka writing {r['records_per_referral']:.2f} records per message",
            f"{r['ratio_to_raw_same_records']:.1%}",
            "≥ 25%",
        ),
        ("HTTP intake, 202 accepted (referrals/s)", f"{r['http_per_s']:.0f}", "≥ 1,000"),
        ("HTTP path, submitted → notified (referrals/s)", f"{x['http_notified_per_s']:.0f}", "—"),
        ("Bare Faust baseline, three hops (msg/s)", f"{r['faust_baseline_per_s']:.0f}", "—"),
        ("Raw aiokafka baseline, three hops (msg/s)", f"{r['raw_baseline_per_s']:.0f}", "—"),
        (
            "Raw aiokafka baseline, same records per message as the system (msg/s)",
            f"{r['raw_same_records_per_s']:.0f}",
            "—",
        ),
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
        ("Triage RSS by referrals held (held run)", *_triage_rss(r)),
        (f"Peak RSS per service, largest run ({x['referrals_total']:,} referrals)", rss, "—"),
        (f"Triage restart to `/readyz` 200, holding {r['referrals_held']:,} referrals (s)", restart, "< 15"),
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
            )
            + f", held {'yes' if all(s['complete'] for s in x['held_steps']) else 'NO'}",
            "all",
        ),
    ]
    table = "\n".join(f"| {name} | {value} | {target} |" for name, value, target in rows)
    start, end = x["load_average_at_start"], x["load_average_at_end"]
    return (
        f"Run of {r['date']} on {m['nproc']} × {m['cpu']}, {m['memory_gb']} GB RAM, Python {m['python']}, "
        f"{x['partitions']} partitions per topic, {x['count']:,} referrals per throughput run and step, "
        f"{x['held']:,} held (bench wall time {x['wall_s']:.0f} s; load average {start[0]:.1f} at the start, "
        f"{end[0]:.1f} at the end).\n\n"
        "| measure | measured | target |\n|---|---|---|\n" + table + "\n" + held_markdown(r)
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


RULES_BEGIN, RULES_END = "<!-- bench:rules-diff:begin -->", "<!-- bench:rules-diff:end -->"


def rules_diff_markdown(figures: dict[str, Any], date: str, load: tuple[float, ...]) -> str:
    """The rules-diff line of `benchmarks.md`: the figure, its target and what it ran on."""
    m = machine()
    return (
        "| measure | measured | target |\n|---|---|---|\n"
        f"| What-if replay (`sosafe rules diff`) of {figures['rules_diff_replayed']:,} referrals, default ruleset "
        f"against one changed rule (s) | {figures['rules_diff_100k_s']:.2f} | < 10 |\n\n"
        f"Run of {date} on {m['nproc']} × {m['cpu']}, {m['memory_gb']} GB RAM, Python {m['python']}, load average "
        f"{load[0]:.1f} at the start (other work shares the machine: above its {m['nproc']} cores, the figure is "
        f"slower than on a quiet one): {figures['rules_diff_moved']:,} referrals would change; "
        f"{figures['rules_diff_distinct_facts']:,} distinct fact sets among the synthetic referrals (the replay "
        f"routes each fact set once per ruleset); filling the read model took {figures['rules_diff_fill_s']} s "
        "(not timed).\n"
    )


def write_rules_diff_docs(figures: dict[str, Any], docs: Path, date: str, load: tuple[float, ...]) -> None:
    """`rules_diff_100k_s` into `benchmarks.json` (other figures kept) and its block of `benchmarks.md`."""
    docs.mkdir(parents=True, exist_ok=True)
    summary_file = docs / "benchmarks.json"
    current = json.loads(summary_file.read_text()) if summary_file.exists() else {}
    current["rules_diff_100k_s"] = figures["rules_diff_100k_s"]
    summary_file.write_text(json.dumps(current, indent=2) + "\n")
    md = docs / "benchmarks.md"
    text = md.read_text() if md.exists() else "# Benchmarks\n"
    if RULES_BEGIN not in text:
        text += f"\n{RULES_BEGIN}\n{RULES_END}\n"
    block = f"{RULES_BEGIN}\n{rules_diff_markdown(figures, date, load)}{RULES_END}"
    pattern = re.escape(RULES_BEGIN) + ".*?" + re.escape(RULES_END)
    md.write_text(re.sub(pattern, lambda _: block, text, flags=re.S))


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
