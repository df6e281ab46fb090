"""Every Prometheus object of intake. Label values come from fixed sets (agency, channel, reason, status)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram

REJECTION_REASONS = (
    "invalid_json",
    "undecodable",
    "invalid_envelope",
    "unknown_partner",
    "invalid_submission",
    "partner_mismatch",
    "internal_invalid",
)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass(frozen=True)
class IntakeMetrics:
    received: Counter
    accepted: Counter
    duplicate: Counter
    rejected: Counter
    http_responses: Counter
    admission_latency: Histogram
    poison: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> IntakeMetrics:
        metrics = cls._build(registry)
        for reason in REJECTION_REASONS:  # start every series at 0 so increase() sees the first event
            for channel in ("http", "kafka"):
                metrics.rejected.labels(reason, channel)
        for topic in ("referrals.submitted", "sosafe-intake-validated"):
            metrics.poison.labels("intake", topic)
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
        )
