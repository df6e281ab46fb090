"""Every topic the system uses (docs/architecture.md#topics), so that all of them are created before workers start."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

SUBMITTED: Final = "referrals.submitted"
"""Intake's own: the submissions intake's HTTP handler authenticated. Only intake's principal writes it."""
PARTNER_SUBMITTED_PREFIX: Final = f"{SUBMITTED}."
"""`referrals.submitted.<partner id>`: one per partner of the access file, which only that partner's
principal may write; intake takes the partner from the topic, never from the payload."""
ACCEPTED: Final = "referrals.accepted"
REJECTED: Final = "referrals.rejected"
UPDATES: Final = "referrals.updates"
"""The referring partner's new information and withdrawals (intake HTTP -> triage's case agent)."""
DECISIONS: Final = "triage.decisions"
ACTIONS: Final = "triage.actions"
ESCALATIONS: Final = "triage.escalations"
NOTIFY_RETRY: Final = "notifications.retry"
NOTIFY_DEAD: Final = "notifications.dead"
AUDIT: Final = "audit.events"
DEAD_MESSAGES: Final = "messages.dead"
"""Messages triage or notify could not process (an addition to the original contract; restricted access)."""
OUTCOMES: Final = "referrals.outcomes"
"""What each referring partner is told about its referrals (`ReferralOutcome`), keyed by referral id."""
PARTNER_OUTCOMES_PREFIX: Final = f"{OUTCOMES}."
"""`referrals.outcomes.<partner id>`: one per partner of the access file, holding the outcomes of that
partner's referrals only (notify forwards them, keyed by referral id); only that partner's principal may
read it, only notify write it (docs/webhooks.md#outcome-topics)."""

CONTRACT_TOPICS: Final = (
    SUBMITTED,
    ACCEPTED,
    REJECTED,
    UPDATES,
    DECISIONS,
    ACTIONS,
    ESCALATIONS,
    NOTIFY_RETRY,
    NOTIFY_DEAD,
    AUDIT,
    DEAD_MESSAGES,
    OUTCOMES,
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
    every_changelog = tuple(name for app in TABLES for name in changelogs(app))
    return (INTAKE_VALIDATED, TRIAGE_BY_SUBJECT, TRIAGE_SLA_CHECKS, *every_changelog)


def partner_submitted(partner_id: str) -> str:
    """The topic a partner that produces directly writes its submissions to."""
    return f"{PARTNER_SUBMITTED_PREFIX}{partner_id}"


def partner_of_topic(topic: str) -> str | None:
    """The partner id a partner submission topic is named for; None for any other topic."""
    if topic.startswith(PARTNER_SUBMITTED_PREFIX) and len(topic) > len(PARTNER_SUBMITTED_PREFIX):
        return topic[len(PARTNER_SUBMITTED_PREFIX) :]
    return None


def partner_outcomes(partner_id: str) -> str:
    """The topic a partner reads the outcomes of its own referrals from."""
    return f"{PARTNER_OUTCOMES_PREFIX}{partner_id}"


def partner_topics(partner_ids: Iterable[str]) -> tuple[str, ...]:
    """The partners' submission topics (what intake reads)."""
    return tuple(partner_submitted(partner_id) for partner_id in partner_ids)


def partner_outcome_topics(partner_ids: Iterable[str]) -> tuple[str, ...]:
    return tuple(partner_outcomes(partner_id) for partner_id in partner_ids)


def all_topics(partner_ids: Iterable[str] = ()) -> tuple[str, ...]:
    """Every topic to create: the fixed ones, and a submission and an outcome topic for each partner id given
    (from the access file; docker-compose's topic-init reads them from the mounted access file)."""
    ids = tuple(partner_ids)
    return (*CONTRACT_TOPICS, *internal_topics(), *partner_topics(ids), *partner_outcome_topics(ids))


def changelogs(app: str) -> tuple[str, ...]:
    return tuple(f"{app}-{table}-changelog" for table in TABLES[app])


@dataclass(frozen=True)
class TopicAccess:
    """What one service's principal may do on the broker; the cluster's ACLs are made from this."""

    reads: tuple[str, ...]
    writes: tuple[str, ...]
    creates: tuple[str, ...]
    """Topics Faust declares itself (internal streams and changelogs): it asks to create them at start."""
    read_prefixes: tuple[str, ...] = ()
    write_prefixes: tuple[str, ...] = ()


SERVICE_ACCESS: Final = {
    INTAKE_APP: TopicAccess(
        reads=(SUBMITTED, INTAKE_VALIDATED, *changelogs(INTAKE_APP)),
        writes=(SUBMITTED, INTAKE_VALIDATED, ACCEPTED, REJECTED, UPDATES, AUDIT, *changelogs(INTAKE_APP)),
        creates=(INTAKE_VALIDATED, *changelogs(INTAKE_APP)),
        read_prefixes=(PARTNER_SUBMITTED_PREFIX,),
    ),
    TRIAGE_APP: TopicAccess(
        reads=(
            ACCEPTED,
            UPDATES,
            DECISIONS,
            ACTIONS,
            AUDIT,
            OUTCOMES,
            TRIAGE_BY_SUBJECT,
            TRIAGE_SLA_CHECKS,
            *changelogs(TRIAGE_APP),
        ),
        writes=(
            DECISIONS,
            OUTCOMES,
            ACTIONS,
            ESCALATIONS,
            AUDIT,
            DEAD_MESSAGES,
            TRIAGE_BY_SUBJECT,
            TRIAGE_SLA_CHECKS,
            *changelogs(TRIAGE_APP),
        ),
        creates=(TRIAGE_BY_SUBJECT, TRIAGE_SLA_CHECKS, *changelogs(TRIAGE_APP)),
    ),
    NOTIFY_APP: TopicAccess(
        reads=(DECISIONS, ESCALATIONS, OUTCOMES, NOTIFY_RETRY, *changelogs(NOTIFY_APP)),
        writes=(NOTIFY_RETRY, NOTIFY_DEAD, AUDIT, DEAD_MESSAGES, *changelogs(NOTIFY_APP)),
        creates=changelogs(NOTIFY_APP),
        write_prefixes=(PARTNER_OUTCOMES_PREFIX,),
    ),
}
"""Each service's principal (named as its app, e.g. `sosafe-intake`) and consumer group: the topics it
reads and writes, and nothing else (docs/architecture.md#trust-boundaries). Partner principals
`partner-<id>` are not here: deploy/kafka/init-security.sh grants each WRITE on `partner_submitted(id)` and
READ on `partner_outcomes(id)` and its groups only."""
