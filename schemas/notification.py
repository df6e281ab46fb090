"""Notification attempts on `notifications.retry` and `notifications.dead`."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, StringConstraints

from schemas.base import Message
from schemas.decision import Flag
from schemas.vocabulary import Priority, Service


class NotificationChannel(StrEnum):
    email = "email"
    webhook = "webhook"


class NotificationKind(StrEnum):
    assignment = "assignment"
    escalation = "escalation"
    new_information = "new_information"
    """A follow-up decision on the referrer's new information: a service added or its priority raised."""


class Notification(Message):
    """What a receiving team is told: ids, service, priority, deadline, flags, a link. Nothing personal."""

    notification_id: str
    kind: NotificationKind
    channel: NotificationChannel
    referral_id: str
    service: Service
    priority: Priority
    due_at: AwareDatetime
    flags: list[Flag]
    link: str
    source_id: str
    """The decision or escalation the notification comes from."""

    created_at: AwareDatetime


class NotificationAttempt(Message):
    attempt_version: Literal["1"] = "1"
    notification: Notification
    attempt: int
    not_before: AwareDatetime
    last_error: Annotated[str, StringConstraints(max_length=500)] | None = None
