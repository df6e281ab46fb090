"""An officer sees a referral only through their own services: items, decisions and audit events."""

from __future__ import annotations

from schemas.vocabulary import Service
from services.common.access import Officer
from services.triage.officers import decisions_in_scope, events_in_scope, items_in_scope, may_see
from services.triage.queue import apply_decision
from services.triage.trail import decision_events
from tests.triage.decision_factory import T0, decision

HASH = "sha256:" + "0" * 64
SADA_OFFICER = Officer(id="o-sada", name="SADA duty officer", services=frozenset({Service.sada}), token_sha256=HASH)
SOS_OFFICER = Officer(id="o-sos", name="SOS duty officer", services=frozenset({Service.sos}), token_sha256=HASH)
MR_OFFICER = Officer(id="o-mr", name="Manual review", services=frozenset({Service.manual_review}), token_sha256=HASH)
MANAGER = Officer(id="m", name="Manager", manager=True, token_sha256=HASH)

SADA_AND_HATE = decision(Service.sada, Service.hate_crime)


def test_an_officer_may_see_a_referral_only_when_one_of_its_items_is_in_scope() -> None:
    """SADA's officer sees a SADA and hate-crime referral, SOS's does not; a manager sees every one."""
    case, _ = apply_decision(None, SADA_AND_HATE, T0)
    assert may_see(SADA_OFFICER, case) and may_see(MANAGER, case)
    assert not may_see(SOS_OFFICER, case) and not may_see(MR_OFFICER, case)


def test_an_officer_sees_only_the_items_of_their_services() -> None:
    """SADA's officer is shown SADA's item and not hate crime's; a manager is shown both."""
    case, _ = apply_decision(None, SADA_AND_HATE, T0)
    assert [i.service for i in items_in_scope(SADA_OFFICER, case.items.values())] == [Service.sada]
    assert {i.service for i in items_in_scope(MANAGER, case.items.values())} == {Service.sada, Service.hate_crime}


def test_an_officer_sees_only_the_assignments_to_their_services() -> None:
    """A decision shows SADA's officer its SADA assignment only; a decision with none of theirs is left out."""
    only_sos = decision(Service.sos, decision_id="d-sos")
    [shown] = decisions_in_scope(SADA_OFFICER, [SADA_AND_HATE, only_sos])
    assert shown.decision_id == SADA_AND_HATE.decision_id
    assert [a.service for a in shown.assignments] == [Service.sada]
    assert decisions_in_scope(MANAGER, [SADA_AND_HATE, only_sos]) == [SADA_AND_HATE, only_sos]


def test_an_officer_sees_whole_audit_events_about_the_referral_or_their_services() -> None:
    """`triaged` (the referral as a whole) and SADA's `queued` are shown whole; hate crime's `queued` is not."""
    _, items = apply_decision(None, SADA_AND_HATE, T0)
    events, _ = decision_events(None, SADA_AND_HATE, items)
    shown = events_in_scope(SADA_OFFICER, events)
    assert [(e.action.value, e.details.get("service")) for e in shown] == [("triaged", None), ("queued", "sada")]
    assert all(e.hash == e.computed_hash() for e in shown)
    assert events_in_scope(MANAGER, events) == events
