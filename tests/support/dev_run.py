"""`sosafe dev` as a real child process on free ports, and the processes it left behind, found in /proc.

A process of the run is recognised by where its output goes: `sosafe dev`'s stderr, the broker's log and
each worker's log are all files under the run's work dir. (Its environment or command line would not do:
Faust rewrites the process title with `setproctitle` where that is installed, which overwrites both.)"""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from services.common.broker import free_port
from services.common.settings import REPO_ROOT

BANNER_END = "Press Ctrl-C to stop everything."


@dataclass
class DevRun:
    """One `sosafe dev`; every process it starts writes its output under `workdir`."""

    process: subprocess.Popen[bytes]
    workdir: Path
    ports: dict[str, int]
    stderr_path: Path
    banner: str = ""

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def read_banner(self, timeout: float = 90.0) -> str:
        """Stdout up to the end of the banner; AssertionError if `sosafe dev` exits or is too slow."""
        assert self.process.stdout is not None
        fd, seen = self.process.stdout.fileno(), b""
        deadline = time.monotonic() + timeout
        while BANNER_END.encode() not in seen:
            left = deadline - time.monotonic()
            assert left > 0, f"no banner after {timeout:.0f} s: {seen.decode()!r} {self.stderr}"
            if select.select([fd], [], [], min(left, 1.0))[0]:
                chunk = os.read(fd, 65536)
                assert chunk, f"sosafe dev exited before its banner: {seen.decode()!r} {self.stderr}"
                seen += chunk
        self.banner = seen.decode()
        return self.banner

    def children(self) -> list[int]:
        """Its live descendants (and itself while it runs)."""
        return live_processes_writing_under(self.workdir)

    def worker_pid(self, service: str) -> int:
        log = f"{service}.log"
        pids = [pid for pid in self.children() if any(Path(out).name == log for out in outputs(pid))]
        assert len(pids) == 1, f"expected one {service} worker, found {pids}"
        return pids[0]

    def stop(self) -> None:
        """Whatever the test did, leave nothing running."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)
        for pid in self.children():
            os.kill(pid, 9)


def start_dev(workdir: Path) -> DevRun:
    """`sosafe dev --partitions 1` with every port from the environment, as a newcomer would set them."""
    ports = {name: free_port() for name in ("intake", "triage", "notify", "smtp")}
    env = {**os.environ, **{f"SOSAFE_{n.upper()}_PORT": str(p) for n, p in ports.items()}}
    stderr_path = workdir / "dev-stderr.txt"
    workdir.mkdir(parents=True, exist_ok=True)
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.cli.main", "dev", "--partitions", "1", "--workdir", str(workdir / "dev")],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
    return DevRun(process, workdir, ports, stderr_path)


def read_proc(pid: int, name: str) -> bytes:
    try:
        return (Path("/proc") / str(pid) / name).read_bytes()
    except OSError:  # gone meanwhile, or not ours to read
        return b""


def outputs(pid: int) -> list[str]:
    """Where the process's stdout and stderr go."""
    found = []
    for fd in (1, 2):
        with contextlib.suppress(OSError):  # gone meanwhile, or not ours to read
            found.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
    return found


def live_processes_writing_under(workdir: Path) -> list[int]:
    """Pids of processes, zombies left out, whose stdout or stderr is a file under `workdir`."""
    prefix = str(workdir.resolve()) + os.sep
    found = []
    for path in Path("/proc").iterdir():
        if not path.name.isdigit():
            continue
        pid = int(path.name)
        if not any(out.startswith(prefix) for out in outputs(pid)):
            continue
        stat = read_proc(pid, "stat")
        if stat and stat.rsplit(b")", 1)[-1].split()[0] != b"Z":
            found.append(pid)
    return found


def wait_until_none_left(run: DevRun, timeout: float = 15.0) -> list[int]:
    """The processes of `run` still alive after `timeout` seconds (empty as soon as all are gone)."""
    deadline = time.monotonic() + timeout
    while (left := run.children()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left
