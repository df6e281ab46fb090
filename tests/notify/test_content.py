"""What a receiving team is told: one notification per assignment and channel, nothing personal."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from uuid import NAMESPACE_URL, uuid5

from schemas.decision import DecisionKind, Flag, TriageDecision
from schemas.escalation import Escalation
from schemas.notification import Notification, NotificationChannel, NotificationKind
from schemas.outcome import OutcomeKind, ReferralOutcome, WithdrawnState
from schemas.vocabulary import Priority, Service
from services.notify.content import (
    FLAG_WORDS,
    NOTIFICATION_ID_HEADER,
    WEBHOOK_FIELDS,
    notifications_for_decision,
    notifications_for_escalation,
    notifications_for_withdrawal,
    render_email,
    unreached_services,
    webhook_body,
)
from services.notify.routing import NotifyRouting

NOW = datetime(2026, 11, 25, 14, 5, tzinfo=UTC)
CONSOLE_URL = "https://sosafe.example.org/"

SAFE_NOTIFICATION_FIELDS = {
    "notification_id",
    "kind",
    "channel",
    "referral_id",
    "service",
    "priority",
    "due_at",
    "flags",
    "link",
    "source_id",
    "created_at",
    "partner_id",  # an outcome's partner: the access file's id
    "outcome",  # a ReferralOutcome: ids, service, priority, times, codes (schemas/outcome.py)
    "reason_code",  # a withdrawal's reason: a code from a fixed list (schemas/update.py WithdrawalReason)
}
"""Every field a Notification may have. A new field must be checked for personal data and added here."""


def _render_all(notifications: list[Notification]) -> str:
    rendered = []
    for n in notifications:
        if n.channel is NotificationChannel.email:
            message = render_email(n, "SoSafe <noreply@sosafe.example.org>", "team@example.org", "sosafe.example.org")
            rendered += [message.as_string(), message.get_content()]  # headers, and the decoded body
        else:
            rendered.append(webhook_body(n).decode())
    return "\n".join(rendered)


def test_each_assignment_gets_one_notification_per_configured_channel(
    decision: TriageDecision, routing: NotifyRouting
) -> None:
    """SADA has e-mail and a webhook, No More only e-mail."""
    notifications = notifications_for_decision(decision, routing.channels_for, CONSOLE_URL, NOW)

    assert [(n.service, n.channel) for n in notifications] == [
        (Service.sada, NotificationChannel.email),
        (Service.sada, NotificationChannel.webhook),
        (Service.no_more, NotificationChannel.email),
    ]
    assert {n.kind for n in notifications} == {NotificationKind.assignment}


def test_notification_carries_the_assignments_priority_deadline_and_the_decisions_flags(
    decision: TriageDecision, routing: NotifyRouting
) -> None:
    """Priority and deadline are per assignment; flags belong to the decision."""
    no_more = notifications_for_decision(decision, routing.channels_for, CONSOLE_URL, NOW)[-1]

    assert no_more.priority == decision.assignments[1].priority
    assert no_more.due_at == decision.assignments[1].due_at
    assert no_more.flags == [Flag.marac, Flag.children_in_household]
    assert no_more.referral_id == decision.referral_id
    assert no_more.source_id == decision.decision_id
    assert no_more.link == (
        "https://sosafe.example.org/?service=no_more&referral_id=4e2f8a10-6a0b-5c8e-8d7e-1b2c3d4e5f60"
    )


def test_notification_ids_are_deterministic_per_decision_service_and_channel(
    decision: TriageDecision, routing: NotifyRouting
) -> None:
    """A redelivered decision yields the same ids, even at another time."""
    first = notifications_for_decision(decision, routing.channels_for, CONSOLE_URL, NOW)
    again = notifications_for_decision(
        decision, routing.channels_for, CONSOLE_URL, datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    )

    assert [n.notification_id for n in first] == [n.notification_id for n in again]
    assert len({n.notification_id for n in first}) == 3
    assert first[0].notification_id == str(
        uuid5(NAMESPACE_URL, f"sosafe:notification:{decision.decision_id}:sada:email")
    )


def test_a_service_without_contacts_gets_no_notification(decision: TriageDecision) -> None:
    """Routing that knows only No More leaves SADA's assignment to the queue alone."""
    routing = NotifyRouting.model_validate({"services": {"no_more": {"team_email": "t@nomore.example.org"}}})

    notifications = notifications_for_decision(decision, routing.channels_for, CONSOLE_URL, NOW)

    assert [n.service for n in notifications] == [Service.no_more]


