"""`make bench` (`python -m bench`): throughput, latency, memory and restart of the whole system on the
embedded broker.

Settings (environment, prefix `SOSAFE_BENCH_`): `COUNT` referrals per throughput run and step of the held
run (default 20,000), `HELD` referrals the long run holds (100,000), `HTTP_CONCURRENCY` clients (16),
`LATENCY_RATE` per second (200) and `LATENCY_LOW_RATE` (50) for `LATENCY_SECONDS` (30) each, `PARTITIONS`
per topic (4), `RECORDS_COUNT` HTTP referrals whose records are counted (500), `IDLE_SECONDS` of each idle
CPU measurement (20). Method and figures: docs/benchmarks.md; summary: docs/benchmarks.json.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from bench.baselines import BaselineResult, run_baseline
from bench.held import as_results, held_run, idle_cpu_pct
from bench.load import NotifiedTracker, Submission, post_http, produce_direct, submissions
from bench.procstat import load_average, peak_rss_mb
from bench.records import records_per_referral
from bench.report import machine, percentile, today, write_docs, write_rules_diff_docs
from bench.rules_diff import rules_diff_bench
from services.cli.stack import Stack
from services.common.settings import REPO_ROOT


class BenchSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SOSAFE_BENCH_", extra="ignore", frozen=True)

    count: int = Field(default=20_000, ge=100)
    held: int = Field(default=100_000, ge=100)
    idle_seconds: float = Field(default=20.0, gt=0)
    restart_timeout: float = Field(default=600.0, gt=0)
    held_max_seconds: float | None = Field(default=None, gt=0)
    """No step of the held run starts after this long (unset: the run goes on to `held`)."""
    compare_fetch_wait_ms: int = Field(default=500, ge=0)
    http_concurrency: int = Field(default=16, ge=1)
    latency_rate: float = Field(default=200.0, gt=0)
    latency_seconds: float = Field(default=30.0, gt=0)
    latency_low_rate: float = Field(default=50.0, gt=0)
    partitions: int = Field(default=4, ge=1)
    records_count: int = Field(default=500, ge=1)
    workdir: Path = REPO_ROOT / "var" / "bench"
    docs: Path = REPO_ROOT / "docs"


async def _latency_run(
    bootstrap: str, tracker: NotifiedTracker, rate: float, seconds: float, tag: str
) -> dict[str, Any]:
    """Direct-Kafka submissions paced at `rate` per second; percentiles of send → last notification sent."""
    paced: list[Submission] = submissions(round(rate * seconds), f"bench-latency-{tag}")
    print(f"Latency: {len(paced)} referrals at {rate:.0f}/s", flush=True)
    started = time.perf_counter()
    sent_at = await produce_direct(bootstrap, paced, rate=rate)
    out: dict[str, Any] = {"sent": len(paced), "latency_achieved_per_s": len(paced) / (time.perf_counter() - started)}
    ids = [s.referral_id for s in paced]
    out["latency_complete"] = await tracker.wait_for(ids, max(300.0, len(ids) / 10), "latency")
    latencies = [(tracker.done_at[i] - sent_at[i]) * 1000 for i in ids if i in tracker.done_at]
    for name, fraction in (("p50_ms", 0.50), ("p95_ms", 0.95), ("p99_ms", 0.99)):
        out[name] = round(percentile(latencies, fraction), 1)
    out["latency_max_ms"] = round(max(latencies, default=0.0), 1)
    print(f"  p50 {out['p50_ms']} ms, p95 {out['p95_ms']} ms, p99 {out['p99_ms']} ms", flush=True)
    return out


def _rate(tracker: NotifiedTracker, ids: list[str], started: float) -> float:
    """Referrals fully notified per second, from the first send to the last notification."""
    done = [tracker.done_at[i] for i in ids if i in tracker.done_at]
    return len(done) / (max(done) - started) if done else 0.0


async def _warm_up(bootstrap: str, tracker: NotifiedTracker, tag: str) -> int:
    warm = submissions(200, f"bench-warm-{tag}")
    await produce_direct(bootstrap, warm)
    await tracker.wait_for([s.referral_id for s in warm], 120, "warm-up")
    return len(warm)


async def _notified(
    tracker: NotifiedTracker, ids: list[str], started: float, label: str, rate_key: str
) -> dict[str, Any]:
    """Waits for `ids` to be notified: whether all were, how many, and at what rate (under `rate_key`)."""
    prefix = label.split()[0]
    complete = await tracker.wait_for(ids, max(300.0, len(ids) / 20), label)
    out = {
        f"{prefix}_complete": complete,
        rate_key: _rate(tracker, ids, started),
        f"{prefix}_notified": tracker.count_done(ids),
    }
    print(f"  {label}: {out[f'{prefix}_notified']}/{len(ids)} notified, {out[rate_key]:.0f}/s", flush=True)
    return out


async def _http_run(stack: Stack, tracker: NotifiedTracker, settings: BenchSettings, tag: str) -> dict[str, Any]:
    http = submissions(settings.count, f"bench-http-{tag}")
    print(f"HTTP: posting {settings.count} referrals with {settings.http_concurrency} clients", flush=True)
    started = time.time()
    result = await post_http(stack.url("intake"), http, settings.http_concurrency)
    statuses = {str(k): v for k, v in sorted(result.statuses.items())}
    print(f"  accepted {result.accepted / result.seconds:.0f}/s {statuses}", flush=True)
    out = {"http_per_s": result.accepted / result.seconds, "http_statuses": statuses}
    return out | await _notified(tracker, [s.referral_id for s in http], started, "http path", "http_notified_per_s")


async def _latency_runs(bootstrap: str, tracker: NotifiedTracker, settings: BenchSettings, tag: str) -> dict[str, Any]:
    out: dict[str, Any] = {"sent": 0}
    for rate, prefix in ((settings.latency_rate, ""), (settings.latency_low_rate, "low_")):
        found = await _latency_run(bootstrap, tracker, rate, settings.latency_seconds, f"{tag}-{prefix}")
        out.update({prefix + key: value for key, value in found.items() if key != "sent"})
        out["sent"] += found["sent"]
    return out


PHASES = ("http", "latency")
"""Each on a fresh stack, as is the long (held) run: the embedded broker keeps everything in memory and
slows down as it fills (docs/benchmarks.md), so a phase run after another would measure the broker's
state, not the phase."""


async def _phase(phase: str, stack: Stack, settings: BenchSettings) -> dict[str, Any]:
    assert stack.broker is not None
    bootstrap, tag = stack.broker.bootstrap, uuid.uuid4().hex[:6]
    tracker = NotifiedTracker(bootstrap)
    await tracker.start()
    try:
        total = await _warm_up(bootstrap, tracker, tag)
        if phase == "http":
            out = await _http_run(stack, tracker, settings, tag)
            total += settings.count
        else:
            out = await _latency_runs(bootstrap, tracker, settings, tag)
            total += out.pop("sent")
    finally:
        await tracker.stop()
    out[f"{phase}_referrals"] = total
    return out


def _peak_rss(stack: Stack) -> dict[str, float]:
    return {
        service: round(peak_rss_mb(proc.process.pid), 1)
        for service, proc in stack.processes.items()
        if proc.process is not None
    }


def _held_phase(settings: BenchSettings) -> tuple[dict[str, Any], dict[str, float]]:
    """The long run (bench/held.py); its first step is the Kafka path's throughput on a fresh stack."""
    stack = Stack(workdir=settings.workdir / "stack-held", partitions=settings.partitions)
    print(f"Starting broker, mail sink, intake, triage and notify for the held run ({settings.held:,})", flush=True)
    stack.start()
    try:
        run = held_run(
            stack,
            settings.held,
            settings.count,
            settings.idle_seconds,
            settings.restart_timeout,
            uuid.uuid4().hex[:6],
            settings.held_max_seconds,
        )
    finally:
        stack.stop()
    first = run.steps[0]
    out = {
        "kafka_path_per_s": first.per_s,
        "kafka_complete": first.complete and first.sent == settings.count,
        "kafka_notified": first.notified,
        "kafka_referrals": 200 + first.sent,
        "held_referrals": run.referrals_held,
        **as_results(run),
    }
    return out, run.peak_rss_mb


