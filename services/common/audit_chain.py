"""Builds hash-chained audit events (pure). A chain is one emitting service's events for one referral."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from schemas.audit import GENESIS, ActorKind, AuditAction, AuditEvent, event_hash

Emitter = Literal["intake", "triage", "notify"]
DetailValue = str | int | bool | None | list[str]


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
    details: dict[str, DetailValue] | None = None,
) -> tuple[AuditEvent, ChainHead]:
    """The next event of a chain and the chain's new head. Same inputs, same event (ids are derived)."""
    head = head or ChainHead()
    chain = chain_name(emitter, chain_key)
    seq = head.seq + 1
    fields: dict[str, object] = {
        "audit_version": "1",
        "event_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"sosafe:audit:{chain}:{seq}")),
        "referral_id": referral_id,
        "chain": chain,
        "seq": seq,
        "action": action.value,
        "actor_kind": actor_kind.value,
        "actor": actor,
        "emitted_by": emitter,
        "occurred_at": occurred_at,
        "details": details or {},
        "prev_hash": head.hash,
    }
    draft = AuditEvent.model_validate({**fields, "hash": GENESIS})
    digest = event_hash(draft.model_dump(mode="json"))
    event = draft.model_copy(update={"hash": digest})
    return event, ChainHead(seq=seq, hash=digest)
