"""Webhook delivery against a real aiohttp server on a loopback port."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from schemas.notification import Notification, NotificationChannel
from schemas.vocabulary import Service
from services.notify.adapters.channels import DeliveryError, DeliveryFailure
from services.notify.adapters.webhook import WebhookSender
from services.notify.routing import WebhookTarget
from services.notify.signing import IDEMPOTENCY_HEADER, verify

pytestmark = pytest.mark.integration

SECRET = b"sada-webhook-secret"
SIGNED_AT = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)


class CaseSystem:
    """A receiving case system that records each request and answers with `status` after `delay`."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.status = 202
        self.delay = 0.0

    async def receive(self, request: web.Request) -> web.Response:
        self.requests.append((dict(request.headers), await request.read()))
        await asyncio.sleep(self.delay)
        return web.Response(status=self.status)


@pytest.fixture
def case_system() -> CaseSystem:
    return CaseSystem()


@pytest.fixture
async def case_server(case_system: CaseSystem) -> AsyncIterator[TestServer]:
    app = web.Application()
    app.router.add_post("/hook", case_system.receive)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
def webhook_notification(notification: Notification) -> Notification:
    return notification.model_copy(update={"channel": NotificationChannel.webhook})


async def _started(url: str, timeout: float = 5.0) -> WebhookSender:
    sender = WebhookSender(
        targets={Service.sada: WebhookTarget(url=url, secret=SECRET)}, timeout=timeout, clock=SIGNED_AT.timestamp
    )
    await sender.start()
    return sender


@pytest.fixture
async def webhook_sender(case_server: TestServer) -> AsyncIterator[WebhookSender]:
    sender = await _started(str(case_server.make_url("/hook")))
    yield sender
    await sender.close()


async def test_delivered_webhook_verifies_with_the_services_secret(
    webhook_sender: WebhookSender, case_system: CaseSystem, webhook_notification: Notification
) -> None:
    """The receiver's check passes on exactly the bytes it received."""
    await webhook_sender.send(webhook_notification)

    [(headers, body)] = case_system.requests
    assert verify(SECRET, headers, body, SIGNED_AT)
    assert not verify(b"another-services-secret", headers, body, SIGNED_AT)
    assert headers["Content-Type"] == "application/json"


async def test_webhook_carries_the_notification_id_as_idempotency_key_and_body(
    webhook_sender: WebhookSender, case_system: CaseSystem, webhook_notification: Notification
) -> None:
    """A retry of the same notification can be recognised by the receiver."""
    await webhook_sender.send(webhook_notification)
    await webhook_sender.send(webhook_notification)

    keys = [headers[IDEMPOTENCY_HEADER] for headers, _ in case_system.requests]
    assert keys == [webhook_notification.notification_id] * 2
    document = json.loads(case_system.requests[0][1])
    assert document["referral_id"] == webhook_notification.referral_id
    assert document["notification_id"] == webhook_notification.notification_id


async def test_server_error_is_a_retryable_delivery_error(
    webhook_sender: WebhookSender, case_system: CaseSystem, webhook_notification: Notification
) -> None:
    """HTTP 500 is not delivered; worth retrying."""
    case_system.status = 500

    with pytest.raises(DeliveryError) as failed:
        await webhook_sender.send(webhook_notification)

    assert failed.value.failure is DeliveryFailure.refused
    assert not failed.value.permanent
    assert "500" in str(failed.value)


async def test_client_error_is_a_permanent_delivery_error(
    webhook_sender: WebhookSender, case_system: CaseSystem, webhook_notification: Notification
) -> None:
    """HTTP 400 (say, a rejected signature) will not change on retry."""
    case_system.status = 400

    with pytest.raises(DeliveryError) as failed:
        await webhook_sender.send(webhook_notification)

    assert failed.value.permanent


async def test_redirect_is_not_followed_and_not_delivered(
    webhook_sender: WebhookSender, case_system: CaseSystem, webhook_notification: Notification
) -> None:
    """A 3xx could send the signed body somewhere else: it counts as a failure."""
    case_system.status = 307

    with pytest.raises(DeliveryError):
        await webhook_sender.send(webhook_notification)

    assert len(case_system.requests) == 1


async def test_slow_receiver_is_a_timeout_delivery_error(
    case_server: TestServer, case_system: CaseSystem, webhook_notification: Notification
) -> None:
    """The receiver takes longer than the sender's timeout."""
    case_system.delay = 2.0
    sender = await _started(str(case_server.make_url("/hook")), timeout=0.2)
    try:
        with pytest.raises(DeliveryError) as failed:
            await sender.send(webhook_notification)
    finally:
        await sender.close()

    assert failed.value.failure is DeliveryFailure.timeout
    assert not failed.value.permanent


async def test_closed_port_is_an_unreachable_delivery_error(webhook_notification: Notification) -> None:
    """Nothing listens: a retryable transport failure."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sender = await _started(f"http://127.0.0.1:{port}/hook")
    try:
        with pytest.raises(DeliveryError) as failed:
            await sender.send(webhook_notification)
    finally:
        await sender.close()

    assert failed.value.failure is DeliveryFailure.unreachable


async def test_service_without_a_webhook_is_not_configured(
    webhook_sender: WebhookSender, case_system: CaseSystem, webhook_notification: Notification
) -> None:
    """No target for No More: permanent, nothing posted."""
    with pytest.raises(DeliveryError) as failed:
        await webhook_sender.send(webhook_notification.model_copy(update={"service": Service.no_more}))

    assert failed.value.failure is DeliveryFailure.not_configured
    assert case_system.requests == []
