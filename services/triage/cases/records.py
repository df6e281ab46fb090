"""What triage keeps besides the queue cases (pure models): the referral record and subject history."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.decision import TriageDecision
from schemas.referral import Referral
from schemas.update import ReferralUpdate
from services.common.audit_chain import ChainHead
from services.triage.routing.rules import PriorSubjectReferral

MAX_HISTORY = 200
"""Earlier referrals kept per subject; the repeat rule looks back 365 days, far fewer in practice."""


class ReferralRecord(BaseModel):
    """A referral as triage holds it: the referral, its decisions, and triage's audit chain head."""

    model_config = ConfigDict(frozen=True)

    referral: Referral
    decisions: list[TriageDecision] = Field(default_factory=list)
    head: ChainHead = ChainHead()
    updates: list[ReferralUpdate] = Field(default_factory=list)
    """What the referrer added or withdrew after sending it, in order."""


class SubjectHistory(BaseModel):
    """The referrals triage has seen for one subject key (a keyed hash, never the identity)."""

    model_config = ConfigDict(frozen=True)

    referrals: list[PriorSubjectReferral] = Field(default_factory=list)

    def with_referral(self, entry: PriorSubjectReferral) -> SubjectHistory:
        if any(prior.referral_id == entry.referral_id for prior in self.referrals):
            return self
        kept = sorted([*self.referrals, entry], key=lambda prior: prior.accepted_at)[-MAX_HISTORY:]
        return SubjectHistory(referrals=kept)


class SlaCheck(BaseModel):
    """The SLA timer asks the case agent to look for breaches of one referral as of `checked_at`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    referral_id: str
    checked_at: AwareDatetime
