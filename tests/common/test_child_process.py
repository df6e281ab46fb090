"""Children started through `spawn` outlive the thread that asked for them, but not their process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from services.common.settings import REPO_ROOT

PARENT = """
import sys, threading, time
from services.common.child_process import spawn
children = []
asker = threading.Thread(target=lambda: children.append(spawn(["sleep", "120"])))
asker.start()
asker.join()
print(children[0].pid, flush=True)
time.sleep(120)
"""


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except OSError:
        return False


def wait_until_gone(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not alive(pid)


def test_a_child_outlives_the_thread_that_asked_for_it_and_dies_with_its_process() -> None:
    """Spawned from a short-lived thread, the child still runs after that thread ended; SIGKILL of the
    parent process takes the child with it."""
    parent = subprocess.Popen([sys.executable, "-c", PARENT], cwd=REPO_ROOT, stdout=subprocess.PIPE)
    child = 0
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        time.sleep(0.5)
        assert alive(child), "the child died with the thread that asked for it"
        parent.send_signal(signal.SIGKILL)
        parent.wait(5)
        assert wait_until_gone(child), "the child outlived its parent"
    finally:
        parent.kill()
        parent.wait(5)
        if child and alive(child):
            os.kill(child, signal.SIGKILL)
