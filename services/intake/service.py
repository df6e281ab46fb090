"""The intake service object: everything intake's agents and views need, built once by `app.build`.

Agents and views import this type only; `app.py` builds it and wires them in.
"""

from __future__ import annotations

from dataclasses import dataclass

import faust
from faust.types import TableT
from prometheus_client import CollectorRegistry

from services.common.access import AccessFile, Registry
from services.common.rate_limit import RateLimiter
from services.intake.metrics import IntakeMetrics
from services.intake.publisher import SubmissionPublisher
from services.intake.settings import IntakeSettings


@dataclass
class Intake:
    """Everything intake's agents and views need, built once at start-up."""

    settings: IntakeSettings
    app: faust.App
    registry: CollectorRegistry
    metrics: IntakeMetrics
    access: AccessFile
    tokens: Registry
    rate_limiter: RateLimiter
    publisher: SubmissionPublisher
    submitted: faust.TopicT
    """`referrals.submitted` and every partner's `referrals.submitted.<partner id>` (`subscriptions.py`)."""
    validated: faust.TopicT
    accepted: faust.TopicT
    rejected: faust.TopicT
    audit: faust.TopicT
    seen: TableT[bytes, bytes]
