"""Injected send failures for the fault tests: the Nth send to a topic fails as a timed-out batch would.

Configured by `SOSAFE_FAULT_FAIL_SENDS` (for example `referrals.accepted:3,audit.events:5`), honoured on the
embedded broker only (settings refuse it otherwise). Each fault fires once per data directory: a marker
file is written before it fires, so the restarted worker runs clean and the tests can check that the
message whose step failed was delivered again, once.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path


class FaultSpecInvalid(ValueError):
    """The fault specification is not `topic:n[,topic:n...]`; the message says which entry."""


def parse_faults(spec: str) -> dict[str, int]:
    """`"a:3,b:5"` as `{"a": 3, "b": 5}`; FaultSpecInvalid naming the entry that is not `topic:n` with n >= 1."""
    faults: dict[str, int] = {}
    for entry in filter(None, (part.strip() for part in spec.split(","))):
        topic, _, nth = entry.rpartition(":")
        if not topic or not nth.isdigit() or int(nth) < 1:
            raise FaultSpecInvalid(f"fault {entry!r} is not topic:n with n of at least 1")
        faults[topic] = int(nth)
    return faults


@dataclass
class SendFaults:
    """Decides, send by send, whether this one is the injected failure."""

    faults: dict[str, int]
    marker_dir: Path
    app_id: str
    sends: Counter[str] = field(default_factory=Counter)

    def should_fail(self, topic: str) -> bool:
        nth = self.faults.get(topic)
        if nth is None:
            return False
        self.sends[topic] += 1
        if self.sends[topic] != nth:
            return False
        marker = self.marker_dir / f"{self.app_id}.{topic}.{nth}.fired"
        if marker.exists():
            return False
        self.marker_dir.mkdir(parents=True, exist_ok=True)
        marker.touch()
        return True