def test_the_services_no_channel_reaches_are_named_so_they_can_be_signalled(
    decision: TriageDecision, routing: NotifyRouting
) -> None:
    """SADA and No More have contacts; an empty routing reaches neither, and says which."""
    assert unreached_services(decision, routing.channels_for) == []
    assert unreached_services(decision, NotifyRouting().channels_for) == [Service.sada, Service.no_more]
    only_sada = NotifyRouting.model_validate({"services": {"sada": {"team_email": "t@sada.example.org"}}})
    assert unreached_services(decision, only_sada.channels_for) == [Service.no_more]


def test_escalation_goes_by_email_only_to_a_service_with_a_manager(
    escalation: Escalation, routing: NotifyRouting
) -> None:
    """SADA has a manager address (and a webhook, which escalations do not use)."""
    notifications = notifications_for_escalation(escalation, routing.channels_for, CONSOLE_URL, NOW)
    no_manager = notifications_for_escalation(
        escalation.model_copy(update={"service": Service.no_more}), routing.channels_for, CONSOLE_URL, NOW
    )

    assert [(n.kind, n.channel, n.source_id) for n in notifications] == [
        (NotificationKind.escalation, NotificationChannel.email, "esc-1")
    ]
    assert no_manager == []


def test_email_subject_names_priority_service_and_local_deadline(notification: Notification) -> None:
    """26 Nov 14:00 UTC is 14:00 GMT."""
    message = render_email(
        notification, "SoSafe <noreply@sosafe.example.org>", "t@sada.example.org", "sosafe.example.org"
    )

    assert message["Subject"] == "[SoSafe] HIGH referral for SADA, due 26 Nov 14:00"


def test_email_deadline_is_shown_in_uk_summer_time(notification: Notification) -> None:
    """13:00 UTC on 1 July is 14:00 BST."""
    summer = notification.model_copy(update={"due_at": datetime(2026, 7, 1, 13, 0, tzinfo=UTC)})

    message = render_email(summer, "noreply@sosafe.example.org", "t@sada.example.org", "sosafe.example.org")

    assert message["Subject"].endswith("due 1 Jul 14:00")
    assert "Wed 1 Jul 2026 14:00 BST (2026-07-01T13:00:00Z)" in message.get_content()


def test_escalation_email_says_the_referral_is_overdue(notification: Notification) -> None:
    """The manager's subject differs from the team's."""
    overdue = notification.model_copy(update={"kind": NotificationKind.escalation})

    message = render_email(overdue, "noreply@sosafe.example.org", "m@sada.example.org", "sosafe.example.org")

    assert message["Subject"] == "[SoSafe] OVERDUE HIGH referral for SADA, was due 26 Nov 14:00"


def test_email_carries_the_notification_id_as_message_id_and_header(notification: Notification) -> None:
    """The receiving mail system can spot a resend by its Message-ID."""
    message = render_email(
        notification, "SoSafe <noreply@sosafe.example.org>", "t@sada.example.org", "sosafe.example.org"
    )

    assert message["Message-ID"] == "<9d1d6a57-0c4b-5b0e-b8e5-6f0c6f9f3a11@sosafe.example.org>"
    assert message[NOTIFICATION_ID_HEADER] == notification.notification_id
    assert message["To"] == "t@sada.example.org"
    assert message["Date"] == "Wed, 25 Nov 2026 14:05:00 +0000"


