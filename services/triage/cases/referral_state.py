"""Everything triage keeps about one referral, in ONE table value, with an outbox (pure).

The case agent writes this value and sends the messages a step produces. Kafka gives no atomic write of
a table value and several messages, so a worker killed while flushing may leave the value written and some
messages unsent. The value therefore keeps the messages of its recent steps (the outbox): a redelivered
message finds its step already applied and re-sends exactly those messages (same ids, same hashes), which
every consumer de-duplicates. Losing the value instead is harmless: redelivery recomputes the same step.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from schemas.decision import TriageDecision
from schemas.referral import Referral
from schemas.update import ReferralUpdate
from services.common.audit_chain import ChainHead
from services.triage.cases.case import Case
from services.triage.cases.records import ReferralRecord

OUTBOX_STEPS = 64
"""Steps whose messages are kept for re-sending; far more than a referral sees between two commits."""


class Sent(BaseModel):
    """One message a step produced: topic, key and value as text (all our values are JSON)."""

    model_config = ConfigDict(frozen=True)

    step: str
    topic: str
    key: str
    value: str


class ReferralState(BaseModel):
    model_config = ConfigDict(frozen=True)

    referral: Referral | None = None
    """None only while a decision has overtaken its (redelivered) referral after a crash."""
    decisions: list[TriageDecision] = Field(default_factory=list)
    head: ChainHead = ChainHead()
    case: Case | None = None
    outbox: list[Sent] = Field(default_factory=list)
    outcomes_told: int = 0
    """How many `ReferralOutcome`s the referrer has been sent: the next one's `seq` is this plus one."""
    updates: list[ReferralUpdate] = Field(default_factory=list)
    """The referrer's updates applied to the case, in order."""
    pending_updates: list[ReferralUpdate] = Field(default_factory=list)
    """Updates that arrived before the referral's first decision, applied right after it."""

    @property
    def partner_id(self) -> str | None:
        return self.referral.partner_id if self.referral is not None else None

    def knows_update(self, update_id: str) -> bool:
        return any(u.update_id == update_id for u in (*self.updates, *self.pending_updates))

    def knows_step(self, step: str) -> bool:
        return any(sent.step == step for sent in self.outbox)

    def sent_by(self, step: str) -> list[Sent]:
        return [sent for sent in self.outbox if sent.step == step]

    def has_decision(self, decision_id: str) -> bool:
        return any(d.decision_id == decision_id for d in self.decisions)

    def with_step(self, step: str, sent: list[Sent], **changes: object) -> ReferralState:
        """This state after a step: its changes applied and its messages at the end of the outbox."""
        outbox = [*self.outbox, *sent] if sent else list(self.outbox)
        steps = list(dict.fromkeys(s.step for s in outbox))
        if len(steps) > OUTBOX_STEPS:
            keep = set(steps[-OUTBOX_STEPS:])
            outbox = [s for s in outbox if s.step in keep]
        return self.model_copy(update={**changes, "outbox": outbox})

    def record(self) -> ReferralRecord | None:
        """The referral as the views show it, once the referral itself is known."""
        if self.referral is None:
            return None
        return ReferralRecord(referral=self.referral, decisions=self.decisions, head=self.head, updates=self.updates)


class StoredCase(BaseModel):
    """Only the case of a stored `ReferralState`: the other fields are skipped, not validated (cheaper when
    every stored referral is read, as after a recovery)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    case: Case | None = None
