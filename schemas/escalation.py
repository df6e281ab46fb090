"""`Escalation` on `triage.escalations`: an open queue item went past its deadline."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime

from schemas.base import Message
from schemas.vocabulary import Priority, Service


class Escalation(Message):
    escalation_version: Literal["1"] = "1"
    escalation_id: str
    referral_id: str
    service: Service
    priority: Priority
    due_at: AwareDatetime
    detected_at: AwareDatetime
    state: str
