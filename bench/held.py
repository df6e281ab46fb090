"""The long run of `make bench`: one stack takes referrals in steps until it holds `held` of them.

After each step (produced straight onto `referrals.submitted`, then waited for until every one is
notified) it records the step's rate, each process's resident memory and the CPU each process spent per
referral of the step. So the first step is the Kafka path's throughput on a fresh stack, and the steps
after it show what holding more referrals costs. Before the first step and after the last, the stack sits
idle for a while and each process's CPU use is measured (what polling costs, and whether it grows with what
is held). Last, triage is stopped cleanly and started again: the seconds until its `/readyz` answers 200.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from bench.load import NotifiedTracker, Submission, produce_direct, submissions
from bench.procstat import cpu_s, load_average, peak_rss_mb, rss_mb
from services.cli.stack import Stack


@dataclass
class Step:
    """One step of the long run: referrals produced, how many were notified, and what it cost."""

    held: int
    """Referrals submitted in the steps so far (the warm-up not counted)."""
    sent: int
    notified: int
    complete: bool
    per_s: float
    seconds: float
    rss_mb: dict[str, float]
    cpu_ms_per_referral: dict[str, float]
    """CPU seconds each process spent during the step over the referrals notified in it, in ms."""
    load_average: tuple[float, float, float]


@dataclass
class HeldRun:
    steps: list[Step] = field(default_factory=list)
    idle_cpu_pct: dict[str, dict[str, float]] = field(default_factory=dict)
    restart_ready_s: float | None = None
    restart_error: str | None = None
    referrals_held: int = 0
    peak_rss_mb: dict[str, float] = field(default_factory=dict)
    """Each worker's peak RSS over the steps (read before triage's restart)."""
    stopped_early: str | None = None
    """Why the run stopped before `held` with every step complete (its time allowance)."""


def pids(stack: Stack) -> dict[str, int]:
    """The live process of each worker and of the broker."""
    found = {name: proc.process.pid for name, proc in stack.processes.items() if proc.process is not None}
    if stack.broker is not None and stack.broker.process is not None:
        found["broker"] = stack.broker.process.pid
    return found


def cpu_by_process(stack: Stack) -> dict[str, float]:
    return {name: cpu_s(pid) for name, pid in pids(stack).items()}


async def idle_cpu_pct(stack: Stack, seconds: float) -> dict[str, float]:
    """Each process's CPU use, in percent of one core, over `seconds` with no referral coming in."""
    before, started = cpu_by_process(stack), time.monotonic()
    await asyncio.sleep(seconds)
    after, elapsed = cpu_by_process(stack), time.monotonic() - started
    return {name: round(100 * (after[name] - before[name]) / elapsed, 1) for name in before}


async def _step(stack: Stack, tracker: NotifiedTracker, batch: list[Submission], held: int) -> Step:
    assert stack.broker is not None
    print(f"Held run: producing {len(batch)} submissions (to {held:,} held)", flush=True)
    cpu_before, started, clock = cpu_by_process(stack), time.time(), time.monotonic()
    await produce_direct(stack.broker.bootstrap, batch)
    ids = [s.referral_id for s in batch]
    complete = await tracker.wait_for(ids, max(300.0, len(ids) / 20), f"held {held:,}")
    seconds = time.monotonic() - clock
    cpu_after = cpu_by_process(stack)
    done = [tracker.done_at[i] for i in ids if i in tracker.done_at]
    step = Step(
        held=held,
        sent=len(batch),
        notified=len(done),
        complete=complete,
        per_s=len(done) / (max(done) - started) if done else 0.0,
        seconds=round(seconds, 1),
        rss_mb={name: round(rss_mb(pid), 1) for name, pid in pids(stack).items()},
        # Per referral notified: in an incomplete step the rest were only part-way through.
        cpu_ms_per_referral={
            name: round(1000 * (cpu_after[name] - cpu_before[name]) / max(1, len(done)), 2) for name in cpu_before
        },
        load_average=load_average(),
    )
    print(
        f"  {step.notified}/{step.sent} notified, {step.per_s:.0f}/s; RSS {step.rss_mb} MB; "
        f"CPU ms/referral {step.cpu_ms_per_referral}; load {step.load_average}",
        flush=True,
    )
    return step


