"""`OfficerAction` on `triage.actions`: a duty officer's command on one queue item."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, StringConstraints

from schemas.base import Message
from schemas.vocabulary import Service


class ActionKind(StrEnum):
    claim = "claim"
    accept = "accept"
    decline = "decline"
    reassign = "reassign"
    close = "close"


class OfficerAction(Message):
    action_version: Literal["1"] = "1"
    action_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    referral_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    service: Service
    kind: ActionKind
    officer_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    requested_at: AwareDatetime
    reason: Annotated[str, StringConstraints(max_length=500)] | None = None
    to: Service | None = None
