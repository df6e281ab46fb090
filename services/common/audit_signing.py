"""Signs each audit event as a service sends it to `audit.events`, with the service's audit key.

The pure cores build events with their chain `hash` only (they hold no secret); the Faust app's topic
class adds `key_id` and `mac` to every value sent to `audit.events`, whichever agent sends it
(docs/architecture.md#trust-boundaries). Signing is deterministic, so a redelivered step sends the same
bytes again."""

from __future__ import annotations

from typing import Any

import faust
from faust.types import CodecArg, SchemaT

from schemas.audit import AuditEvent
from schemas.codec import decode, encode
from services.common.audit_keys import AuditKeyring
from services.common.topics import AUDIT


class AuditSigningTopic(faust.Topic):
    """A Faust topic that signs what it sends when it is `audit.events`; other topics are unchanged."""

    keyring: AuditKeyring | None = None

    def prepare_value(
        self,
        value: Any,
        value_serializer: CodecArg,
        schema: SchemaT[Any, Any] | None = None,
        headers: Any = None,
    ) -> tuple[Any, Any]:
        if self.keyring is not None and AUDIT in (self.topics or ()):
            value = signed(self.keyring, value)
        return super().prepare_value(value, value_serializer, schema, headers)


def signed(keyring: AuditKeyring, value: bytes | AuditEvent) -> bytes:
    """The encoded event, signed with the keyring's signing key (a value that is not an event raises)."""
    event = value if isinstance(value, AuditEvent) else decode(value, AuditEvent)
    return encode(keyring.sign(event))


def signing_topic_class(keyring: AuditKeyring) -> type[AuditSigningTopic]:
    """The topic class for one app: signs `audit.events` values with `keyring`."""
    return type("AuditSigningTopic", (AuditSigningTopic,), {"keyring": keyring})
