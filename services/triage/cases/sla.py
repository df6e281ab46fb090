"""Deadline watching: which referrals need an SLA check, and the queue depth and overdue gauges."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from schemas.vocabulary import Priority, Service
from services.triage.cases.case import Case
from services.triage.metrics import TriageMetrics


@dataclass(frozen=True, slots=True)
class OpenItem:
    """What the deadline watch needs of one open queue item."""

    service: Service
    priority: Priority
    due_at: datetime
    escalated: bool
    """Already escalated for this `due_at` (one escalation per breach)."""


@dataclass(frozen=True, slots=True)
class OpenCase:
    referral_id: str
    items: tuple[OpenItem, ...]

    @classmethod
    def of(cls, case: Case) -> OpenCase:
        return cls(
            case.referral_id,
            tuple(
                OpenItem(item.service, item.priority, item.due_at, item.escalated_for_due_at == item.due_at)
                for item in case.items.values()
                if item.is_open
            ),
        )


class DeadlineIndex:
    """The open items of the referrals this worker holds, kept up to date as each case changes.

    Only referrals with an open item are held, as small `OpenCase` summaries; a referral is dropped when its
    last item closes. The deadline watch reads this index every `sla_check_interval_s`, so its work grows
    with the open work, not with the cases table (which holds every referral, on disk). The index is
    rebuilt from the table once after each recovery, when the partitions this worker holds change.
    """

    def __init__(self) -> None:
        self._open: dict[str, OpenCase] = {}

    def note(self, case: Case) -> None:
        """The case as just stored: keep its open items, or forget it once none is open."""
        summary = OpenCase.of(case)
        if summary.items:
            self._open[case.referral_id] = summary
        else:
            self._open.pop(case.referral_id, None)

    def rebuild(self, cases: Iterable[Case | None]) -> None:
        """Start again from the cases this worker now holds (after a start-up or a rebalance)."""
        self._open = {}
        for case in cases:
            if case is not None:
                self.note(case)

    def open_cases(self) -> list[OpenCase]:
        return list(self._open.values())

    def __len__(self) -> int:
        return len(self._open)


def needs_escalation(case: OpenCase, now: datetime) -> bool:
    return any(item.due_at < now and not item.escalated for item in case.items)


def refresh_gauges(metrics: TriageMetrics, cases: Iterable[OpenCase], now: datetime) -> list[str]:
    """Sets queue depth and overdue gauges from this worker's cases; returns referrals needing a check."""
    depth: Counter[Service] = Counter()
    overdue: Counter[tuple[Service, Priority]] = Counter()
    due = []
    for case in cases:
        for item in case.items:
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
