"""The triage service object: everything triage's agents and views need, built once by `app.build`.

Agents and views import this type only; `app.py` builds it and wires them in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import faust
from faust.types import TableT
from prometheus_client import CollectorRegistry

from services.common.access import AccessFile, Registry
from services.common.rate_limit import RateLimiter
from services.triage.cases.replies import PendingReplies
from services.triage.cases.sla import DeadlineIndex
from services.triage.metrics import TriageMetrics
from services.triage.read.queries import ReadModel
from services.triage.routing.deadlines import DueAt
from services.triage.routing.ruleset import Ruleset
from services.triage.settings import TriageSettings


@dataclass
class Triage:
    """Everything triage's agents and views need, built once at start-up."""

    settings: TriageSettings
    app: faust.App
    registry: CollectorRegistry
    metrics: TriageMetrics
    ruleset: Ruleset
    access: AccessFile
    tokens: Registry
    replies: PendingReplies
    view: ReadModel
    accepted: faust.TopicT
    decisions: faust.TopicT
    actions: faust.TopicT
    escalations: faust.TopicT
    outcomes: faust.TopicT
    audit: faust.TopicT
    dead: faust.TopicT
    by_subject: faust.TopicT
    sla_checks: faust.TopicT
    cases: TableT[bytes, bytes]
    subject_history: TableT[bytes, bytes]
    open_items: DeadlineIndex = field(default_factory=DeadlineIndex)
    """The referrals with an open item, for the deadline watch (kept by the case agent, rebuilt on recovery)."""
    action_limiter: RateLimiter = field(default_factory=RateLimiter)
    """Officer actions per officer, from the API and the console (`SOSAFE_OFFICER_ACTIONS_PER_MINUTE`)."""

    @property
    def deadlines(self) -> DueAt:
        """When an item is due, by the ruleset's deadlines and working calendar."""
        return self.ruleset.due_at
