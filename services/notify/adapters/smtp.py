"""E-mail delivery over SMTP (aiosmtplib): assignments to the service's team, escalations to its manager."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import parseaddr

import aiosmtplib

from schemas.notification import Notification, NotificationChannel, NotificationKind
from schemas.vocabulary import Service
from services.notify.adapters.channels import DeliveryError, DeliveryFailure
from services.notify.content import render_email


def _delivery_error(error: Exception) -> DeliveryError:
    """The transport failure in words; server replies are reduced to their code (no echoed text)."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        codes = sorted({refusal.code for refusal in error.recipients})
        return DeliveryError(
            f"SMTP server refused the recipient (codes {codes})",
            DeliveryFailure.refused,
            permanent=all(code >= 500 for code in codes),
        )
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return DeliveryError(
            f"SMTP server answered {error.code} ({type(error).__name__})",
            DeliveryFailure.refused,
            permanent=error.code >= 500,
        )
    if isinstance(error, TimeoutError):
        return DeliveryError(f"SMTP timed out ({type(error).__name__})", DeliveryFailure.timeout)
    if isinstance(error, OSError):
        return DeliveryError(f"SMTP server unreachable ({type(error).__name__})", DeliveryFailure.unreachable)
    return DeliveryError(f"SMTP failed ({type(error).__name__})", DeliveryFailure.refused)


class SmtpSender:
    """Sends e-mail notifications over one reused SMTP connection, reconnecting when it has dropped.

    `starttls`: None upgrades when the server offers STARTTLS, True requires it, False never upgrades.
    `use_tls`: implicit TLS from the first byte (port 465); excludes `starttls`.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        domain: str,
        team_addresses: Mapping[Service, str],
        manager_addresses: Mapping[Service, str],
        starttls: bool | None = None,
        use_tls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        if use_tls and starttls:
            raise ValueError("use_tls and starttls exclude each other")
        self._host = host
        self._port = port
        self._sender = sender
        self._envelope_sender = parseaddr(sender)[1] or sender
        self._domain = domain
        self._team_addresses = dict(team_addresses)
        self._manager_addresses = dict(manager_addresses)
        self._starttls = starttls
        self._use_tls = use_tls
        self._username = username
        self._password = password
        self._timeout = timeout
        self._tls_context = tls_context
        self._client: aiosmtplib.SMTP | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Build the client; it connects on the first send, so a mail outage never blocks start-up."""
        self._client = aiosmtplib.SMTP(
            hostname=self._host,
            port=self._port,
            username=self._username,
            password=self._password,
            timeout=self._timeout,
            use_tls=self._use_tls,
            start_tls=False if self._use_tls else self._starttls,
            tls_context=self._tls_context,
        )

    async def close(self) -> None:
        """Say QUIT when connected; safe to call twice."""
        client, self._client = self._client, None
        if client is not None and client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()

    def recipient_for(self, notification: Notification) -> str:
        """The team's address for an assignment, the manager's for an escalation."""
        addresses = (
            self._manager_addresses if notification.kind is NotificationKind.escalation else self._team_addresses
        )
        recipient = addresses.get(notification.service)
        if recipient is None:
            raise DeliveryError(
                f"no {notification.kind.value} e-mail address configured for service {notification.service.value}",
                DeliveryFailure.not_configured,
                permanent=True,
            )
        return recipient

    async def send(self, notification: Notification) -> None:
        if notification.channel is not NotificationChannel.email:
            raise DeliveryError(
                f"{notification.channel.value} notification given to the SMTP sender",
                DeliveryFailure.not_configured,
                permanent=True,
            )
        if self._client is None:
            raise RuntimeError("SmtpSender.start() has not been awaited")
        recipient = self.recipient_for(notification)
        message = render_email(notification, self._sender, recipient, self._domain)
        async with self._lock:
            await self._deliver(self._client, message, recipient)

    async def _deliver(self, client: aiosmtplib.SMTP, message: EmailMessage, recipient: str) -> None:
        reused = client.is_connected
        try:
            try:
                if not reused:
                    await client.connect()
                await client.send_message(message, sender=self._envelope_sender, recipients=[recipient])
            except aiosmtplib.SMTPServerDisconnected:
                if not reused:
                    raise
                # The server closed the idle connection: one fresh connection, one more try.
                client.close()
                await client.connect()
                await client.send_message(message, sender=self._envelope_sender, recipients=[recipient])
        except (aiosmtplib.SMTPException, OSError) as error:
            client.close()
            raise _delivery_error(error) from error
