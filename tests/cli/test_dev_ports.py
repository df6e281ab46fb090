"""`sosafe dev` takes its ports from the services' settings and names the variable for a port in use."""

from __future__ import annotations

import socket

import pytest

from services.cli.dev import chosen_ports, ports_in_use


def test_ports_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each SOSAFE_<SERVICE>_PORT and SOSAFE_SMTP_PORT replaces its default."""
    for n, name in enumerate(("INTAKE", "TRIAGE", "NOTIFY", "SMTP")):
        monkeypatch.setenv(f"SOSAFE_{name}_PORT", str(18101 + n))
    assert chosen_ports(("intake", "triage", "notify")) == {
        "intake": 18101,
        "triage": 18102,
        "notify": 18103,
        "smtp": 18104,
    }


def test_without_the_environment_the_ports_are_the_documented_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("INTAKE", "TRIAGE", "NOTIFY", "SMTP"):
        monkeypatch.delenv(f"SOSAFE_{name}_PORT", raising=False)
    assert chosen_ports(("intake", "triage", "notify")) == {
        "intake": 8001,
        "triage": 8002,
        "notify": 8003,
        "smtp": 8025,
    }


def test_a_port_in_use_is_named_with_the_variable_that_moves_it() -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        with socket.socket() as free:
            free.bind(("127.0.0.1", 0))
            free_port = free.getsockname()[1]
        assert ports_in_use({"smtp": port, "intake": free_port}) == [
            f"port {port} for smtp is in use (another `sosafe dev`?); set SOSAFE_SMTP_PORT to a free port."
        ]
