"""`sosafe audit verify` against a broker address where nothing listens: it says it could not check."""

from __future__ import annotations

import socket
import subprocess
import sys


def free_port() -> int:
    """A loopback port that was free a moment ago, with nothing listening on it now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_broker_exits_2_not_checked_and_closes_its_consumer() -> None:
    """Exit 2 (distinct from 1, broken chains), one sentence on stderr, no "Unclosed AIOKafkaConsumer"."""
    broker = f"127.0.0.1:{free_port()}"
    done = subprocess.run(
        [sys.executable, "-m", "services.cli.main", "audit", "verify", "--broker", broker],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2  # as the README documents; 1 means chains checked and found broken
    assert f"cannot read audit.events from {broker}, nothing checked" in done.stderr
    assert "Unclosed" not in done.stderr
    assert done.stdout == ""
