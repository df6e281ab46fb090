"""Every Prometheus object of notify. Label values come from fixed sets (channel, service, outcome)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram

from schemas.notification import NotificationChannel, NotificationKind
from schemas.vocabulary import Service
from services.common.observability import LATENCY_BUCKETS

OUTCOMES = ("sent", "failed", "retried", "dead_lettered", "duplicate_skipped")


@dataclass(frozen=True)
class NotifyMetrics:
    notifications: Counter
    send_seconds: Histogram
    end_to_end: Histogram
    poison: Counter
    unreached: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> NotifyMetrics:
        metrics = cls._build(registry)
        for service in Service:  # start every series at 0 so increase() sees the first event
            for channel in NotificationChannel:
                for outcome in OUTCOMES:
                    metrics.notifications.labels(channel.value, service.value, outcome)
        for service in Service:
            for kind in NotificationKind:
                metrics.unreached.labels(service.value, kind.value)
        for topic in ("triage.decisions", "triage.escalations", "notifications.retry"):
            metrics.poison.labels("notify", topic)
        return metrics

    @classmethod
    def _build(cls, registry: CollectorRegistry) -> NotifyMetrics:
        return cls(
            notifications=Counter(
                "sosafe_notify_notifications_total",
                "Notifications by outcome: sent, failed, retried, dead_lettered, duplicate_skipped",
                ["channel", "service", "outcome"],
                registry=registry,
            ),
            send_seconds=Histogram(
                "sosafe_notify_send_seconds",
                "Time to hand one notification to its peer",
                ["channel"],
                buckets=LATENCY_BUCKETS,
                registry=registry,
            ),
            end_to_end=Histogram(
                "sosafe_notify_end_to_end_seconds",
                "From receipt at intake to the assignment's notification sent",
                buckets=LATENCY_BUCKETS,
                registry=registry,
            ),
            poison=Counter(
                "sosafe_poison_messages_total",
                "Messages that could not be processed",
                ["service", "topic"],
                registry=registry,
            ),
            unreached=Counter(
                "sosafe_notify_unreached_total",
                "Assignments (or escalations) whose service has no contact configured: nobody was notified",
                ["service", "kind"],
                registry=registry,
            ),
        )
