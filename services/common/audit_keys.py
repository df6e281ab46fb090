"""The audit keys (pure): the one a service signs its audit events with, and the older ones that still verify.

An event's `hash` links it into its chain; its `mac`, an HMAC-SHA-256 under the emitting service's audit
key named by `key_id`, shows that a service holding the key wrote it. Rotating a key: the new key becomes
`SOSAFE_AUDIT_KEY`/`SOSAFE_AUDIT_KEY_ID`, the old one moves to `SOSAFE_AUDIT_KEYS_PREVIOUS`, and events
signed under it keep verifying (docs/operations.md#audit-keys)."""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass

from schemas.audit import KEY_ID_PATTERN, AuditEvent

DEVELOPMENT_AUDIT_KEY = "dev-only-audit-key-change-me"
"""Public: signs audit events on the embedded broker only (a worker outside development refuses it)."""
DEVELOPMENT_AUDIT_KEY_ID = "dev"


class AuditKeysInvalid(ValueError):
    """A key list is not `id:secret[,id:secret...]`, or names one id twice; the message says which entry."""


def parse_keys(spec: str) -> dict[str, bytes]:
    """`"k1:secret1,k2:secret2"` as `{"k1": b"secret1", ...}`; AuditKeysInvalid naming the bad entry by its id
    or position, never by its secret."""
    keys: dict[str, bytes] = {}
    for position, entry in enumerate(filter(None, (part.strip() for part in spec.split(","))), start=1):
        key_id, sep, secret = entry.partition(":")
        if not sep or not re.fullmatch(KEY_ID_PATTERN, key_id) or not secret:
            raise AuditKeysInvalid(f"audit key entry {position} is not id:secret (id of letters, digits, . _ -)")
        if key_id in keys:
            raise AuditKeysInvalid(f"audit key id {key_id!r} appears twice")
        keys[key_id] = secret.encode()
    return keys


@dataclass(frozen=True)
class AuditKeyring:
    """The key a service signs with (`signing_id`) and every key it accepts when verifying."""

    signing_id: str
    keys: Mapping[str, bytes]

    def __post_init__(self) -> None:
        if self.signing_id not in self.keys:
            raise AuditKeysInvalid(f"the signing audit key {self.signing_id!r} is not in the keyring")

    @classmethod
    def of(cls, key_id: str, secret: str, previous: str = "", extra: str = "") -> AuditKeyring:
        """The keyring of a current key, older keys and further keys to verify with (`id:secret,...`)."""
        keys = {**parse_keys(extra), **parse_keys(previous)}
        if not re.fullmatch(KEY_ID_PATTERN, key_id):
            raise AuditKeysInvalid("the audit key id is not 1-32 letters, digits, . _ or -")
        if key_id in parse_keys(previous):
            raise AuditKeysInvalid(f"audit key id {key_id!r} is both current and previous")
        keys[key_id] = secret.encode()
        return cls(key_id, keys)

    def sign(self, event: AuditEvent) -> AuditEvent:
        """The event with this service's key id and MAC (a signed event is signed afresh)."""
        unsigned = event.model_copy(update={"key_id": self.signing_id, "mac": None})
        return unsigned.model_copy(update={"mac": unsigned.computed_mac(self.keys[self.signing_id])})

    def problem(self, event: AuditEvent) -> str | None:
        """Why the event's MAC does not show a key holder wrote it, or None when it does."""
        if event.key_id is None or event.mac is None:
            return "event is not signed"
        secret = self.keys.get(event.key_id)
        if secret is None:
            return f"signed with unknown audit key {event.key_id!r}"
        if not hmac.compare_digest(event.computed_mac(secret), event.mac):
            return "mac does not match: not written by a holder of the audit key"
        return None
