"""Notification attempts on `notifications.retry` and `notifications.dead`."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, StringConstraints

from schemas.base import Message
from schemas.decision import Flag
from schemas.outcome import ReasonCode, ReferralOutcome
from schemas.vocabulary import Priority, Service


class NotificationChannel(StrEnum):
    email = "email"
    webhook = "webhook"


class NotificationKind(StrEnum):
    assignment = "assignment"
    escalation = "escalation"
    outcome = "outcome"
    """To the referring partner: one `ReferralOutcome` (webhook only)."""
    new_information = "new_information"
    """A follow-up decision on the referrer's new information: a service added or its priority raised."""
    withdrawn = "withdrawn"
    """The referrer withdrew a referral the service had claimed or accepted (from its `withdrawn` outcome)."""


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
    partner_id: str | None = None
    """An outcome's partner (the access file's id): whose webhook it goes to."""
    outcome: ReferralOutcome | None = None
    """An outcome notification's event, sent as the webhook's body."""
    reason_code: ReasonCode | None = None
    """withdrawn: the referrer's withdrawal reason, a code (never free text)."""


class NotificationAttempt(Message):
    attempt_version: Literal["1"] = "1"
    notification: Notification
    attempt: int
    not_before: AwareDatetime
    last_error: Annotated[str, StringConstraints(max_length=500)] | None = None