async def _steps(
    stack: Stack, held: int, step_size: int, idle_s: float, tag: str, warm_up: int, max_s: float | None
) -> HeldRun:
    assert stack.broker is not None
    run = HeldRun(referrals_held=warm_up)
    deadline = None if max_s is None else time.monotonic() + max_s
    tracker = NotifiedTracker(stack.broker.bootstrap)
    await tracker.start()
    try:
        warm = submissions(warm_up, f"bench-warm-{tag}")
        await produce_direct(stack.broker.bootstrap, warm)
        await tracker.wait_for([s.referral_id for s in warm], 120, "warm-up")
        print(f"Held run: {idle_s:.0f} s idle on the fresh stack", flush=True)
        run.idle_cpu_pct["fresh"] = await idle_cpu_pct(stack, idle_s)
        print(f"  idle CPU % of a core: {run.idle_cpu_pct['fresh']}", flush=True)
        sent = 0
        while sent < held:
            size = min(step_size, held - sent)
            batch = submissions(size, f"bench-held-{tag}-{sent}")
            sent += size
            step = await _step(stack, tracker, batch, sent)
            run.steps.append(step)
            run.referrals_held += step.sent
            if not step.complete:
                print("  step incomplete: the long run stops here", flush=True)
                break
            if deadline is not None and sent < held and time.monotonic() > deadline:
                run.stopped_early = f"stopped at {sent:,} of {held:,}: the {max_s:.0f} s allowed had passed"
                print(f"  {run.stopped_early}", flush=True)
                break
    finally:
        await tracker.stop()
    if run.steps and not run.steps[-1].complete:
        print("Held run: no idle measurement holding them: the last step's backlog is still being worked", flush=True)
        return run
    print(f"Held run: {idle_s:.0f} s idle holding {run.referrals_held:,} referrals", flush=True)
    run.idle_cpu_pct["held"] = await idle_cpu_pct(stack, idle_s)
    print(f"  idle CPU % of a core: {run.idle_cpu_pct['held']}", flush=True)
    return run


def restart_triage(stack: Stack, timeout: float) -> float:
    """Stop triage cleanly, start it again, and return the seconds until its `/readyz` answers 200."""
    stack.processes["triage"].stop()
    started = time.monotonic()
    proc = stack.start_service("triage", wait=False)
    proc.wait_ready(timeout=timeout)
    return time.monotonic() - started


def held_run(
    stack: Stack,
    held: int,
    step_size: int,
    idle_s: float,
    restart_timeout: float,
    tag: str,
    max_s: float | None = None,
) -> HeldRun:
    """The long run on a started stack (see the module's docstring); the stack is left running. With `max_s`,
    no step starts after that many seconds of steps (the figures then stop short of `held`, and say so)."""
    run = asyncio.run(_steps(stack, held, step_size, idle_s, tag, warm_up=200, max_s=max_s))
    run.peak_rss_mb = {name: round(peak_rss_mb(pid), 1) for name, pid in pids(stack).items() if name != "broker"}
    print(f"Held run: restarting triage holding {run.referrals_held:,} referrals", flush=True)
    try:
        run.restart_ready_s = round(restart_triage(stack, restart_timeout), 1)
        print(f"  triage ready after {run.restart_ready_s} s", flush=True)
    except RuntimeError as exc:
        run.restart_error = str(exc)
        print(f"  restart failed: {exc}", flush=True)
    return run


def as_results(run: HeldRun) -> dict[str, Any]:
    """The long run's figures in the shape `benchmarks.json` keeps (counts as string keys)."""
    workers = ("intake", "triage", "notify")
    return {
        "rss_mb_at": {str(s.held): {k: v for k, v in s.rss_mb.items() if k in workers} for s in run.steps},
        "broker_rss_mb_at": {str(s.held): s.rss_mb.get("broker", 0.0) for s in run.steps},
        "held_steps": [s.__dict__ for s in run.steps],
        "idle_cpu_pct": run.idle_cpu_pct,
        "restart_ready_s": run.restart_ready_s,
        "restart_error": run.restart_error,
        "referrals_held": run.referrals_held,
        "held_stopped_early": run.stopped_early,
    }