def test_email_body_lists_referral_service_priority_deadline_flags_in_words_and_link(
    notification: Notification,
) -> None:
    """Every whitelisted fact is there, flags spelled out."""
    body = render_email(
        notification, "noreply@sosafe.example.org", "t@sada.example.org", "sosafe.example.org"
    ).get_content()

    assert f"Referral: {notification.referral_id}" in body
    assert "Service: SADA (sada)" in body
    assert "Priority: HIGH" in body
    assert "Deadline: Thu 26 Nov 2026 14:00 GMT (2026-11-26T14:00:00Z)" in body
    assert FLAG_WORDS[Flag.marac] in body
    assert notification.link in body


def test_every_flag_has_words() -> None:
    """A new flag cannot reach an e-mail as a bare code (or a KeyError)."""
    assert set(FLAG_WORDS) == set(Flag)


def test_webhook_body_is_canonical_json_of_the_whitelisted_fields(notification: Notification) -> None:
    """Sorted keys, no spaces, exactly the whitelisted fields plus a version."""
    body = webhook_body(notification.model_copy(update={"channel": NotificationChannel.webhook}))
    document = json.loads(body)

    assert set(document) == {*WEBHOOK_FIELDS, "webhook_version"}
    assert body == json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    assert document["due_at"] == "2026-11-26T14:00:00Z"
    assert document["flags"] == ["marac"]
    assert document["priority"] == "high"
    assert document["service"] == "sada"


def test_notification_model_holds_only_whitelisted_fields() -> None:
    """If the schema grows a field, this test makes someone decide whether it may be sent."""
    assert set(Notification.model_fields) == SAFE_NOTIFICATION_FIELDS


def test_no_personal_detail_from_the_decision_reaches_any_email_or_webhook(
    decision: TriageDecision, escalation: Escalation, routing: NotifyRouting, personal_strings: tuple[str, ...]
) -> None:
    """Reasons, concerns, ruleset version and caused_by are never rendered."""
    notifications = notifications_for_decision(decision, routing.channels_for, CONSOLE_URL, NOW)
    notifications += notifications_for_escalation(escalation, routing.channels_for, CONSOLE_URL, NOW)
    rendered = _render_all(notifications)

    assert decision.referral_id in rendered
    for personal in personal_strings:
        assert personal.lower() not in rendered.lower()


PINNED_EMAIL_TEXT = """\
A referral has been assigned to SADA.

Referral: 4e2f8a10-6a0b-5c8e-8d7e-1b2c3d4e5f60
Service: SADA (sada)
Priority: HIGH
Deadline: Thu 26 Nov 2026 14:00 GMT (2026-11-26T14:00:00Z)
Flags:
  - MARAC: high-risk domestic abuse, consider the risk assessment conference
  - child safeguarding concern

Open it in the SoSafe console: https://sosafe.example.org/?service=sada&referral_id=4e2f8a10-6a0b-5c8e-8d7e-1b2c3d4e5f60

The referral's details are in the console only; this message deliberately carries none.
Notification id: 9d1d6a57-0c4b-5b0e-b8e5-6f0c6f9f3a11
"""

PINNED_WEBHOOK_BODY = (
    '{"created_at":"2026-11-25T14:05:00Z","due_at":"2026-11-26T14:00:00Z",'
    '"flags":["marac","safeguarding_child"],"kind":"assignment",'
    '"link":"https://sosafe.example.org/?service=sada&referral_id=4e2f8a10-6a0b-5c8e-8d7e-1b2c3d4e5f60",'
    '"notification_id":"9d1d6a57-0c4b-5b0e-b8e5-6f0c6f9f3a11","priority":"high",'
    '"referral_id":"4e2f8a10-6a0b-5c8e-8d7e-1b2c3d4e5f60","service":"sada",'
    '"source_id":"0b7c6c1e-3f5e-5d5b-9a59-2f4a1f1d8c01","webhook_version":"1"}'
)


