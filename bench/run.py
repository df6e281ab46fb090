"""`make bench` (`make bench`): throughput, latency and memory of the whole system on the embedded broker.

Settings (environment, prefix `SOSAFE_BENCH_`): `COUNT` referrals per throughput run (default 20,000),
`HTTP_CONCURRENCY` clients (16), `LATENCY_RATE` per second (200) and
`LATENCY_LOW_RATE` (50) for `LATENCY_SECONDS` (30) each, `PARTITIONS`
per topic (4), `RECORDS_COUNT` HTTP referrals whose records are counted (500). Method and figures:
docs/benchmarks.md; summary: docs/benchmarks.json.
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

from bench.baselines import BaselineResult, peak_rss_mb, run_baseline
from bench.load import NotifiedTracker, Submission, post_http, produce_direct, submissions
from bench.records import records_per_referral
from bench.report import machine, percentile, today, write_docs
from services.cli.stack import Stack
from services.common.settings import REPO_ROOT


class BenchSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SOSAFE_BENCH_", extra="ignore", frozen=True)

    count: int = Field(default=20_000, ge=100)
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


async def _kafka_run(bootstrap: str, tracker: NotifiedTracker, settings: BenchSettings, tag: str) -> dict[str, Any]:
    kafka = submissions(settings.count, f"bench-kafka-{tag}")
    print(f"Kafka path: producing {settings.count} bare submissions onto referrals.submitted", flush=True)
    started = time.time()
    await produce_direct(bootstrap, kafka)
    return await _notified(tracker, [s.referral_id for s in kafka], started, "kafka path", "kafka_path_per_s")


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


PHASES = ("kafka", "http", "latency")
"""Each on a fresh stack: the embedded broker keeps everything in memory and slows down as it fills
(docs/benchmarks.md), so a phase run after another would measure the broker's state, not the phase."""


async def _phase(phase: str, stack: Stack, settings: BenchSettings) -> dict[str, Any]:
    assert stack.broker is not None
    bootstrap, tag = stack.broker.bootstrap, uuid.uuid4().hex[:6]
    tracker = NotifiedTracker(bootstrap)
    await tracker.start()
    try:
        total = await _warm_up(bootstrap, tracker, tag)
        if phase == "kafka":
            out = await _kafka_run(bootstrap, tracker, settings, tag)
            total += settings.count
        elif phase == "http":
            out = await _http_run(stack, tracker, settings, tag)
            total += settings.count
        else:
            out = await _latency_runs(bootstrap, tracker, settings, tag)
            total += out.pop("sent")
    finally:
        await tracker.stop()
    out[f"{phase}_referrals"] = total
    return out


def _system_runs(settings: BenchSettings) -> tuple[dict[str, Any], dict[str, dict[str, float]]]:
    """The three phases, each on its own stack; the peak RSS of each service in each phase."""
    runs: dict[str, Any] = {}
    rss: dict[str, dict[str, float]] = {}
    for phase in PHASES:
        stack = Stack(workdir=settings.workdir / f"stack-{phase}", partitions=settings.partitions)
        print(f"Starting broker, mail sink, intake, triage and notify for the {phase} run", flush=True)
        stack.start()
        try:
            runs.update(asyncio.run(_phase(phase, stack, settings)))
            rss[phase] = {
                service: round(peak_rss_mb(proc.process.pid), 1)
                for service, proc in stack.processes.items()
                if proc.process is not None
            }
        finally:
            stack.stop()
    return runs, rss


def _baseline(kind: str, settings: BenchSettings, bodies: list[bytes]) -> BaselineResult:
    print(f"Baseline {kind}: {len(bodies)} messages over three hops", flush=True)
    result = run_baseline(kind, settings.workdir / f"baseline-{kind}", bodies, settings.partitions, {})
    print(f"  {result.per_s:.0f} msg/s", flush=True)
    return result


def run_bench() -> int:
    settings = BenchSettings()
    shutil.rmtree(settings.workdir, ignore_errors=True)
    wall = time.perf_counter()
    bodies = [s.body for s in submissions(settings.count, "bench-baseline")]
    raw = _baseline("raw", settings, bodies)
    faust = _baseline("faust", settings, bodies)

    runs, rss_by_phase = _system_runs(settings)
    print(f"Records per referral: {settings.records_count} referrals over HTTP on a fresh stack", flush=True)
    records = records_per_referral(settings.workdir / "stack-records", settings.records_count, settings.partitions)
    print(records.table(), flush=True)
    # The largest run's figure per service (the Kafka and HTTP runs each carry COUNT referrals).
    rss = {
        service: max(phase.get(service, 0.0) for phase in rss_by_phase.values()) for service in rss_by_phase["kafka"]
    }
    runs["referrals_total"] = max(runs[f"{phase}_referrals"] for phase in PHASES)

    results: dict[str, Any] = {
        "date": today(),
        "machine": machine(),
        "kafka_path_per_s": round(runs["kafka_path_per_s"], 1),
        "http_per_s": round(runs["http_per_s"], 1),
        "faust_baseline_per_s": round(faust.per_s, 1),
        "raw_baseline_per_s": round(raw.per_s, 1),
        "ratio_to_faust": round(runs["kafka_path_per_s"] / faust.per_s, 3),
        "ratio_to_raw": round(runs["kafka_path_per_s"] / raw.per_s, 4),
        "p50_ms": runs["p50_ms"],
        "p95_ms": runs["p95_ms"],
        "p99_ms": runs["p99_ms"],
        "rss_mb": rss,
        "records_per_referral": round(records.per_referral, 2),
        "extra": {
            **runs,
            "count": settings.count,
            "records_count": settings.records_count,
            "records_by_topic": records.by_topic,
            "partitions": settings.partitions,
            "latency_rate": settings.latency_rate,
            "latency_low_rate": settings.latency_low_rate,
            "latency_seconds": settings.latency_seconds,
            "baseline_rss_mb": {"raw": raw.rss_mb, "faust": faust.rss_mb},
            "rss_mb_by_run": rss_by_phase,
            "wall_s": time.perf_counter() - wall,
        },
    }
    write_docs(results, settings.docs)
    (settings.workdir / "results.json").write_text(json.dumps(results, indent=2, default=str))
    print(
        f"\nKafka path {results['kafka_path_per_s']:.0f}/s; HTTP accepted {results['http_per_s']:.0f}/s; "
        f"bare Faust {results['faust_baseline_per_s']:.0f}/s; raw aiokafka {results['raw_baseline_per_s']:.0f}/s"
    )
    print(
        f"Ratio kafka path / faust baseline: {results['ratio_to_faust']:.1%}; "
        f"kafka path / raw baseline: {results['ratio_to_raw']:.2%}"
    )
    print(
        f"Latency at {settings.latency_rate:.0f}/s: p50 {results['p50_ms']} ms, p95 {results['p95_ms']} ms, "
        f"p99 {results['p99_ms']} ms; peak RSS {rss} MB after {runs['referrals_total']} referrals"
    )
    print(f"Wrote {settings.docs / 'benchmarks.md'} and {settings.docs / 'benchmarks.json'}")
    complete = all(runs[k] for k in ("kafka_complete", "http_complete", "latency_complete", "low_latency_complete"))
    return 0 if complete else 1
