"""The one codec: bytes on a topic <-> the frozen model that topic carries."""

from __future__ import annotations

from typing import Final, TypeVar

import orjson
from pydantic import BaseModel

from schemas.action import OfficerAction
from schemas.audit import AuditEvent
from schemas.dead_letter import DeadLetter
from schemas.decision import TriageDecision
from schemas.envelope import SubmissionEnvelope
from schemas.escalation import Escalation
from schemas.notification import NotificationAttempt
from schemas.outcome import ReferralOutcome
from schemas.referral import Referral
from schemas.rejection import ReferralRejected
from schemas.update import ReferralUpdate

M = TypeVar("M", bound=BaseModel)

TOPIC_MODELS: Final[dict[str, type[BaseModel]]] = {
    "referrals.submitted": SubmissionEnvelope,
    "referrals.accepted": Referral,
    "referrals.rejected": ReferralRejected,
    "referrals.updates": ReferralUpdate,
    "triage.decisions": TriageDecision,
    "triage.actions": OfficerAction,
    "triage.escalations": Escalation,
    "notifications.retry": NotificationAttempt,
    "notifications.dead": NotificationAttempt,
    "audit.events": AuditEvent,
    "messages.dead": DeadLetter,
    "referrals.outcomes": ReferralOutcome,
}
"""Every contract topic and the model of its values (published: `schemas/export.py`). The services decode
by `services.common.topic_models.MODELS`, which adds their internal topics."""


def encode(message: BaseModel) -> bytes:
    """A model as compact JSON bytes."""
    return message.__pydantic_serializer__.to_json(message)


def decode(data: bytes | str, model: type[M]) -> M:
    """Bytes as a model; raises `pydantic.ValidationError` for anything that is not one."""
    return model.model_validate_json(data)


def loads(data: bytes | str) -> object:
    """Plain JSON, for payloads validated in a second step (raises `orjson.JSONDecodeError`)."""
    return orjson.loads(data)
