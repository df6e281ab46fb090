"""Every Prometheus object of intake. Label values come from fixed sets (agency, channel, reason, status)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram

from schemas.rejection import RejectionReason
from services.common.observability import LATENCY_BUCKETS

REJECTION_REASONS = tuple(reason.value for reason in RejectionReason)

UPDATE_OUTCOMES = ("published", "invalid", "not_found")
"""What became of a referrer's update or withdrawal request (`sosafe_intake_updates_total`)."""


@dataclass(frozen=True)
class IntakeMetrics:
    received: Counter
    accepted: Counter
    duplicate: Counter
    rejected: Counter
    http_responses: Counter
    admission_latency: Histogram
    poison: Counter
    updates: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> IntakeMetrics:
        metrics = cls._build(registry)
        for reason in REJECTION_REASONS:  # start every series at 0 so increase() sees the first event
            for channel in ("http", "kafka"):
                metrics.rejected.labels(reason, channel)
        for topic in ("referrals.submitted", "sosafe-intake-validated"):
            metrics.poison.labels("intake", topic)
        for kind in ("updates", "withdraw"):
            for outcome in UPDATE_OUTCOMES:
                metrics.updates.labels(kind, outcome)
        return metrics

    @classmethod
    def _build(cls, registry: CollectorRegistry) -> IntakeMetrics:
        return cls(
            received=Counter(
                "sosafe_intake_received_total", "Submissions received", ["agency", "channel"], registry=registry
            ),
            accepted=Counter(
                "sosafe_intake_accepted_total", "Referrals accepted (first occurrence)", ["agency"], registry=registry
            ),
            duplicate=Counter(
                "sosafe_intake_duplicate_total", "Resubmissions of a known referral", ["agency"], registry=registry
            ),
            rejected=Counter(
                "sosafe_intake_rejected_total",
                "Submissions rejected to the dead-letter topic",
                ["reason", "channel"],
                registry=registry,
            ),
            http_responses=Counter(
                "sosafe_intake_http_responses_total", "Intake HTTP answers by status", ["status"], registry=registry
            ),
            admission_latency=Histogram(
                "sosafe_intake_admission_seconds",
                "From receipt at intake to accepted or duplicate",
                buckets=LATENCY_BUCKETS,
                registry=registry,
            ),
            poison=Counter(
                "sosafe_poison_messages_total",
                "Messages that could not be processed",
                ["service", "topic"],
                registry=registry,
            ),
            updates=Counter(
                "sosafe_intake_updates_total",
                "Referrers' new information and withdrawals, by outcome",
                ["kind", "outcome"],
                registry=registry,
            ),
        )
