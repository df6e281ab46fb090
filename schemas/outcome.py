"""`ReferralOutcome` on `referrals.outcomes`: what the referring partner is told about its referral.

One event per change a referrer should know of, each about one service's assignment: `triaged` (queued at
that service with a priority and deadline), `claimed`, `accepted`, `declined` (with a reason code),
`reassigned` (with the service it went to), `closed` (with a reason code) and `withdrawn`. Never an
officer's name or id, never free text, never anything about the person: ids, services, codes and times.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StringConstraints

from schemas.base import Message
from schemas.vocabulary import Priority, Service


class OutcomeKind(StrEnum):
    triaged = "triaged"
    claimed = "claimed"
    accepted = "accepted"
    declined = "declined"
    reassigned = "reassigned"
    closed = "closed"
    withdrawn = "withdrawn"


class WithdrawnState(StrEnum):
    """A withdrawn assignment's state: `closed` when nobody had taken it on, else the state it stays open in."""

    closed = "closed"
    claimed = "claimed"
    accepted = "accepted"


ReasonCode = Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}$")]


class ReferralOutcome(Message):
    outcome_version: Literal["1"] = "1"
    outcome_id: str
    """Derived from the step and the service: the same on every redelivery (receivers de-duplicate on it)."""
    referral_id: str
    partner_id: str
    """The referring partner (the access file's id): the one party this event is for."""
    seq: int = Field(ge=1)
    """The referral's outcome number, 1, 2, ...: order within one referral, even after retries."""
    kind: OutcomeKind
    service: Service
    priority: Priority
    due_at: AwareDatetime
    """The assignment's deadline as it stood after this change."""
    occurred_at: AwareDatetime
    reason_code: ReasonCode | None = None
    """declined, closed, withdrawn: a code from the fixed list (docs/webhooks.md), never the officer's text."""
    to: Service | None = None
    """reassigned: the service the assignment went to."""
    item_state: WithdrawnState | None = None
    """withdrawn: `closed` when the assignment was still new (closed as `withdrawn_by_referrer`), else
    `claimed` or `accepted`: it stays open, marked withdrawn, until the service's officer settles it (the
    service's team is notified)."""
