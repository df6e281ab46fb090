"""Webhook delivery: a signed JSON POST to a service's case system (see docs/webhooks.md)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import aiohttp

from schemas.notification import Notification, NotificationChannel, NotificationKind
from schemas.vocabulary import Service
from services.notify.adapters.channels import DeliveryError, DeliveryFailure
from services.notify.content import NOTIFICATION_ID_HEADER, webhook_body
from services.notify.routing import WebhookTarget
from services.notify.signing import signature_headers

RETRYABLE_CLIENT_STATUSES = frozenset({408, 409, 425, 429})
"""4xx answers worth trying again; any other 4xx says the request itself will never be accepted."""


class WebhookSender:
    """POSTs webhook notifications through one `aiohttp.ClientSession`; 2xx is delivered, all else fails.

    `clock` gives the Unix time for the signature's timestamp (injectable for tests).
    """

    def __init__(
        self,
        *,
        targets: Mapping[Service, WebhookTarget],
        partner_targets: Mapping[str, WebhookTarget] | None = None,
        timeout: float = 10.0,
        user_agent: str = "SoSafe-Referral-Router/1",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._targets = dict(targets)
        self._partner_targets = dict(partner_targets or {})
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._user_agent = user_agent
        self._clock = clock
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=self._timeout, headers={"User-Agent": self._user_agent})

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def send(self, notification: Notification) -> None:
        if notification.channel is not NotificationChannel.webhook:
            raise DeliveryError(
                f"{notification.channel.value} notification given to the webhook sender",
                DeliveryFailure.not_configured,
                permanent=True,
            )
        if self._session is None:
            raise RuntimeError("WebhookSender.start() has not been awaited")
        service = notification.service.value
        if notification.kind is NotificationKind.outcome:  # to the referring partner, not the service
            target = self._partner_targets.get(notification.partner_id or "")
            if target is None:
                raise DeliveryError(
                    "no outcomes webhook configured for the partner", DeliveryFailure.not_configured, permanent=True
                )
        else:
            target = self._targets.get(notification.service)
        if target is None:
            raise DeliveryError(
                f"no webhook configured for service {service}", DeliveryFailure.not_configured, permanent=True
            )
        body = webhook_body(notification)
        headers = {
            "Content-Type": "application/json",
            NOTIFICATION_ID_HEADER: notification.notification_id,
            **signature_headers(target.secret, int(self._clock()), body, notification.notification_id),
        }
        try:
            async with self._session.post(target.url, data=body, headers=headers, allow_redirects=False) as response:
                status = response.status
                await response.read()
        except TimeoutError as error:
            raise DeliveryError(f"webhook for service {service} timed out", DeliveryFailure.timeout) from error
        except aiohttp.ClientError as error:
            raise DeliveryError(
                f"webhook for service {service} unreachable ({type(error).__name__})", DeliveryFailure.unreachable
            ) from error
        if not 200 <= status < 300:
            permanent = 400 <= status < 500 and status not in RETRYABLE_CLIENT_STATUSES
            raise DeliveryError(
                f"webhook for service {service} answered HTTP {status}", DeliveryFailure.refused, permanent=permanent
            )
