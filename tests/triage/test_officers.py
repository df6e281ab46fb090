"""Officers' scope: which referrals an officer may see, and the scope their actions are checked against."""

from __future__ import annotations

from schemas.vocabulary import Service
from services.common.access import Officer, hash_token
from services.triage.officers import may_see, scope_of
from services.triage.queue import Case, apply_decision
from tests.triage.decision_factory import T0, decision


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
