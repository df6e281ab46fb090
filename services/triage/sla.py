"""Deadline watching: which referrals need an SLA check, and the queue depth and overdue gauges."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from schemas.vocabulary import Priority, Service
from services.triage.metrics import TriageMetrics
from services.triage.queue import Case


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
        return cls(case.referral_id, tuple(
            OpenItem(item.service, item.priority, item.due_at, item.escalated_for_due_at == item.due_at)
            for item in case.items.values() if item.is_open))


class DeadlineIndex:
    """Each stored referral's open items, decoded again only when its stored state has changed.

    The watch runs every `sla_check_interval_s` over the whole table; decoding every referral's state each
    time grew with the table and became triage's largest cost in long runs (docs/benchmarks.md). Only
    the small `OpenCase` summaries are kept, never the decoded states.
    """

    def __init__(self, case_of: Callable[[bytes], Case | None]) -> None:
        self._case_of = case_of
        self._known: dict[bytes, tuple[bytes, OpenCase | None]] = {}

    def open_cases(self, stored: Mapping[bytes, bytes]) -> list[OpenCase]:
        known: dict[bytes, tuple[bytes, OpenCase | None]] = {}
        found = []
        for key, raw in stored.items():
            if not raw:
                continue
            before = self._known.get(key)
            if before is not None and (before[0] is raw or before[0] == raw):
                summary = before[1]
            else:
                case = self._case_of(raw)
                summary = OpenCase.of(case) if case is not None else None
                summary = summary if summary is not None and summary.items else None
            known[key] = (raw, summary)
            if summary is not None:
                found.append(summary)
        self._known = known
        return found


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
