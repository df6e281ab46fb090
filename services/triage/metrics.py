"""Every Prometheus object of triage. Label values come from fixed sets (service, priority, kind, outcome)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from services.common.observability import LATENCY_BUCKETS


@dataclass(frozen=True)
class TriageMetrics:
    decisions: Counter
    queue_depth: Gauge
    overdue: Gauge
    officer_actions: Counter
    escalations: Counter
    latency: Histogram
    poison: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> TriageMetrics:
        metrics = cls._build(registry)
        for topic in (
            "referrals.accepted",
            "triage.decisions",
            "triage.actions",
            "audit.events",
            "sosafe-triage-by-subject",
            "sosafe-triage-sla-checks",
        ):
            metrics.poison.labels("triage", topic)  # start at 0 so increase() sees the first event
        return metrics

    @classmethod
    def _build(cls, registry: CollectorRegistry) -> TriageMetrics:
        return cls(
            decisions=Counter(
                "sosafe_triage_decisions_total",
                "Assignments decided, by service",
                ["service", "priority", "kind"],
                registry=registry,
            ),
            queue_depth=Gauge(
                "sosafe_triage_queue_depth", "Open queue items (new or claimed)", ["service"], registry=registry
            ),
            overdue=Gauge(
                "sosafe_triage_overdue_items",
                "Open queue items past their deadline",
                ["service", "priority"],
                registry=registry,
            ),
            officer_actions=Counter(
                "sosafe_triage_officer_actions_total",
                "Officer actions applied or refused",
                ["kind", "outcome"],
                registry=registry,
            ),
            escalations=Counter(
                "sosafe_triage_escalations_total", "SLA breaches escalated", ["service", "priority"], registry=registry
            ),
            latency=Histogram(
                "sosafe_triage_latency_seconds",
                "From receipt at intake to triage decision",
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
