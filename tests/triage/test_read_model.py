"""The read model builds each referral's trail from `audit.events` as it arrives (redelivered, out of order)."""

from __future__ import annotations

from datetime import timedelta

import orjson

from schemas.codec import encode
from schemas.escalation import Escalation
from schemas.vocabulary import Priority, Service
from services.common.topics import AUDIT
from services.triage.queue import apply_decision
from services.triage.read_model import ReadModel
from services.triage.trail import decision_events, escalation_event
from tests.triage.decision_factory import REFERRAL_ID, T0, assignment, decision


def _events() -> list:
    first = decision(assignment(Service.sada, Priority.high), assignment(Service.no_more, Priority.standard))
    _, items = apply_decision(None, first, T0)
    events, head = decision_events(None, first, items)
    item = items[0]
    escalated, _ = escalation_event(head, Escalation(
        escalation_id="esc-1", referral_id=REFERRAL_ID, service=item.service, priority=item.priority,
        due_at=item.due_at, state=item.state, detected_at=T0 + timedelta(days=2)))
    return [*events, escalated]


def test_events_in_any_order_and_repeated_give_one_trail_in_time_order() -> None:
    events = _events()
    model = ReadModel()
    for event in [events[3], events[1], events[0], events[1], events[2], events[3]]:
        model.apply(AUDIT, REFERRAL_ID.encode(), encode(event))
    trail = model.trail(REFERRAL_ID.encode())
    assert [e.hash for e in trail.events] == [e.hash for e in events]
    assert [e.action.value for e in trail.events] == ["triaged", "queued", "queued", "escalated"]


def test_unreadable_or_referral_less_events_are_left_out_and_unknown_referrals_have_an_empty_trail() -> None:
    model = ReadModel()
    model.apply(AUDIT, b"x", b"{not json")
    model.apply(AUDIT, b"x", b'{"kind": "something else"}')
    assert model.audit == {}
    assert model.trail(b"no-such-referral").events == []


def test_an_event_filed_by_its_keys_but_invalid_is_left_out_of_the_trail_not_served_broken() -> None:
    events = _events()
    model = ReadModel()
    model.apply(AUDIT, REFERRAL_ID.encode(), encode(events[0]))
    model.apply(AUDIT, REFERRAL_ID.encode(),
                orjson.dumps({"referral_id": REFERRAL_ID, "chain": "triage:x", "seq": 7, "action": "nonsense"}))
    assert [e.hash for e in model.trail(REFERRAL_ID.encode()).events] == [events[0].hash]
