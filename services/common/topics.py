"""Every topic the system uses (docs/architecture.md#topics), so that all of them are created before workers start."""

from __future__ import annotations

from typing import Final

SUBMITTED: Final = "referrals.submitted"
ACCEPTED: Final = "referrals.accepted"
REJECTED: Final = "referrals.rejected"
DECISIONS: Final = "triage.decisions"
ACTIONS: Final = "triage.actions"
ESCALATIONS: Final = "triage.escalations"
NOTIFY_RETRY: Final = "notifications.retry"
NOTIFY_DEAD: Final = "notifications.dead"
AUDIT: Final = "audit.events"
DEAD_MESSAGES: Final = "messages.dead"
"""Messages triage or notify could not process (an addition to the original contract; restricted access)."""

CONTRACT_TOPICS: Final = (
    SUBMITTED,
    ACCEPTED,
    REJECTED,
    DECISIONS,
    ACTIONS,
    ESCALATIONS,
    NOTIFY_RETRY,
    NOTIFY_DEAD,
    AUDIT,
    DEAD_MESSAGES,
)

INTAKE_APP: Final = "sosafe-intake"
TRIAGE_APP: Final = "sosafe-triage"
NOTIFY_APP: Final = "sosafe-notify"

INTAKE_VALIDATED: Final = f"{INTAKE_APP}-validated"
"""Internal: valid submissions re-keyed by referral_id (partners may produce without a key)."""
TRIAGE_BY_SUBJECT: Final = f"{TRIAGE_APP}-by-subject"
"""Internal: accepted referrals re-keyed by subject key, for the repeat-referral history."""

TRIAGE_SLA_CHECKS: Final = f"{TRIAGE_APP}-sla-checks"
"""Internal: the SLA timer's requests to check a referral's deadlines, applied by the case agent."""

TABLES: Final = {
    INTAKE_APP: ("referrals-seen",),
    TRIAGE_APP: ("cases", "subject-history"),
    NOTIFY_APP: ("notifications-sent", "notifications-retried"),
}
"""Faust tables per app; each has a changelog topic `<app>-<table>-changelog`."""


def internal_topics() -> tuple[str, ...]:
    changelogs = tuple(f"{app}-{table}-changelog" for app, tables in TABLES.items() for table in tables)
    return (INTAKE_VALIDATED, TRIAGE_BY_SUBJECT, TRIAGE_SLA_CHECKS, *changelogs)


def all_topics() -> tuple[str, ...]:
    return (*CONTRACT_TOPICS, *internal_topics())
