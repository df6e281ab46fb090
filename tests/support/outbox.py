"""Reading the SMTP sink's `.eml` files in tests."""

from __future__ import annotations

import email
import re
from dataclasses import dataclass
from pathlib import Path

REFERRAL = re.compile(r"Referral: ([0-9a-f-]{36})")
SERVICE = re.compile(r"Service: .*\((\w+)\)")


@dataclass(frozen=True)
class Mail:
    notification_id: str
    referral_id: str
    service: str
    recipient: str
    text: str


def read_outbox(outbox: Path) -> list[Mail]:
    mails = []
    for path in sorted(outbox.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes())
        payload = message.get_payload(decode=True)
        text = payload.decode() if isinstance(payload, bytes) else ""
        referral, service = REFERRAL.search(text), SERVICE.search(text)
        if referral and service:
            mails.append(Mail(message["X-SoSafe-Notification-Id"], referral.group(1), service.group(1),
                              message["To"], message.as_string()))
    return mails
