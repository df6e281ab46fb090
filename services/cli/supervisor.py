"""Restarting workers that exit, with a back-off, instead of stopping everything.

A worker exits non-zero when the broker does not confirm a send, so that its input is redelivered; the
supervisor starts it again, 1 s after a first exit, doubling up to 30 s while it keeps exiting, and back to
1 s once it has run for a minute. Used by `sosafe dev` and by Stacks that ask for it (`supervise=True`).
"""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol


class Supervised(Protocol):
    """A child process the supervisor can watch and start again (a `ServiceProcess`)."""

    def exit_code(self) -> int | None:
        """How it ended on its own; None while it runs or when it was stopped on purpose."""

    def restart(self) -> None:
        """Start it again as it was started before."""


@dataclass(frozen=True)
class RestartPolicy:
    first_delay_s: float = 1.0
    max_delay_s: float = 30.0
    stable_after_s: float = 60.0
    """A worker that ran this long before exiting starts again after `first_delay_s`."""

    def delay(self, consecutive_exits: int) -> float:
        """Seconds to wait before a restart, after the `consecutive_exits`-th exit in a row (from 1)."""
        return float(min(self.first_delay_s * 2 ** max(consecutive_exits - 1, 0), self.max_delay_s))


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"code {code}"


@dataclass
class _Watch:
    process: Supervised
    started_at: float
    consecutive_exits: int = 0
    restart_at: float | None = None


class Supervisor:
    """Watches a mapping of named workers (read afresh on every check, so replaced workers are seen)."""

    def __init__(
        self,
        processes: Mapping[str, Supervised],
        policy: RestartPolicy | None = None,
        report: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.processes = processes
        self.policy = policy or RestartPolicy()
        self.restarts: Counter[str] = Counter()
        self._report = report or (lambda line: None)
        self._clock = clock
        self._watches: dict[str, _Watch] = {}
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> None:
        """Note the workers that exited and restart those whose back-off has passed."""
        now = self._clock()
        for name, process in list(self.processes.items()):
            watch = self._watches.get(name)
            if watch is None or watch.process is not process:  # new, or replaced by hand
                watch = self._watches[name] = _Watch(process, started_at=now)
            if watch.restart_at is None:
                code = process.exit_code()
                if code is not None:
                    self._exited(name, watch, now, f"exited with {describe_exit(code)}")
            elif now >= watch.restart_at:
                self._restart(name, watch, now)

    def _exited(self, name: str, watch: _Watch, now: float, what_happened: str) -> None:
        if now - watch.started_at >= self.policy.stable_after_s:
            watch.consecutive_exits = 0
        watch.consecutive_exits += 1
        delay = self.policy.delay(watch.consecutive_exits)
        watch.restart_at = now + delay
        self._report(f"{name} {what_happened}; restarting it in {delay:g} s")

    def _restart(self, name: str, watch: _Watch, now: float) -> None:
        watch.restart_at = None
        try:
            watch.process.restart()
        except OSError as exc:
            self._exited(name, watch, now, f"could not be started again ({exc.strerror})")
            return
        watch.started_at = now
        self.restarts[name] += 1
        self._report(f"{name} restarted ({self.restarts[name]} restart(s) so far)")

    def start(self, interval_s: float = 0.2) -> None:
        """Check every `interval_s` on a thread of its own until `stop()`."""
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, args=(interval_s,), name="supervisor", daemon=True)
        self._thread.start()

    def _run(self, interval_s: float) -> None:
        while not self._stopping.wait(interval_s):
            self.check()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
