"""What notify remembers per referral, and what each delivery attempt produces (pure).

A notification is an outside effect that cannot be taken back, so notify works in three moves per message:
1. send each notification to its peer;
2. record every attempt as done, with the messages it produced (audit event, retry or dead letter), in one
   table write, and flush it to the broker;
3. only then send those messages.
A message is therefore never on the broker unless the record that produced it is. A worker killed before
the record was acknowledged sent none of the attempt's messages: the redelivered message makes the attempt
again, at its own time, from the same chain position, and no other event ever took that position (no fork
in the hash chain). A done attempt re-sends its stored messages. The peer may see a notification twice,
always with the same id (Message-ID, Idempotency-Key).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from schemas.audit import ActorKind, AuditAction, AuditEvent
from schemas.audit_details import DeliveryDetails
from schemas.codec import encode
from schemas.notification import Notification
from services.common import topics
from services.common.audit_chain import ChainHead, next_event
from services.notify.backoff import RetryPolicy, after_failure

MAX_DONE = 500


class Message(BaseModel):
    model_config = ConfigDict(frozen=True)

    topic: str
    value: str


class Done(BaseModel):
    """An attempt that has been made, and the messages it produced."""

    model_config = ConfigDict(frozen=True)

    step: str
    messages: list[Message]


class DeliveryRecord(BaseModel):
    """Notify's one table value per referral (per chain). Values stored before attempts were recorded in
    one write also carry `intents`; they still decode, and an intent not done is attempted again."""

    model_config = ConfigDict(frozen=True)

    head: ChainHead = ChainHead()
    done: list[Done] = Field(default_factory=list)

    def done_step(self, step: str) -> Done | None:
        return next((d for d in self.done if d.step == step), None)

    def with_done(self, step: str, messages: list[Message], head: ChainHead) -> DeliveryRecord:
        done = [*self.done, Done(step=step, messages=messages)][-MAX_DONE:]
        return DeliveryRecord(head=head, done=done)


def split_done(record: DeliveryRecord, steps: list[str]) -> tuple[list[Message], list[str]]:
    """The messages the steps already done produced (sent again, never attempted again) and, in order, the
    steps still to attempt."""
    replay: list[Message] = []
    todo: list[str] = []
    for step in steps:
        done = record.done_step(step)
        if done is None:
            todo.append(step)
        else:
            replay.extend(done.messages)
    return replay, todo


@dataclass(frozen=True)
class AttemptResult:
    messages: list[Message]
    head: ChainHead
    outcomes: list[str]
    """Metric outcomes: sent; or failed plus retried or dead_lettered."""
    dead: bool = False


def delivery_event(
    head: ChainHead | None,
    chain_key: str,
    notification: Notification,
    action: AuditAction,
    occurred_at: datetime,
    attempt: int,
    failure: str | None = None,
) -> tuple[AuditEvent, ChainHead]:
    """`notified`, `notification_failed` or `dead_lettered`, with non-personal details only."""
    details = DeliveryDetails(
        notification_id=notification.notification_id,
        channel=notification.channel,
        service=notification.service,
        kind=notification.kind,
        attempt=attempt,
        failure=failure,
    )
    return next_event(
        head,
        emitter="notify",
        chain_key=chain_key,
        referral_id=notification.referral_id,
        action=action,
        actor_kind=ActorKind.service,
        actor="notify",
        occurred_at=occurred_at,
        details=details,
    )


def attempt_result(
    notification: Notification,
    attempt: int,
    failure: tuple[str, str, bool] | None,
    occurred_at: datetime,
    head: ChainHead,
    chain_key: str,
    policy: RetryPolicy,
    rng: random.Random,
) -> AttemptResult:
    """The messages of one attempt. `failure` is (transport message, failure code, permanent) or None."""
    if failure is None:
        event, head = delivery_event(head, chain_key, notification, AuditAction.notified, occurred_at, attempt)
        return AttemptResult([Message(topic=topics.AUDIT, value=encode(event).decode())], head, ["sent"])
    message, code, permanent = failure
    dead, next_attempt = after_failure(notification, attempt, message, occurred_at, policy, rng, permanent=permanent)
    action = AuditAction.dead_lettered if dead else AuditAction.notification_failed
    event, head = delivery_event(head, chain_key, notification, action, occurred_at, attempt, code)
    messages = [
        Message(topic=topics.NOTIFY_DEAD if dead else topics.NOTIFY_RETRY, value=encode(next_attempt).decode()),
        Message(topic=topics.AUDIT, value=encode(event).decode()),
    ]
    return AttemptResult(messages, head, ["failed", "dead_lettered" if dead else "retried"], dead)
