"""Officers' scope: which referrals an officer may see (`may_see`, `scope_of` and their parsing), and that an
officer sees a referral only through their own services: items, decisions and audit events."""

from __future__ import annotations

from schemas.vocabulary import Service
from services.common.access import AccessFile, Officer, Registry, hash_token
from services.triage.api.officers import (
    decisions_in_scope,
    events_in_scope,
    items_in_scope,
    may_see,
    officer_for,
    parse_service,
    scope_of,
)
from services.triage.cases.case import Case, apply_decision
from services.triage.cases.trail import decision_events
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


def officer(*services: Service, manager: bool = False, officer_id: str = "officer-1") -> Officer:
    return Officer(
        id=officer_id,
        name="Test Officer",
        services=frozenset(services),
        manager=manager,
        token_sha256=hash_token(f"token-{officer_id}"),
    )


def case_with(*services: Service) -> Case:
    case, _ = apply_decision(None, decision(*services), T0)
    return case


def test_an_officer_sees_a_referral_with_an_item_in_their_service() -> None:
    """A SADA officer sees a referral that has a SADA queue item."""
    assert may_see(officer(Service.sada), case_with(Service.sada)) is True


def test_an_officer_does_not_see_a_referral_with_no_item_in_their_services() -> None:
    """A SOS officer may not see a referral queued only for SADA and MNWG."""
    assert may_see(officer(Service.sos), case_with(Service.sada, Service.mnwg)) is False


def test_one_item_in_scope_is_enough_to_see_the_referral() -> None:
    """An officer of MNWG sees a referral queued for SADA and MNWG."""
    assert may_see(officer(Service.mnwg), case_with(Service.sada, Service.mnwg)) is True


def test_an_officer_of_several_services_sees_a_referral_in_any_of_them() -> None:
    """An officer covering SOS and hate crime sees a referral queued for hate crime only."""
    assert may_see(officer(Service.sos, Service.hate_crime), case_with(Service.hate_crime)) is True


def test_an_officer_without_services_sees_nothing() -> None:
    """A non-manager with an empty scope sees no referral, whatever its queues."""
    assert may_see(officer(), case_with(Service.sada, Service.sos, Service.manual_review)) is False


def test_a_manager_sees_a_referral_outside_their_own_services() -> None:
    """A manager with no services of their own sees every referral."""
    assert may_see(officer(manager=True), case_with(Service.modern_slavery)) is True


def test_an_officer_does_not_see_a_manual_review_item_outside_their_scope() -> None:
    """The manual-review queue is a service like the others: only its officers and managers see it."""
    referral = case_with(Service.manual_review)
    assert may_see(officer(Service.sada), referral) is False
    assert may_see(officer(Service.manual_review), referral) is True


def test_scope_of_an_officer_carries_their_id_and_services() -> None:
    """The action scope names the officer and exactly their services, not a manager's reach."""
    scope = scope_of(officer(Service.sada, Service.sos, officer_id="officer-sada-9"))
    assert scope.officer_id == "officer-sada-9"
    assert scope.services == frozenset({Service.sada, Service.sos})
    assert scope.manager is False
    assert not scope.covers(Service.mnwg)


def test_scope_of_a_manager_covers_every_service() -> None:
    """A manager's action scope is marked as a manager's and covers every queue."""
    scope = scope_of(officer(manager=True, officer_id="manager-1"))
    assert scope.manager is True and scope.officer_id == "manager-1"
    assert all(scope.covers(service) for service in Service)


def test_a_bearer_token_finds_its_officer() -> None:
    """The Authorization header's bearer token names the officer who holds it."""
    sada = officer(Service.sada, officer_id="officer-sada-1")
    tokens = Registry(AccessFile(officers=[sada, officer(Service.sos, officer_id="officer-sos-1")]))
    assert officer_for(tokens, "Bearer token-officer-sada-1") == sada


def test_an_unknown_token_finds_no_officer() -> None:
    """A token nobody holds is no officer."""
    tokens = Registry(AccessFile(officers=[officer(Service.sada)]))
    assert officer_for(tokens, "Bearer token-someone-else") is None


def test_a_missing_or_malformed_authorization_header_finds_no_officer() -> None:
    """No header, an empty one, or another scheme is no officer, even when the token is known."""
    tokens = Registry(AccessFile(officers=[officer(Service.sada)]))
    assert [officer_for(tokens, h) for h in (None, "", "Basic token-officer-1", "Bearer ")] == [None] * 4


def test_a_service_name_in_a_path_is_parsed() -> None:
    """A known service name gives the service."""
    assert parse_service("modern_slavery") == Service.modern_slavery


def test_an_unknown_service_name_gives_none() -> None:
    """An unknown name is no service, not an error."""
    assert parse_service("not_a_service") is None
