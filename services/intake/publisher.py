"""Publishes HTTP submissions onto `referrals.submitted` with a time limit, through intake's own producer.

The HTTP view waits for the broker's acknowledgement before it answers 202, so a hung broker would hang
partners. This producer is separate from Faust's: a failed send through Faust's producer stops the
worker (so a consumed message is redelivered), while a submission that is not acknowledged in time only
refuses that one request with 503 and leaves intake running.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from mode import Service

from services.common.audit_signing import signed
from services.common.kafka_security import client_options
from services.common.topics import AUDIT
from services.intake.settings import IntakeSettings

CLIENT_ID = "sosafe-intake-http"


class SubmissionNotPublished(Exception):
    """The broker did not acknowledge a submission in time or refused it. The submission may still
    arrive later; a retry is safe because referral ids are deterministic and intake de-duplicates."""


class SubmissionPublisher(Service):
    """An aiokafka producer started and stopped with intake's Faust app (a dependency of the app)."""

    def __init__(self, settings: IntakeSettings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self._producer: AIOKafkaProducer | None = None
        self._keyring = settings.audit_keyring

    @property
    def timeout_s(self) -> float:
        return self.settings.publish_timeout_s

    async def on_start(self) -> None:
        timeout_ms = int(self.timeout_s * 1000)
        producer = AIOKafkaProducer(
            **client_options(self.settings),
            client_id=CLIENT_ID,
            acks="all",
            request_timeout_ms=timeout_ms,  # bounds the metadata wait, a full buffer and a batch's life
            retry_backoff_ms=min(100, timeout_ms),
        )
        await producer.start()
        self._producer = producer

    async def on_stop(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()

    async def publish(self, topic: str, key: bytes | None, value: bytes) -> None:
        """Return once the broker has acknowledged the message; SubmissionNotPublished otherwise,
        never later than `publish_timeout_s`."""
        producer = self._producer
        if producer is None:
            raise SubmissionNotPublished("the intake producer is not running")
        if topic == AUDIT:  # as every audit event a service sends (services.common.audit_signing)
            value = signed(self._keyring, value)
        try:
            await asyncio.wait_for(self._send_and_wait(producer, topic, key, value), self.timeout_s)
        except TimeoutError as exc:
            raise SubmissionNotPublished(f"not acknowledged within {self.timeout_s:g} s") from exc
        except KafkaError as exc:
            raise SubmissionNotPublished(type(exc).__name__) from exc

    @staticmethod
    async def _send_and_wait(producer: AIOKafkaProducer, topic: str, key: bytes | None, value: bytes) -> None:
        delivered = await producer.send(topic, value, key=key)  # may wait for metadata or buffer space
        await delivered
