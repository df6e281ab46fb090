"""Reading the SMTP sink's `.eml` files in tests: every part decoded, no mail skipped."""

from __future__ import annotations

import email
import re
from dataclasses import dataclass
from email import policy
from email.message import Message
from pathlib import Path

REFERRAL = re.compile(r"Referral: ([0-9a-f-]{36})")
SERVICE = re.compile(r"Service: .*\((\w+)\)")


class UnreadableMail(AssertionError):
    """A mail in the outbox lacks a line every notification carries: a test must not pass over it."""


@dataclass(frozen=True)
class Mail:
    notification_id: str
    referral_id: str
    service: str
    recipient: str
    text: str
    """The headers (decoded) and every part's decoded body: what a reader of the mail would see."""


def decoded_text(message: Message) -> str:
    """Headers and the body of every part, with transfer encodings (quoted-printable, base64) undone,
    so a value wrapped across encoded lines (`Marchban=\\nks`) reads whole."""
    texts = [f"{name}: {value}" for name, value in message.items()]
    for part in message.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            texts.append(payload.decode(part.get_content_charset() or "utf-8", errors="replace"))
    return "\n".join(texts)


def read_mail(path: Path) -> Mail:
    """One `.eml` file as a Mail, or UnreadableMail naming the file and the line it lacks."""
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    text = decoded_text(message)
    referral, service = REFERRAL.search(text), SERVICE.search(text)
    for label, found in (
        ("Referral", referral),
        ("Service", service),
        ("X-SoSafe-Notification-Id", message["X-SoSafe-Notification-Id"]),
        ("To", message["To"]),
    ):
        if not found:
            raise UnreadableMail(f"{path.name} has no {label} line")
    assert referral is not None and service is not None
    return Mail(str(message["X-SoSafe-Notification-Id"]), referral.group(1), service.group(1), str(message["To"]), text)


def read_outbox(outbox: Path) -> list[Mail]:
    """Every mail in the outbox, in file order; raises UnreadableMail on the first one without its lines."""
    return [read_mail(path) for path in sorted(outbox.glob("*.eml"))]
