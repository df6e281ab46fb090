"""Fixtures for the notify tests: a decision, an escalation and the routing they go through."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from schemas.decision import Assignment, Flag, TriageDecision
from schemas.escalation import Escalation
from schemas.notification import Notification, NotificationChannel, NotificationKind
from schemas.vocabulary import Priority, Service
from services.notify.routing import NotifyRouting

NOW = datetime(2026, 11, 25, 14, 5, tzinfo=UTC)
CONSOLE_URL = "https://sosafe.example.org/"

PERSONAL_STRINGS = (
    "Zephyrine",
    "Quillbottom",
    "2001-04-03",
    "SG1 9ZZ",
    "07700 900123",
    "zephyrine@example.net",
    "hit her with a kettle",
)
"""Distinctive personal details planted in the decision's free-text fields, which no notification may show."""


@pytest.fixture
def routing() -> NotifyRouting:
    return NotifyRouting.model_validate(
        {
            "services": {
                "sada": {
                    "team_email": "referrals@sada.example.org",
                    "manager_email": "manager@sada.example.org",
                    "webhook": {"url": "https://cases.sada.example.org/hook", "secret_env": "SADA_SECRET"},
                },
                "no_more": {"team_email": "team@nomore.example.org"},
            }
        }
    )


@pytest.fixture
def decision() -> TriageDecision:
    """A high-risk DA decision to SADA and No More, its free text stuffed with personal details."""
    return TriageDecision(
        decision_id="0b7c6c1e-3f5e-5d5b-9a59-2f4a1f1d8c01",
        referral_id="4e2f8a10-6a0b-5c8e-8d7e-1b2c3d4e5f60",
        decided_at=NOW,
        ruleset_version=f"2026.1 {PERSONAL_STRINGS[0]}",
        flags=[Flag.marac, Flag.children_in_household],
        assignments=[
            Assignment(
                service=Service.sada,
                priority=Priority.high,
                due_at=datetime(2026, 11, 26, 14, 0, tzinfo=UTC),
                rule_ids=["da_victim_high_risk"],
                reasons=[" ".join(PERSONAL_STRINGS)],
            ),
            Assignment(
                service=Service.no_more,
                priority=Priority.medium,
                due_at=datetime(2026, 11, 28, 14, 0, tzinfo=UTC),
                rule_ids=["da_perpetrator"],
                reasons=[PERSONAL_STRINGS[1]],
            ),
        ],
        source_agency="police",
        concerns=["domestic_abuse", PERSONAL_STRINGS[6]],
        caused_by=PERSONAL_STRINGS[5],
    )


@pytest.fixture
def escalation() -> Escalation:
    return Escalation(
        escalation_id="esc-1",
        referral_id="4e2f8a10-6a0b-5c8e-8d7e-1b2c3d4e5f60",
        service=Service.sada,
        priority=Priority.high,
        due_at=datetime(2026, 11, 26, 14, 0, tzinfo=UTC),
        detected_at=datetime(2026, 11, 26, 14, 1, tzinfo=UTC),
        state="new",
    )


@pytest.fixture
def personal_strings() -> tuple[str, ...]:
    return PERSONAL_STRINGS


@pytest.fixture
def notification() -> Notification:
    """An e-mail assignment notification; `model_copy(update=...)` makes the other kinds."""
    return Notification(
        notification_id="9d1d6a57-0c4b-5b0e-b8e5-6f0c6f9f3a11",
        kind=NotificationKind.assignment,
        channel=NotificationChannel.email,
        referral_id="4e2f8a10-6a0b-5c8e-8d7e-1b2c3d4e5f60",
        service=Service.sada,
        priority=Priority.high,
        due_at=datetime(2026, 11, 26, 14, 0, tzinfo=UTC),
        flags=[Flag.marac],
        link="https://sosafe.example.org/?service=sada&referral_id=4e2f8a10-6a0b-5c8e-8d7e-1b2c3d4e5f60",
        source_id="0b7c6c1e-3f5e-5d5b-9a59-2f4a1f1d8c01",
        created_at=NOW,
    )