def _idle_with_fetch_wait(settings: BenchSettings, fetch_wait_ms: int) -> dict[str, float]:
    """Idle CPU of a fresh stack (after a 200-referral warm-up) whose workers poll with `fetch_wait_ms`."""
    stack = Stack(
        workdir=settings.workdir / f"stack-idle-{fetch_wait_ms}",
        partitions=settings.partitions,
        extra_env={"SOSAFE_FETCH_MAX_WAIT_MS": str(fetch_wait_ms)},
    )
    print(f"Idle CPU with a {fetch_wait_ms} ms fetch wait: fresh stack", flush=True)
    stack.start()

    async def measure() -> dict[str, float]:
        assert stack.broker is not None
        tracker = NotifiedTracker(stack.broker.bootstrap)
        await tracker.start()
        try:
            await _warm_up(stack.broker.bootstrap, tracker, uuid.uuid4().hex[:6])
        finally:
            await tracker.stop()
        return await idle_cpu_pct(stack, settings.idle_seconds)

    try:
        found = asyncio.run(measure())
    finally:
        stack.stop()
    print(f"  idle CPU % of a core: {found}", flush=True)
    return found


def _system_runs(settings: BenchSettings) -> tuple[dict[str, Any], dict[str, dict[str, float]]]:
    """The held run and the other phases, each on its own stack; the peak RSS of each service in each."""
    runs, peak = _held_phase(settings)
    rss: dict[str, dict[str, float]] = {"held": peak}
    for phase in PHASES:
        stack = Stack(workdir=settings.workdir / f"stack-{phase}", partitions=settings.partitions)
        print(f"Starting broker, mail sink, intake, triage and notify for the {phase} run", flush=True)
        stack.start()
        try:
            runs.update(asyncio.run(_phase(phase, stack, settings)))
            rss[phase] = _peak_rss(stack)
        finally:
            stack.stop()
    runs["idle_cpu_pct"][f"fresh_fetch_wait_{settings.compare_fetch_wait_ms}ms"] = _idle_with_fetch_wait(
        settings, settings.compare_fetch_wait_ms
    )
    return runs, rss


