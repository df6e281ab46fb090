"""The `ruleset_live` audit event (pure): triage records each ruleset it starts deciding with, once.

The chain is `triage:ruleset:<version>`. The first start with a version appends its first event; a later
start with the same file (the same SHA-256) appends nothing; a start with the same version but a different
file (edited without a new version) appends the next event of the same chain, linked to the one before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from schemas.audit import ActorKind, AuditAction, AuditEvent
from schemas.audit_details import RulesetLiveDetails, details_as
from services.common.audit_chain import ChainHead, chain_name, next_event
from services.triage.routing.ruleset import Ruleset


def chain_key(version: str) -> str:
    return f"ruleset:{version}"


def ruleset_chain(version: str) -> str:
    """The chain of a version's `ruleset_live` events."""
    return chain_name("triage", chain_key(version))


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def announcement(chain: Sequence[AuditEvent], ruleset: Ruleset, sha256: str, now: datetime) -> AuditEvent | None:
    """The event announcing `ruleset` (loaded from a file of `sha256`), or None when `chain` (the version's
    events so far, in order) already ends with this file."""
    head = None
    if chain:
        last = chain[-1]
        details = details_as(last, RulesetLiveDetails)
        if details is not None and details.sha256 == sha256:
            return None
        head = ChainHead(seq=last.seq, hash=last.hash)
    event, _ = next_event(
        head,
        emitter="triage",
        chain_key=chain_key(ruleset.version),
        referral_id=None,
        action=AuditAction.ruleset_live,
        actor_kind=ActorKind.service,
        actor="triage",
        occurred_at=now,
        details=RulesetLiveDetails(ruleset_version=ruleset.version, sha256=sha256, rules=len(ruleset.rules)),
    )
    return event
