"""`sosafe worker`: outside development it will not start on a missing or default secret, nor on a broker off
this machine without authentication, and says which setting."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.config import ROOT

AUDIT_KEY = {"SOSAFE_AUDIT_KEY": "a-long-random-audit-key", "SOSAFE_AUDIT_KEY_ID": "svc-1"}


@pytest.mark.parametrize(
    ("service", "variable", "extra"),
    [
        ("intake", "SOSAFE_SUBJECT_KEY_SECRET", {}),
        ("triage", "SOSAFE_SESSION_SECRET", {}),
        ("notify", "SOSAFE_AUDIT_KEY", {}),
        ("notify", "SOSAFE_KAFKA_SECURITY_PROTOCOL", {**AUDIT_KEY, "SOSAFE_BROKER_URL": "kafka://kafka.invalid:9"}),
    ],
    ids=["intake-subject-key", "triage-session", "notify-audit-key", "notify-remote-plaintext-broker"],
)
def test_a_worker_outside_development_refuses_to_start_on_a_default_secret(
    service: str, variable: str, extra: dict[str, str]
) -> None:
    """Refused before it touches the broker (none listens on port 9): exit status 1 and one line naming it."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("SOSAFE_")}
    env |= {"SOSAFE_EMBEDDED_BROKER": "false", "SOSAFE_BROKER_URL": "kafka://127.0.0.1:9", **extra}
    result = subprocess.run(
        [sys.executable, "-c", f"from services.cli.main import main; main(['worker', '{service}'])"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith(f"sosafe worker {service}: {variable} is ")
