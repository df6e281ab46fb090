"""What notify remembers per referral, and what each delivery attempt produces (pure).

A notification is an outside effect that cannot be taken back, so notify works in three moves:
1. record the *intent* (the attempt's time) in the table and flush it to the broker before sending;
2. send to the peer;
3. record the attempt as done, with the messages it produced (audit event, retry or dead letter), then
   send those messages.
`plan_delivery` decides, from the record, which steps of a (re)delivered message are attempted and which
only re-send what they produced; `record_attempt` times each attempt by its intent.
A worker killed anywhere re-runs the attempt from what survived: the same time from the intent, the same
chain position, so the same audit event (no fork in the hash chain); a done attempt re-sends its stored
messages; the peer may see the notification twice, always with the same id (Message-ID, Idempotency-Key).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from schemas.audit import ActorKind, AuditAction, AuditEvent
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
    model_config = ConfigDict(frozen=True)

    head: ChainHead = ChainHead()
    intents: dict[str, datetime] = Field(default_factory=dict)
    done: list[Done] = Field(default_factory=list)

    def done_step(self, step: str) -> Done | None:
        return next((d for d in self.done if d.step == step), None)

    def with_intents(self, steps: list[str], now: datetime) -> DeliveryRecord:
        return self.model_copy(update={"intents": {**{s: now for s in steps}, **self.intents}})

    def with_done(self, step: str, messages: list[Message], head: ChainHead) -> DeliveryRecord:
        intents = {s: t for s, t in self.intents.items() if s != step}
        done = [*self.done, Done(step=step, messages=messages)][-MAX_DONE:]
        return DeliveryRecord(head=head, intents=intents, done=done)


@dataclass(frozen=True)
class AttemptResult:
    messages: list[Message]
    head: ChainHead
    outcomes: list[str]
    """Metric outcomes: sent; or failed plus retried or dead_lettered."""
    dead: bool = False


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


def attempt_result(notification: Notification, attempt: int, failure: tuple[str, str, bool] | None,
                   occurred_at: datetime, head: ChainHead, chain_key: str, policy: RetryPolicy,
                   rng: random.Random) -> AttemptResult:
    """The messages of one attempt. `failure` is (transport message, failure code, permanent) or None."""
    if failure is None:
        event, head = delivery_event(head, chain_key, notification, AuditAction.notified, occurred_at, attempt)
        return AttemptResult([Message(topic=topics.AUDIT, value=encode(event).decode())], head, ["sent"])
    message, code, permanent = failure
    dead, next_attempt = after_failure(notification, attempt, message, occurred_at, policy, rng, permanent=permanent)
    action = AuditAction.dead_lettered if dead else AuditAction.notification_failed
    event, head = delivery_event(head, chain_key, notification, action, occurred_at, attempt, code)
    messages = [Message(topic=topics.NOTIFY_DEAD if dead else topics.NOTIFY_RETRY,
                        value=encode(next_attempt).decode()),
                Message(topic=topics.AUDIT, value=encode(event).decode())]
    return AttemptResult(messages, head, ["failed", "dead_lettered" if dead else "retried"], dead)


@dataclass(frozen=True)
class DeliveryPlan:
    """What a (re)delivered message's steps come to, before anything is sent."""

    record: DeliveryRecord
    """With an intent for every step to attempt: a fresh step's is `now`, a re-run keeps its first."""
    replay: list[Done]
    """Attempts already made: their stored messages go out again and the peer is not sent anything."""
    attempts: list[str]
    """Steps to attempt, in the order given."""
    new_intents: bool
    """The record gained intents: store it and flush before the first attempt."""


def plan_delivery(record: DeliveryRecord, steps: list[str], now: datetime) -> DeliveryPlan:
    """Split `steps` into done attempts to replay and attempts to make, recording an intent for new ones."""
    replay: list[Done] = []
    attempts: list[str] = []
    for step in steps:
        done = record.done_step(step)
        if done is None:
            attempts.append(step)
        else:
            replay.append(done)
    fresh = [step for step in attempts if step not in record.intents]
    planned = record.with_intents(fresh, now) if fresh else record
    return DeliveryPlan(record=planned, replay=replay, attempts=attempts, new_intents=bool(fresh))


def record_attempt(record: DeliveryRecord, step: str, notification: Notification, attempt: int,
                   failure: tuple[str, str, bool] | None, chain_key: str, policy: RetryPolicy,
                   rng: random.Random) -> tuple[DeliveryRecord, AttemptResult]:
    """The attempt at `step`, timed by its recorded intent (never the clock: a re-run after a crash gets the
    same time, so the same audit event), and the record with the attempt done."""
    result = attempt_result(notification, attempt, failure, record.intents[step], record.head, chain_key,
                            policy, rng)
    return record.with_done(step, result.messages, result.head), result
