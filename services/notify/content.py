"""What a receiving team is told, and how it reads: pure, no I/O, no clock (the time is an argument).

A notification carries only the referral id, service, priority, deadline, flags and a console link
(least privilege, docs/architecture.md#guarantees), and a withdrawal's reason code. Rendering reads nothing
else: `WEBHOOK_FIELDS` (and `reason_code` where set) is the whole of what leaves the service.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Final
from urllib.parse import urlencode
from uuid import NAMESPACE_URL, uuid5
from zoneinfo import ZoneInfo

from schemas.decision import DecisionKind, Flag, TriageDecision
from schemas.escalation import Escalation
from schemas.notification import Notification, NotificationChannel, NotificationKind
from schemas.outcome import OutcomeKind, ReferralOutcome, WithdrawnState
from schemas.services_catalogue import display_name
from schemas.vocabulary import Priority, Service

ChannelsFor = Callable[[Service, NotificationKind], Iterable[NotificationChannel]]
"""Which channels a service is reached on for a kind of notification (`NotifyRouting.channels_for`)."""

NOTIFICATION_ID_HEADER: Final = "X-SoSafe-Notification-Id"
LOCAL_TIME: Final = ZoneInfo("Europe/London")

FLAG_WORDS: Final[dict[Flag, str]] = {
    Flag.marac: "MARAC: high-risk domestic abuse, consider the risk assessment conference",
    Flag.safeguarding_child: "child safeguarding concern",
    Flag.children_in_household: "children under 18 in the household",
    Flag.nrm_child: "child: NRM referral, no consent needed",
    Flag.duty_to_notify: "adult without consent: duty to notify (anonymous notification)",
    Flag.repeat: "repeat referral within 12 months",
    Flag.immediate_danger: "IMMEDIATE DANGER",
    Flag.do_not_contact_directly: "NOT SAFE TO CONTACT DIRECTLY: agree a safe way with the referrer first",
}

WEBHOOK_FIELDS: Final = (
    "notification_id",
    "kind",
    "referral_id",
    "service",
    "priority",
    "due_at",
    "flags",
    "link",
    "source_id",
    "created_at",
)
"""Every field a webhook body carries; nothing else of a notification is sent."""

WEBHOOK_VERSION: Final = "1"


def notification_id_for(source_id: str, service: Service, channel: NotificationChannel) -> str:
    """The same decision (or escalation), service and channel always give the same id."""
    return str(uuid5(NAMESPACE_URL, f"sosafe:notification:{source_id}:{service.value}:{channel.value}"))


def console_link(console_url: str, service: Service, referral_id: str) -> str:
    """The duty-officer console opened on one queue item."""
    query = urlencode({"service": service.value, "referral_id": referral_id})
    return f"{console_url.rstrip('/')}/?{query}"


def notifications_for_decision(
    decision: TriageDecision, channels: ChannelsFor, console_url: str, now: datetime
) -> list[Notification]:
    """One notification per assignment per channel its service is reached on (`new_information` for a
    follow-up on the referrer's new information, which goes to the team as an assignment does)."""
    kind = NotificationKind.new_information if decision.kind is DecisionKind.follow_up else NotificationKind.assignment
    return [
        Notification(
            notification_id=notification_id_for(decision.decision_id, assignment.service, channel),
            kind=kind,
            channel=channel,
            referral_id=decision.referral_id,
            service=assignment.service,
            priority=assignment.priority,
            due_at=assignment.due_at,
            flags=list(decision.flags),
            link=console_link(console_url, assignment.service, decision.referral_id),
            source_id=decision.decision_id,
            created_at=now,
        )
        for assignment in decision.assignments
        for channel in channels(assignment.service, NotificationKind.assignment)
    ]


def unreached_services(decision: TriageDecision, channels: ChannelsFor) -> list[Service]:
    """The services of the decision's assignments that no channel reaches: nobody is told about those."""
    return [a.service for a in decision.assignments if not tuple(channels(a.service, NotificationKind.assignment))]


def notifications_for_escalation(
    escalation: Escalation, channels: ChannelsFor, console_url: str, now: datetime
) -> list[Notification]:
    """One notification per channel the service's manager is reached on (e-mail, where configured)."""
    return [
        Notification(
            notification_id=notification_id_for(escalation.escalation_id, escalation.service, channel),
            kind=NotificationKind.escalation,
            channel=channel,
            referral_id=escalation.referral_id,
            service=escalation.service,
            priority=escalation.priority,
            due_at=escalation.due_at,
            flags=[],
            link=console_link(console_url, escalation.service, escalation.referral_id),
            source_id=escalation.escalation_id,
            created_at=now,
        )
        for channel in channels(escalation.service, NotificationKind.escalation)
    ]


TAKEN_ON: Final = frozenset({WithdrawnState.claimed, WithdrawnState.accepted})
"""A withdrawn assignment in one of these states stays open until its officer settles it: its team is told."""


def notifications_for_withdrawal(
    outcome: ReferralOutcome, channels: ChannelsFor, console_url: str, now: datetime
) -> list[Notification]:
    """One notification per channel the service's team is reached on when the referrer withdrew a referral
    the service had claimed or accepted (none for any other outcome: an unclaimed item closed by the
    withdrawal needs nobody's action). Its id derives from the outcome's, so a redelivery sends the same."""
    if outcome.kind is not OutcomeKind.withdrawn or outcome.item_state not in TAKEN_ON:
        return []
    return [
        Notification(
            notification_id=notification_id_for(outcome.outcome_id, outcome.service, channel),
            kind=NotificationKind.withdrawn,
            channel=channel,
            referral_id=outcome.referral_id,
            service=outcome.service,
            priority=outcome.priority,
            due_at=outcome.due_at,
            flags=[],
            link=console_link(console_url, outcome.service, outcome.referral_id),
            source_id=outcome.outcome_id,
            created_at=now,
            reason_code=outcome.reason_code,
        )
        for channel in channels(outcome.service, NotificationKind.withdrawn)
    ]


def _local(moment: datetime) -> datetime:
    return moment.astimezone(LOCAL_TIME)


def _short_time(moment: datetime) -> str:
    """`26 Nov 14:00`, in UK local time."""
    local = _local(moment)
    return f"{local.day} {local:%b %H:%M}"


def _long_time(moment: datetime) -> str:
    """`Thu 26 Nov 2026 14:00 GMT (2026-11-26T14:00:00Z)`."""
    local = _local(moment)
    utc = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{local:%a} {local.day} {local:%b %Y %H:%M %Z} ({utc})"


def _priority_word(priority: Priority) -> str:
    return priority.value.upper()


def email_subject(notification: Notification) -> str:
    """`[SoSafe] HIGH referral for SADA, due 26 Nov 14:00`: no personal data."""
    priority = _priority_word(notification.priority)
    service = display_name(notification.service)
    due = _short_time(notification.due_at)
    if notification.kind is NotificationKind.escalation:
        return f"[SoSafe] OVERDUE {priority} referral for {service}, was due {due}"
    if notification.kind is NotificationKind.withdrawn:
        return f"[SoSafe] WITHDRAWN by the referrer: {priority} referral for {service}"
    if notification.kind is NotificationKind.new_information:
        return f"[SoSafe] NEW INFORMATION: {priority} referral for {service}, due {due}"
    return f"[SoSafe] {priority} referral for {service}, due {due}"


def email_text(notification: Notification) -> str:
    """The plain-text body: the whitelisted fields in words."""
    service = display_name(notification.service)
    if notification.kind is NotificationKind.escalation:
        opening = (
            f"A {notification.priority.value} referral in the {service} queue is past its deadline and still open."
        )
    elif notification.kind is NotificationKind.new_information:
        opening = (
            f"The referrer sent new information about a referral for {service}: it is now {notification.priority.value}"
            " priority (or newly assigned to you). Read it in the console."
        )
    elif notification.kind is NotificationKind.withdrawn:
        opening = (
            f"A referral {service} has claimed or accepted was withdrawn by the referrer. It stays open in the"
            " console, marked withdrawn, until your officer settles it (accept, decline or close)."
        )
    else:
        opening = f"A referral has been assigned to {service}."
    flags = [f"  - {FLAG_WORDS[flag]}" for flag in notification.flags] or ["  - none"]
    reason = [f"Withdrawal reason: {notification.reason_code}"] if notification.reason_code else []
    lines = [
        opening,
        "",
        f"Referral: {notification.referral_id}",
        f"Service: {service} ({notification.service.value})",
        f"Priority: {_priority_word(notification.priority)}",
        f"Deadline: {_long_time(notification.due_at)}",
        *reason,
        "Flags:",
        *flags,
        "",
        f"Open it in the SoSafe console: {notification.link}",
        "",
        "The referral's details are in the console only; this message deliberately carries none.",
        f"Notification id: {notification.notification_id}",
    ]
    return "\n".join(lines) + "\n"


def render_email(notification: Notification, sender: str, recipient: str, domain: str) -> EmailMessage:
    """The e-mail for a notification; its Message-ID is the notification id, so resends can be spotted."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = email_subject(notification)
    message["Date"] = format_datetime(notification.created_at.astimezone(UTC))
    message["Message-ID"] = f"<{notification.notification_id}@{domain}>"
    message[NOTIFICATION_ID_HEADER] = notification.notification_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(email_text(notification))
    return message


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def notification_for_outcome(outcome: ReferralOutcome, now: datetime) -> Notification:
    """The webhook to the referring partner for one outcome; its id is the outcome's (the receiver's
    de-duplication key, the same on every retry and redelivery)."""
    return Notification(
        notification_id=outcome.outcome_id,
        kind=NotificationKind.outcome,
        channel=NotificationChannel.webhook,
        referral_id=outcome.referral_id,
        service=outcome.service,
        priority=outcome.priority,
        due_at=outcome.due_at,
        flags=[],
        link=f"/v1/referrals/{outcome.referral_id}",
        source_id=outcome.outcome_id,
        created_at=now,
        partner_id=outcome.partner_id,
        outcome=outcome,
    )


def _canonical(document: dict[str, object]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def webhook_body(notification: Notification) -> bytes:
    """Canonical JSON (sorted keys, no spaces, UTF-8) of `WEBHOOK_FIELDS` plus a version; for an outcome, of
    the `ReferralOutcome` itself (its published schema: `schemas/json/topic-referrals.outcomes.json`)."""
    if notification.outcome is not None:
        return _canonical(notification.outcome.model_dump(mode="json"))
    document: dict[str, object] = {
        "webhook_version": WEBHOOK_VERSION,
        "notification_id": notification.notification_id,
        "kind": notification.kind.value,
        "referral_id": notification.referral_id,
        "service": notification.service.value,
        "priority": notification.priority.value,
        "due_at": _utc_text(notification.due_at),
        "flags": [flag.value for flag in notification.flags],
        "link": notification.link,
        "source_id": notification.source_id,
        "created_at": _utc_text(notification.created_at),
    }
    if notification.reason_code is not None:  # withdrawn: the referrer's reason code
        document["reason_code"] = notification.reason_code
    return _canonical(document)
