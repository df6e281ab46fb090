"""`sosafe dev` as a developer runs it: on the ports the environment names, leaving nothing behind however
it ends, and restarting a worker that dies."""

from __future__ import annotations

import os
import signal
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.dev_run import DevRun, start_dev, wait_until_none_left

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[DevRun]:
    run = start_dev(tmp_path)
    try:
        run.read_banner()
        yield run
    finally:
        run.stop()


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except OSError:
        return 0


def wait_for(condition: str, check: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {condition}")


def test_dev_serves_on_the_ports_the_environment_names(dev: DevRun) -> None:
    """SOSAFE_INTAKE_PORT, _TRIAGE_PORT, _NOTIFY_PORT and _SMTP_PORT are used, and the banner says so."""
    for service in ("intake", "triage", "notify"):
        url = f"http://127.0.0.1:{dev.ports[service]}"
        assert status_of(f"{url}/healthz") == 200, f"{service} does not answer on {url}"
        assert f"{service}  {url}" in dev.banner
    assert f"smtp://127.0.0.1:{dev.ports['smtp']} " in dev.banner
    assert f"curl -s -X POST http://127.0.0.1:{dev.ports['intake']}/v1/referrals" in dev.banner
    assert f"Console: http://127.0.0.1:{dev.ports['triage']}/" in dev.banner
    assert ":8001" not in dev.banner
    assert "The embedded broker is UNAUTHENTICATED" in dev.banner and "For development only." in dev.banner


def test_dev_killed_with_sigkill_leaves_no_process_behind(dev: DevRun) -> None:
    """The broker and the workers die with `sosafe dev` even though it never reached its clean-up."""
    assert len(dev.children()) == 5, "expected sosafe dev, the broker and three workers"
    dev.process.send_signal(signal.SIGKILL)
    dev.process.wait(10)
    assert wait_until_none_left(dev) == []


def test_dev_stops_everything_on_sighup_and_exits_cleanly(dev: DevRun) -> None:
    """A closed terminal (SIGHUP) stops every process as Ctrl-C does, with exit code 0."""
    dev.process.send_signal(signal.SIGHUP)
    assert dev.process.wait(60) == 0, dev.stderr
    assert wait_until_none_left(dev, timeout=5) == []
    assert "Traceback" not in dev.stderr


def test_dev_with_a_closed_stdout_still_stops_everything_on_ctrl_c(dev: DevRun) -> None:
    """`make run | tee log`, then Ctrl-C: tee is gone, so writing "Stopping..." fails; the clean-up still runs."""
    assert dev.process.stdout is not None
    dev.process.stdout.close()
    dev.process.send_signal(signal.SIGINT)
    assert dev.process.wait(60) == 0, dev.stderr
    assert wait_until_none_left(dev, timeout=5) == []
    assert "Traceback" not in dev.stderr and "Exception ignored" not in dev.stderr, dev.stderr


def test_dev_restarts_a_worker_killed_with_sigkill(dev: DevRun) -> None:
    """A worker that dies is started again on the same port, says so on stderr, and becomes ready."""
    killed = dev.worker_pid("triage")
    ready = f"http://127.0.0.1:{dev.ports['triage']}/readyz"
    wait_for("triage ready", lambda: status_of(ready) == 200, 60)
    os.kill(killed, signal.SIGKILL)
    wait_for("the restart on stderr", lambda: "triage restarted (1 restart(s) so far)" in dev.stderr, 30)
    assert "triage exited with signal SIGKILL; restarting it in 1 s" in dev.stderr
    wait_for("triage ready again", lambda: status_of(ready) == 200 and dev.worker_pid("triage") != killed, 60)
    dev.process.send_signal(signal.SIGTERM)
    assert dev.process.wait(60) == 0, dev.stderr
