"""The deadline watch's index: open items per referral, decoded again only when a stored state changes."""

from __future__ import annotations

from datetime import timedelta

from schemas.codec import decode, encode
from schemas.vocabulary import Priority, Service
from services.triage.queue import Case, apply_decision, find_breaches
from services.triage.sla import DeadlineIndex, needs_escalation
from tests.triage.decision_factory import T0, assignment, decision


def _counting_index() -> tuple[DeadlineIndex, list[bytes]]:
    decoded: list[bytes] = []

    def case_of(raw: bytes) -> Case | None:
        decoded.append(raw)
        return decode(raw, Case)
    return DeadlineIndex(case_of), decoded


def test_only_changed_states_are_decoded_and_only_open_items_are_kept() -> None:
    case, _ = apply_decision(None, decision(assignment(Service.sada, Priority.high),
                                            assignment(Service.no_more, Priority.standard)), T0)
    index, decoded = _counting_index()
    stored = {b"r1": encode(case)}
    [found] = index.open_cases(stored)
    assert {item.service for item in found.items} == {Service.sada, Service.no_more}
    assert index.open_cases({b"r1": bytes(bytearray(stored[b"r1"]))}) == [found], "an equal value is not decoded again"
    assert len(decoded) == 1
    assert index.open_cases({}) == []
    assert index.open_cases(stored) == [found] and len(decoded) == 2, "a forgotten key is decoded again"


def test_an_escalated_deadline_is_not_due_again_until_the_state_changes() -> None:
    case, _ = apply_decision(None, decision(assignment(Service.sada, Priority.urgent)), T0)
    late = T0 + timedelta(hours=5)
    index, decoded = _counting_index()
    [before] = index.open_cases({b"r1": encode(case)})
    assert needs_escalation(before, late)
    escalated, escalations = find_breaches(case, late)
    assert len(escalations) == 1
    [after] = index.open_cases({b"r1": encode(escalated)})
    assert not needs_escalation(after, late)
    assert len(decoded) == 2