def _baseline(
    kind: str, settings: BenchSettings, bodies: list[bytes], records_per_message: float = 4.0
) -> BaselineResult:
    print(
        f"Baseline {kind}: {len(bodies)} messages over three hops, {records_per_message:.2f} records each", flush=True
    )
    result = run_baseline(
        kind,
        settings.workdir / f"baseline-{kind}",
        bodies,
        settings.partitions,
        {},
        records_per_message=records_per_message,
    )
    print(f"  {result.per_s:.0f} msg/s", flush=True)
    return result


def run_rules_diff() -> int:
    """`python -m bench rules-diff`: the what-if replay figure alone (no broker), into the docs."""
    settings = BenchSettings()
    load = load_average()
    figures = rules_diff_bench(settings.workdir / "rules-diff")
    (settings.workdir / "rules-diff" / "results.json").write_text(json.dumps(figures, indent=2))
    write_rules_diff_docs(figures, settings.docs, today(), load)
    print(f"Wrote rules_diff_100k_s = {figures['rules_diff_100k_s']} s to {settings.docs}")
    return 0


def run_bench() -> int:
    settings = BenchSettings()
    shutil.rmtree(settings.workdir, ignore_errors=True)
    wall = time.perf_counter()
    load_at_start = load_average()
    rules_diff = rules_diff_bench(settings.workdir / "rules-diff")  # no broker: first, on a quiet machine
    print(f"Records per referral: {settings.records_count} referrals over HTTP on a fresh stack", flush=True)
    records = records_per_referral(settings.workdir / "stack-records", settings.records_count, settings.partitions)
    print(records.table(), flush=True)
    bodies = [s.body for s in submissions(settings.count, "bench-baseline")]
    raw = _baseline("raw", settings, bodies)
    raw_same = _baseline("raw-same", settings, bodies, records.per_referral)
    faust = _baseline("faust", settings, bodies)

    runs, rss_by_phase = _system_runs(settings)
    # The largest figure per service over the runs (the held run carries the most referrals).
    rss = {service: max(phase.get(service, 0.0) for phase in rss_by_phase.values()) for service in rss_by_phase["held"]}
    runs["referrals_total"] = max(runs[f"{phase}_referrals"] for phase in ("held", *PHASES))

    results: dict[str, Any] = {
        "date": today(),
        "machine": machine(),
        "kafka_path_per_s": round(runs["kafka_path_per_s"], 1),
        "http_per_s": round(runs["http_per_s"], 1),
        "faust_baseline_per_s": round(faust.per_s, 1),
        "raw_baseline_per_s": round(raw.per_s, 1),
        "raw_same_records_per_s": round(raw_same.per_s, 1),
        "ratio_to_faust": round(runs["kafka_path_per_s"] / faust.per_s, 3),
        "ratio_to_raw": round(runs["kafka_path_per_s"] / raw.per_s, 4),
        "ratio_to_raw_same_records": round(runs["kafka_path_per_s"] / raw_same.per_s, 3),
        "p50_ms": runs["p50_ms"],
        "p95_ms": runs["p95_ms"],
        "p99_ms": runs["p99_ms"],
        "rss_mb": rss,
        "rss_mb_at": runs["rss_mb_at"],
        "restart_ready_s": runs["restart_ready_s"],
        "referrals_held": runs["referrals_held"],
        "records_per_referral": round(records.per_referral, 2),
        "rules_diff_100k_s": rules_diff["rules_diff_100k_s"],
        "extra": {
            **rules_diff,
            **runs,
            "count": settings.count,
            "held": settings.held,
            "records_count": settings.records_count,
            "records_by_topic": records.by_topic,
            "partitions": settings.partitions,
            "latency_rate": settings.latency_rate,
            "latency_low_rate": settings.latency_low_rate,
            "latency_seconds": settings.latency_seconds,
            "idle_seconds": settings.idle_seconds,
            "baseline_rss_mb": {"raw": raw.rss_mb, "raw-same": raw_same.rss_mb, "faust": faust.rss_mb},
            "rss_mb_by_run": rss_by_phase,
            "load_average_at_start": load_at_start,
            "load_average_at_end": load_average(),
            "wall_s": time.perf_counter() - wall,
        },
    }
    (settings.workdir / "results.json").write_text(json.dumps(results, indent=2, default=str))
    write_docs(results, settings.docs)
    write_rules_diff_docs(rules_diff, settings.docs, results["date"], load_at_start)
    print(
        f"\nKafka path {results['kafka_path_per_s']:.0f}/s; HTTP accepted {results['http_per_s']:.0f}/s; "
        f"bare Faust {results['faust_baseline_per_s']:.0f}/s; raw aiokafka {results['raw_baseline_per_s']:.0f}/s; "
        f"raw aiokafka at {results['records_per_referral']} records each {results['raw_same_records_per_s']:.0f}/s"
    )
    print(
        f"Ratio kafka path / faust baseline: {results['ratio_to_faust']:.1%}; "
        f"/ raw baseline: {results['ratio_to_raw']:.2%}; / raw same records: {results['ratio_to_raw_same_records']:.1%}"
    )
    print(
        f"Latency at {settings.latency_rate:.0f}/s: p50 {results['p50_ms']} ms, p95 {results['p95_ms']} ms, "
        f"p99 {results['p99_ms']} ms; RSS by referrals held {results['rss_mb_at']}; triage restart "
        f"{results['restart_ready_s']} s holding {results['referrals_held']:,}"
    )
    print(f"Wrote {settings.docs / 'benchmarks.md'} and {settings.docs / 'benchmarks.json'}")
    complete = all(runs[k] for k in ("kafka_complete", "http_complete", "latency_complete", "low_latency_complete"))
    held_complete = all(step["complete"] for step in runs["held_steps"]) and runs["restart_ready_s"] is not None
    return 0 if complete and held_complete else 1
