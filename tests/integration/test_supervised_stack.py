"""A Stack started with `supervise=True` restarts a worker that dies, as `sosafe dev` does."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

import pytest

from services.cli.stack import Stack

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def wait_for(condition: str, check: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {condition}")


def test_a_supervised_stack_restarts_a_killed_worker_on_its_port_and_counts_it(tmp_path) -> None:
    """SIGKILL from outside: the worker is started again with the same port and log, becomes ready, and
    `restarts` says 1; a worker stopped through its ServiceProcess stays stopped."""
    said: list[str] = []
    stack = Stack(workdir=tmp_path, services=("intake",), partitions=1, supervise=True, report=said.append)
    stack.start()
    try:
        intake = stack.processes["intake"]
        assert intake.process is not None
        first_pid, port = intake.process.pid, intake.port
        os.kill(first_pid, signal.SIGKILL)
        wait_for("a restart", lambda: stack.restarts["intake"] == 1, 10)
        assert stack.processes["intake"] is intake and intake.port == port
        intake.wait_ready(60)
        assert intake.process is not None and intake.process.pid != first_pid
        assert said == [
            "intake exited with signal SIGKILL; restarting it in 1 s",
            "intake restarted (1 restart(s) so far)",
        ]
        assert (tmp_path / "logs" / "intake.log").read_bytes().count(b'"event": "worker_starting"') == 2

        intake.kill()
        time.sleep(1.5)
        assert not intake.alive() and stack.restarts["intake"] == 1
    finally:
        stack.stop()
