"""`sosafe dev`: the whole system on the embedded broker, on one machine, until Ctrl-C, SIGTERM or SIGHUP.

The ports are the services' own settings (`SOSAFE_INTAKE_PORT`, `SOSAFE_TRIAGE_PORT`, `SOSAFE_NOTIFY_PORT`,
`SOSAFE_SMTP_PORT` for the mail sink). A worker that exits is restarted with a back-off; the children die
with this process even when it is killed before its clean-up (see `services.common.child_process`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TextIO

from pydantic import ValidationError

from schemas.vocabulary import Agency, Service
from services.cli.stack import Stack
from services.cli.worker import SERVICES, service_settings
from services.common.broker import BrokerUnavailable
from services.common.settings import REPO_ROOT

DEFAULT_WORKDIR = REPO_ROOT / "var" / "dev"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def say(line: str, stream: TextIO | None = None) -> None:
    """Print a line, even when nobody reads any more (`make run | tee log` after Ctrl-C, a closed
    terminal): the write is dropped and the stream pointed at /dev/null, so the clean-up still runs and the
    interpreter's last flush does not fail either."""
    stream = stream or sys.stdout
    try:
        print(line, file=stream, flush=True)
    except OSError:
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())
            os.close(devnull)


def complain(line: str) -> None:
    say(f"sosafe dev: {line}", sys.stderr)


UNAUTHENTICATED_BROKER = (
    "The embedded broker is UNAUTHENTICATED (no TLS, no SASL, no ACLs; bound to 127.0.0.1): anyone on this "
    "machine can read and write every topic. For development only."
)


def banner(stack: Stack) -> str:
    lines = [
        "",
        "SoSafe Referral Router is running on the embedded broker.",
        UNAUTHENTICATED_BROKER,
        "",
    ]
    for service, proc in stack.processes.items():
        lines.append(f"  {service:<7} {proc.base_url}   (logs: {proc.log_path})")
    if stack.broker is not None:
        lines.append(f"  broker  {stack.broker.url}")
    if stack.mail_sink is not None:
        lines.append(f"  mail    smtp://127.0.0.1:{stack.smtp_port} -> {stack.outbox}/*.eml")
    lines += [
        "",
        "Development tokens (public; never use outside development):",
        "  partners: " + ", ".join(f"dev-partner-{a.value}" for a in Agency) + "  (system dev-<agency>)",
        "  officers: " + ", ".join(f"dev-officer-{s.value}" for s in Service),
        "  manager:  dev-manager",
        "",
        f"Console: {stack.processes['triage'].base_url}/" if "triage" in stack.processes else "",
    ]
    if "intake" in stack.processes:
        lines += [
            "Submit the example referral:",
            f"  curl -s -X POST {stack.processes['intake'].base_url}/v1/referrals"
            " -H 'Authorization: Bearer dev-partner-police' \\",
            "       -H 'Content-Type: application/json' --data @examples/referral-high-risk-da.json",
        ]
    lines += ["A worker that exits is restarted. Press Ctrl-C to stop everything.", ""]
    return "\n".join(lines)


def available_services() -> tuple[str, ...]:
    return tuple(s for s in SERVICES if (REPO_ROOT / "services" / s / "app.py").exists())


def chosen_ports(services: tuple[str, ...]) -> dict[str, int]:
    """Each service's port, and the mail sink's as `smtp`, from the services' own settings."""
    ports = {service: int(getattr(service_settings(service), f"{service}_port")) for service in services}
    if "notify" in services:
        ports["smtp"] = int(service_settings("notify").smtp_port)
    return ports


def ports_in_use(ports: dict[str, int]) -> list[str]:
    """One sentence for each port another program holds on loopback."""
    taken = []
    for name, port in ports.items():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                taken.append(
                    f"port {port} for {name} is in use (another `sosafe dev`?); "
                    f"set SOSAFE_{name.upper()}_PORT to a free port."
                )
    return taken


def run_dev(partitions: int, workdir: Path | None = None) -> int:
    services = available_services()
    try:
        ports = chosen_ports(services)
    except ValidationError as exc:
        for error in exc.errors():
            complain(f"SOSAFE_{'_'.join(map(str, error['loc'])).upper()}: {error['msg']}")
        return 2
    if taken := ports_in_use(ports):
        for line in taken:
            complain(line)
        return 2
    smtp_port = ports.pop("smtp", 0)
    stack = Stack(
        workdir=workdir or DEFAULT_WORKDIR,
        services=services,
        partitions=partitions,
        ports=ports,
        smtp_port=smtp_port,
        supervise=True,
        report=complain,
    )
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    for signum in STOP_SIGNALS:
        signal.signal(signum, on_signal)
    try:
        say("Starting the embedded broker and the services (about 10 s)...")
        stack.start()
        say(banner(stack))
        while not stopping.wait(1.0):
            if (
                stack.broker is not None
                and stack.broker.process is not None
                and stack.broker.process.poll() is not None
            ):
                complain("the embedded broker stopped, and everything it held with it; stopping.")
                return 1
        return 0
    except BrokerUnavailable as exc:
        complain(str(exc))
        return 2
    except RuntimeError as exc:
        complain(str(exc))
        return 1
    finally:
        say("Stopping...")
        stack.stop()
