"""A stand-in for a Faust topic in handler unit tests: records what a handler sends, in order."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RecordingTopic:
    sent: list[tuple[bytes | None, bytes]] = field(default_factory=list)

    async def send(self, *, key: bytes | None, value: bytes) -> None:
        self.sent.append((key, value))
