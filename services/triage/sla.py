"""Deadline watching: which referrals need an SLA check, and the queue depth and overdue gauges."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from schemas.vocabulary import Priority, Service
from services.triage.metrics import TriageMetrics
from services.triage.queue import Case


def needs_escalation(case: Case, now: datetime) -> bool:
    return any(item.is_open and item.due_at < now and item.escalated_for_due_at != item.due_at
               for item in case.items.values())


def refresh_gauges(metrics: TriageMetrics, cases: Iterable[Case], now: datetime) -> list[str]:
    """Sets queue depth and overdue gauges from this worker's cases; returns referrals needing a check."""
    depth: Counter[Service] = Counter()
    overdue: Counter[tuple[Service, Priority]] = Counter()
    due = []
    for case in cases:
        for item in case.items.values():
            if item.is_open:
                depth[item.service] += 1
                if item.due_at < now:
                    overdue[(item.service, item.priority)] += 1
        if needs_escalation(case, now):
            due.append(case.referral_id)
    for service in Service:
        metrics.queue_depth.labels(service.value).set(depth[service])
        for priority in Priority:
            metrics.overdue.labels(service.value, priority.value).set(overdue[(service, priority)])
    return due
