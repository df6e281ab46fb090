"""`AuditEvent` on `audit.events`: append-only, hash-chained per referral and emitting service."""

from __future__ import annotations

import hashlib
import hmac
from enum import StrEnum
from typing import Annotated, Literal, get_args

import orjson
from pydantic import AwareDatetime, StringConstraints

from schemas.base import Message


class AuditAction(StrEnum):
    submitted = "submitted"
    accepted = "accepted"
    duplicate = "duplicate"
    rejected = "rejected"
    triaged = "triaged"
    queued = "queued"
    claimed = "claimed"
    item_accepted = "item_accepted"
    declined = "declined"
    reassigned = "reassigned"
    closed = "closed"
    escalated = "escalated"
    notified = "notified"
    notification_failed = "notification_failed"
    dead_lettered = "dead_lettered"
    information_added = "information_added"
    withdrawn = "withdrawn"
    ruleset_live = "ruleset_live"
    """triage started deciding with a ruleset (no referral: its chain is `triage:ruleset:<version>`)."""


class ActorKind(StrEnum):
    partner = "partner"
    officer = "officer"
    service = "service"


Emitter = Literal["intake", "triage", "notify"]
"""The services that emit audit events (and dead letters), in the order a trail shows same-time events."""
EMITTERS: tuple[Emitter, ...] = get_args(Emitter)

Detail = Annotated[str, StringConstraints(max_length=500)]
DetailValue = Detail | int | bool | list[Detail] | None
"""One value of `AuditEvent.details`; `schemas/audit_details.py` says which keys each action writes."""
GENESIS = "0" * 64
KEY_ID_PATTERN = r"^[A-Za-z0-9._-]{1,32}$"
SIGNATURE_FIELDS = frozenset({"hash", "key_id", "mac"})
"""Left out of `hash`: the hash is the chain's link, computed before the emitting service signs the event."""


class AuditEvent(Message):
    """One step in a referral's life. `details` holds non-personal facts only (ids, services, codes).

    `chain` names the hash chain the event belongs to: `<emitting service>:<referral or submission id>`.
    `prev_hash` is the `hash` of the previous event of that chain (`GENESIS` for the first) and `hash`
    the SHA-256 of this event's canonical JSON without `hash`, `key_id` and `mac`.

    `mac` is the HMAC-SHA-256, under the emitting service's audit key named by `key_id`, of the event's
    canonical JSON without `mac` (so it covers `hash`, and through `prev_hash` the chain before it). The
    service adds both as it sends the event; only a holder of the key can append an event that verifies
    (docs/architecture.md#trust-boundaries).
    """

    audit_version: Literal["1"] = "1"
    event_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    referral_id: str | None
    chain: Annotated[str, StringConstraints(min_length=1, max_length=120)]
    seq: int
    action: AuditAction
    actor_kind: ActorKind
    actor: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    emitted_by: Emitter
    occurred_at: AwareDatetime
    details: dict[str, DetailValue]  # written and read through its action's model in schemas/audit_details.py
    prev_hash: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    hash: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    key_id: Annotated[str, StringConstraints(pattern=KEY_ID_PATTERN)] | None = None
    """The audit key `mac` was made with; None only on an event not yet signed (or forged)."""
    mac: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] | None = None

    def computed_hash(self) -> str:
        """The SHA-256 this event should carry, from its canonical form."""
        return event_hash(self.model_dump(mode="json"))

    def computed_mac(self, secret: bytes) -> str:
        """The HMAC-SHA-256 this event should carry under `secret`, over its canonical form without `mac`."""
        body = self.model_dump(mode="json", exclude={"mac"})
        return hmac.new(secret, orjson.dumps(body, option=orjson.OPT_SORT_KEYS), hashlib.sha256).hexdigest()

    def sealed(self) -> AuditEvent:
        """This event carrying the hash of its other fields."""
        return self.model_copy(update={"hash": self.computed_hash()})


def event_hash(fields: dict[str, object]) -> str:
    """SHA-256 over canonical JSON (sorted keys) of an event's fields other than `hash`, `key_id` and `mac`."""
    body = {k: v for k, v in fields.items() if k not in SIGNATURE_FIELDS}
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()
