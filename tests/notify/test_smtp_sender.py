"""E-mail delivery against a real SMTP server (aiosmtpd) on a loopback port."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from schemas.notification import Notification, NotificationKind
from schemas.vocabulary import Service
from services.notify.adapters.channels import DeliveryError, DeliveryFailure
from services.notify.adapters.smtp import SmtpSender

pytestmark = pytest.mark.integration

TEAM = {Service.sada: "referrals@sada.example.org", Service.no_more: "nobody@nomore.example.org"}
MANAGERS = {Service.sada: "manager@sada.example.org"}


class Mailbox:
    """An aiosmtpd handler that keeps what it receives and refuses `nobody@` recipients."""

    def __init__(self) -> None:
        self.received: list[tuple[Any, Any]] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((session.peer, envelope))
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(envelope.content, policy=default) for _, envelope in self.received]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def mailbox() -> Mailbox:
    return Mailbox()


@pytest.fixture
def smtp_port() -> int:
    return _free_port()


@pytest.fixture
def smtp_server(mailbox: Mailbox, smtp_port: int) -> Iterator[Controller]:
    controller = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield controller
    controller.stop()


def _sender(port: int, **overrides: Any) -> SmtpSender:
    settings: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "sender": "SoSafe <noreply@sosafe.example.org>",
        "domain": "sosafe.example.org",
        "team_addresses": TEAM,
        "manager_addresses": MANAGERS,
        "starttls": False,
        "timeout": 5.0,
        **overrides,
    }
    return SmtpSender(**settings)


@pytest.fixture
async def smtp_sender(smtp_server: Controller, smtp_port: int) -> Any:
    sender = _sender(smtp_port)
    await sender.start()
    yield sender
    await sender.close()


async def test_assignment_email_reaches_the_team_with_the_notification_id_as_message_id(
    smtp_sender: SmtpSender, mailbox: Mailbox, notification: Notification
) -> None:
    """Envelope and headers name the team's address and the notification's Message-ID."""
    await smtp_sender.send(notification)

    [(_, envelope)] = mailbox.received
    [message] = mailbox.messages()
    assert envelope.mail_from == "noreply@sosafe.example.org"
    assert envelope.rcpt_tos == ["referrals@sada.example.org"]
    assert message["Message-ID"] == f"<{notification.notification_id}@sosafe.example.org>"
    assert message["Subject"] == "[SoSafe] HIGH referral for SADA, due 26 Nov 14:00"
    assert notification.referral_id in message.get_content()


async def test_escalation_email_goes_to_the_service_manager(
    smtp_sender: SmtpSender, mailbox: Mailbox, notification: Notification
) -> None:
    """Not to the team."""
    await smtp_sender.send(notification.model_copy(update={"kind": NotificationKind.escalation}))

    [(_, envelope)] = mailbox.received
    assert envelope.rcpt_tos == ["manager@sada.example.org"]


async def test_consecutive_sends_reuse_one_connection(
    smtp_sender: SmtpSender, mailbox: Mailbox, notification: Notification
) -> None:
    """Both messages arrive from the same client port."""
    await smtp_sender.send(notification)
    await smtp_sender.send(notification.model_copy(update={"notification_id": "second"}))

    peers = [peer for peer, _ in mailbox.received]
    assert len(peers) == 2
    assert peers[0] == peers[1]


async def test_sender_reconnects_after_the_server_restarted(mailbox: Mailbox, notification: Notification) -> None:
    """A dropped connection is replaced on the next send, not reported as a failure."""
    port = _free_port()
    first = Controller(mailbox, hostname="127.0.0.1", port=port)
    first.start()
    sender = _sender(port)
    await sender.start()
    try:
        await sender.send(notification)
        first.stop()
        restarted = Controller(mailbox, hostname="127.0.0.1", port=port)
        restarted.start()
        try:
            await sender.send(notification.model_copy(update={"notification_id": "after-restart"}))
        finally:
            restarted.stop()
    finally:
        await sender.close()

    assert [m["X-SoSafe-Notification-Id"] for m in mailbox.messages()] == [
        notification.notification_id,
        "after-restart",
    ]


async def test_refused_recipient_is_a_permanent_delivery_error_and_the_next_send_still_works(
    smtp_sender: SmtpSender, mailbox: Mailbox, notification: Notification
) -> None:
    """550 for No More's address; SADA's message after it is delivered."""
    with pytest.raises(DeliveryError) as refused:
        await smtp_sender.send(notification.model_copy(update={"service": Service.no_more}))
    await smtp_sender.send(notification)

    assert refused.value.failure is DeliveryFailure.refused
    assert refused.value.permanent
    assert "550" in str(refused.value)
    assert "nobody@" not in str(refused.value)
    assert [envelope.rcpt_tos for _, envelope in mailbox.received] == [["referrals@sada.example.org"]]


async def test_closed_server_is_an_unreachable_delivery_error(notification: Notification) -> None:
    """Nothing listens on the port: a retryable failure, not a crash."""
    sender = _sender(_free_port())
    await sender.start()
    try:
        with pytest.raises(DeliveryError) as unreachable:
            await sender.send(notification)
    finally:
        await sender.close()

    assert unreachable.value.failure is DeliveryFailure.unreachable
    assert not unreachable.value.permanent


async def test_service_without_an_address_is_not_configured(
    smtp_sender: SmtpSender, mailbox: Mailbox, notification: Notification
) -> None:
    """No manager address for No More: a permanent error, nothing sent."""
    with pytest.raises(DeliveryError) as missing:
        await smtp_sender.send(
            notification.model_copy(update={"service": Service.no_more, "kind": NotificationKind.escalation})
        )

    assert missing.value.failure is DeliveryFailure.not_configured
    assert mailbox.received == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_sender_logs_in_when_credentials_are_configured(mailbox: Mailbox, notification: Notification) -> None:
    """AUTH with the configured user and password before the message is accepted."""
    logins: list[tuple[str, str]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=auth_data.password == b"s3cret")

    port = _free_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    sender = _sender(port, username="sosafe", password="s3cret")
    await sender.start()
    try:
        await sender.send(notification)
    finally:
        await sender.close()
        controller.stop()

    assert logins == [("sosafe", "s3cret")]
    assert len(mailbox.received) == 1
