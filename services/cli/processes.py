"""Starting and stopping service worker processes (used by `sosafe dev` and the integration tests)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from services.common.child_process import spawn


@dataclass
class ServiceProcess:
    """One `sosafe worker <service>` child with its own environment; it dies with this process."""

    service: str
    env: dict[str, str]
    port: int
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = spawn(
            [sys.executable, "-m", "services.cli.main", "worker", self.service],
            env={**os.environ, **self.env},
            stdout=self._log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )

    def restart(self) -> None:
        """Start again after the worker exited, with the same environment, port and log file."""
        self._close_log()
        self.start()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def exit_code(self) -> int | None:
        """How the worker ended on its own; None while it runs, and after `stop()` or `kill()`."""
        proc = self.process
        return None if proc is None else proc.poll()

    def wait_ready(self, timeout: float = 60.0, path: str = "/readyz") -> None:
        """Block until the service answers 200 on `path`; RuntimeError with the reason otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.service} worker exited during start-up (see {self.log_path})")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(  # noqa: S310 - our own loopback URL
                    self.base_url + path, timeout=1
                ) as response,
            ):
                if response.status == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"{self.service} was not ready on {self.base_url}{path} within {timeout:.0f} s")

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM, then SIGKILL after `timeout` (a crash-looping Faust worker may never finish)."""
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout)
        self._close_log()

    def kill(self) -> None:
        """SIGKILL at once: the crash the recovery tests need."""
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None
