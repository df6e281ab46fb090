"""What notify remembers per referral and the audit events of each delivery outcome (pure)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from schemas.audit import ActorKind, AuditAction, AuditEvent
from schemas.notification import Notification
from services.common.audit_chain import ChainHead, next_event

MAX_HANDLED = 500


class DeliveryRecord(BaseModel):
    """Notification ids this agent has handled for one referral (sent, or handed to retry/dead-letter)
    and the agent's audit chain head. A redelivered message finds its ids here and sends nothing."""

    model_config = ConfigDict(frozen=True)

    handled: list[str] = Field(default_factory=list)
    head: ChainHead = ChainHead()

    def has(self, key: str) -> bool:
        return key in self.handled

    def with_handled(self, key: str, head: ChainHead) -> DeliveryRecord:
        return DeliveryRecord(handled=[*self.handled, key][-MAX_HANDLED:], head=head)


def delivery_event(head: ChainHead | None, chain_key: str, notification: Notification, action: AuditAction,
                   occurred_at: datetime, attempt: int, failure: str | None = None
                   ) -> tuple[AuditEvent, ChainHead]:
    """`notified`, `notification_failed` or `dead_lettered`, with non-personal details only."""
    details: dict[str, str | int | bool | list[str] | None] = {
        "notification_id": notification.notification_id, "channel": notification.channel.value,
        "service": notification.service.value, "kind": notification.kind.value, "attempt": attempt,
    }
    if failure is not None:
        details["failure"] = failure
    return next_event(head, emitter="notify", chain_key=chain_key, referral_id=notification.referral_id,
                      action=action, actor_kind=ActorKind.service, actor="notify", occurred_at=occurred_at,
                      details=details)
