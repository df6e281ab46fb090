"""The development SMTP sink: every message notify sends is written as an `.eml` file."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class OutboxHandler:
    outbox: Path

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.outbox.mkdir(parents=True, exist_ok=True)
        path = self.outbox / f"{uuid.uuid4()}.eml"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(envelope.original_content or envelope.content)
        tmp.rename(path)
        return "250 Message accepted for delivery"


class MailSink:
    """aiosmtpd on a loopback port in its own thread."""

    def __init__(self, outbox: Path, port: int, host: str = "127.0.0.1") -> None:
        self.outbox = outbox
        self.host, self.port = host, port
        self._controller = Controller(OutboxHandler(outbox), hostname=host, port=port)

    def start(self) -> None:
        self.outbox.mkdir(parents=True, exist_ok=True)
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def messages(self) -> list[Path]:
        return sorted(self.outbox.glob("*.eml"))