def test_the_whole_of_an_assignment_email_and_webhook_is_pinned(notification: Notification) -> None:
    """Ids, service, priority, deadline, link and the flags, in full and nothing else: a change is a decision."""
    flagged = notification.model_copy(update={"flags": [Flag.marac, Flag.safeguarding_child]})
    email = render_email(flagged, "noreply@sosafe.example.org", "t@sada.example.org", "sosafe.example.org")
    assert email.get_content() == PINNED_EMAIL_TEXT
    webhook = flagged.model_copy(update={"channel": NotificationChannel.webhook})
    assert webhook_body(webhook).decode() == PINNED_WEBHOOK_BODY


def test_the_decision_to_send_flags_is_recorded_with_every_field_and_flag() -> None:
    """docs/decisions.md records the notification content: each webhook field and each flag it may carry."""
    decisions = (Path(__file__).parents[2] / "docs" / "decisions.md").read_text(encoding="utf-8")
    [entry] = [paragraph for paragraph in decisions.split("\n- ") if paragraph.startswith("**Notifications carry")]
    for field in ("referral id", "service", "priority", "deadline", "console link", "`flags`"):
        assert field in entry
    for flag in Flag:
        assert f"`{flag.value}`" in entry


def test_a_follow_up_on_new_information_says_so(decision: TriageDecision, routing: NotifyRouting) -> None:
    """A follow-up decision reaches the same teams, as `new_information`, and the e-mail says what happened."""
    follow_up = decision.model_copy(update={"kind": DecisionKind.follow_up, "caused_by": "update-1"})
    notifications = notifications_for_decision(follow_up, routing.channels_for, CONSOLE_URL, NOW)
    assert {n.kind for n in notifications} == {NotificationKind.new_information}
    email = next(n for n in notifications if n.channel is NotificationChannel.email)
    message = render_email(email, "SoSafe <noreply@sosafe.example.org>", "team@example.org", "sosafe.example.org")
    assert message["Subject"].startswith("[SoSafe] NEW INFORMATION:")
    assert "new information" in message.get_content()


def _withdrawn(state: WithdrawnState, service: Service = Service.sada) -> ReferralOutcome:
    return ReferralOutcome(
        outcome_id="o-7",
        referral_id="r-1",
        partner_id="dev-police",
        seq=3,
        kind=OutcomeKind.withdrawn,
        service=service,
        priority=Priority.high,
        due_at=NOW,
        occurred_at=NOW,
        reason_code="support_in_place",
        item_state=state,
    )


def test_a_withdrawal_of_a_claimed_or_accepted_item_goes_to_the_team_with_the_reason_code(
    routing: NotifyRouting,
) -> None:
    """The team of an item it had taken on is told on each of its channels: ids, service, the reason code and
    a console link; an item closed by the withdrawal and every other outcome tell the team nothing."""
    for state in (WithdrawnState.claimed, WithdrawnState.accepted):
        found = notifications_for_withdrawal(_withdrawn(state), routing.channels_for, CONSOLE_URL, NOW)
        assert [(n.kind, n.channel, n.reason_code) for n in found] == [
            (NotificationKind.withdrawn, NotificationChannel.email, "support_in_place"),
            (NotificationKind.withdrawn, NotificationChannel.webhook, "support_in_place"),
        ]
        assert len({n.notification_id for n in found} | {"o-7"}) == 3, "not the partner webhook's id"
        email = render_email(found[0], "SoSafe <noreply@sosafe.example.org>", "t@example.org", "sosafe.example.org")
        assert email["Subject"].startswith("[SoSafe] WITHDRAWN by the referrer:")
        text = email.get_content()
        assert "withdrawn by the referrer" in text and "Withdrawal reason: support_in_place" in text
        assert found[0].link in text
        document = json.loads(webhook_body(found[1]))
        assert set(document) == {*WEBHOOK_FIELDS, "webhook_version", "reason_code"}
        assert (document["kind"], document["reason_code"]) == ("withdrawn", "support_in_place")
    closed = _withdrawn(WithdrawnState.closed)
    assert notifications_for_withdrawal(closed, routing.channels_for, CONSOLE_URL, NOW) == []
    declined = closed.model_copy(update={"kind": OutcomeKind.declined, "item_state": None})
    assert notifications_for_withdrawal(declined, routing.channels_for, CONSOLE_URL, NOW) == []
