"""`sosafe dev`: the whole system on the embedded broker, on one machine, until Ctrl-C or SIGTERM."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from schemas.vocabulary import Agency, Service
from services.cli.stack import DEFAULT_PORTS, Stack
from services.common.broker import BrokerUnavailable
from services.common.settings import REPO_ROOT


def banner(stack: Stack) -> str:
    lines = ["", "SoSafe Referral Router is running on the embedded broker.", ""]
    for service, proc in stack.processes.items():
        lines.append(f"  {service:<7} {proc.base_url}   (logs: {proc.log_path})")
    if stack.broker is not None:
        lines.append(f"  broker  {stack.broker.url}")
    if stack.mail_sink is not None:
        lines.append(f"  mail    smtp://127.0.0.1:{stack.smtp_port} -> {stack.outbox}/*.eml")
    lines += [
        "", "Development tokens (public; never use outside development):",
        "  partners: " + ", ".join(f"dev-partner-{a.value}" for a in Agency) + "  (system dev-<agency>)",
        "  officers: " + ", ".join(f"dev-officer-{s.value}" for s in Service),
        "  manager:  dev-manager",
        "", f"Console: {stack.processes['triage'].base_url}/" if "triage" in stack.processes else "",
        "Submit the example referral:",
        "  curl -s -X POST http://127.0.0.1:8001/v1/referrals -H 'Authorization: Bearer dev-partner-police' \\",
        "       -H 'Content-Type: application/json' --data @examples/referral-high-risk-da.json",
        "Press Ctrl-C to stop everything.", "",
    ]
    return "\n".join(lines)


def available_services() -> tuple[str, ...]:
    return tuple(s for s in DEFAULT_PORTS if (REPO_ROOT / "services" / s / "app.py").exists())


def run_dev(partitions: int, workdir: Path | None = None) -> int:
    services = available_services()
    stack = Stack(workdir=workdir or REPO_ROOT / "var" / "dev", services=services, partitions=partitions,
                  ports={s: DEFAULT_PORTS[s] for s in services}, smtp_port=8025)
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        print("Starting the embedded broker and the services (about 10 s)...", flush=True)
        stack.start()
        print(banner(stack), flush=True)
        while not stopping.wait(1.0):
            for name, proc in stack.processes.items():
                if not proc.alive():
                    print(f"{name} stopped unexpectedly; see {proc.log_path}. Stopping.", file=sys.stderr)
                    stopping.set()
        return 0
    except BrokerUnavailable as exc:
        print(f"sosafe dev: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:
        print(f"sosafe dev: {exc}", file=sys.stderr)
        return 1
    finally:
        print("Stopping...", flush=True)
        stack.stop()
