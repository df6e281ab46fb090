"""The port every delivery channel implements, and the one error it raises."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from schemas.notification import Notification


class DeliveryFailure(StrEnum):
    """Why a send failed; a small fixed set, fit for a metric label."""

    unreachable = "unreachable"
    """Could not connect, or the connection dropped."""

    timeout = "timeout"
    refused = "refused"
    """The peer answered and said no (SMTP 4xx/5xx, HTTP non-2xx)."""

    not_configured = "not_configured"
    """No address or webhook for the service any more."""


class DeliveryError(Exception):
    """A send failed. The message describes the transport only: never personal data, never a body."""

    def __init__(self, message: str, failure: DeliveryFailure, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.failure = failure
        self.permanent = permanent
        """True when retrying the same notification cannot help (a refused recipient, a 4xx answer)."""


class Sender(Protocol):
    """Sends one notification over its channel; raises `DeliveryError` when it was not delivered."""

    async def send(self, notification: Notification) -> None: ...
