"""Child processes that die with the process that started them, however it ends.

Each child asks Linux for a parent-death signal (`prctl(PR_SET_PDEATHSIG, SIGKILL)`) between fork and
exec, so the embedded broker and the workers go when `sosafe dev` (or a test run) is killed, loses its
terminal or crashes before its clean-up. SIGKILL rather than SIGTERM: the workers are crash-safe by design
(offsets are committed only after their step), and a polite signal could leave a worker hanging on a broker
that died with it.

Linux sends that signal when the *thread* that forked the child exits, not the process. Children are
therefore always forked by one daemon thread that lives as long as the process, whichever thread asks.
"""

from __future__ import annotations

import ctypes
import functools
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

PR_SET_PDEATHSIG = 1

_Request = tuple[Callable[[], subprocess.Popen[bytes]], Future[subprocess.Popen[bytes]]]


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _die_with_parent(parent_pid: int) -> Callable[[], None]:
    """The function run in the child before exec. libc is loaded here, in the parent, not after fork."""
    prctl = _libc().prctl if sys.platform == "linux" else None

    def in_child() -> None:
        if prctl is None:
            return
        if prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            os._exit(127)
        if os.getppid() != parent_pid:  # the parent died before the request took effect
            os._exit(127)

    return in_child


class _Spawner:
    """One daemon thread that forks every child, so a child's parent-death signal fires only with the
    process."""

    def __init__(self) -> None:
        self._requests: queue.SimpleQueue[_Request] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name="child-spawner", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            start, result = self._requests.get()
            try:
                result.set_result(start())
            except BaseException as exc:  # handed back to the caller, who raises it
                result.set_exception(exc)

    def spawn(self, start: Callable[[], subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
        result: Future[subprocess.Popen[bytes]] = Future()
        self._requests.put((start, result))
        return result.result()


@functools.cache
def _spawner() -> _Spawner:
    return _Spawner()


def spawn(args: Sequence[str], **popen: Any) -> subprocess.Popen[bytes]:
    """`subprocess.Popen(args, **popen)` in its own session, killed by the kernel if this process dies."""
    in_child = _die_with_parent(os.getpid())
    return _spawner().spawn(
        lambda: subprocess.Popen(args, preexec_fn=in_child, start_new_session=True, **popen)  # noqa: S603 - our own binaries
    )
