"""Builds hash-chained audit events (pure). A chain is one emitting service's events for one referral."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from schemas.audit import GENESIS, ActorKind, AuditAction, AuditEvent, Emitter
from schemas.audit_details import AuditDetails


class ChainHead(BaseModel):
    """Where a chain stands: the last sequence number and hash. Kept in the emitter's table."""

    model_config = ConfigDict(frozen=True)

    seq: int = 0
    hash: str = GENESIS


def chain_name(emitter: Emitter, chain_key: str) -> str:
    return f"{emitter}:{chain_key}"


def next_event(
    head: ChainHead | None,
    *,
    emitter: Emitter,
    chain_key: str,
    referral_id: str | None,
    action: AuditAction,
    actor_kind: ActorKind,
    actor: str,
    occurred_at: datetime,
    details: AuditDetails | None = None,
) -> tuple[AuditEvent, ChainHead]:
    """The next event of a chain and the chain's new head. Same inputs, same event (ids are derived)."""
    head = head or ChainHead()
    chain = chain_name(emitter, chain_key)
    seq = head.seq + 1
    event = AuditEvent(
        event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"sosafe:audit:{chain}:{seq}")),
        referral_id=referral_id,
        chain=chain,
        seq=seq,
        action=action,
        actor_kind=actor_kind,
        actor=actor,
        emitted_by=emitter,
        occurred_at=occurred_at,
        details=details.wire() if details is not None else {},
        prev_hash=head.hash,
        hash=GENESIS,
    ).sealed()
    return event, ChainHead(seq=seq, hash=event.hash)
