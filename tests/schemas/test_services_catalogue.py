"""The service catalogue: one entry per queue, in the strategy's words."""

from __future__ import annotations

from schemas.services_catalogue import CATALOGUE, OBJECTIVES, display_name
from schemas.vocabulary import District, Service


def test_every_service_has_one_entry_under_its_own_name() -> None:
    assert list(CATALOGUE) == list(Service)
    assert all(entry.service is service for service, entry in CATALOGUE.items())


def test_names_are_the_strategys_and_each_is_used_once() -> None:
    assert display_name(Service.sada) == "SADA"
    assert display_name(Service.no_more) == "No More Service"
    assert display_name(Service.sos) == "SOS youth violence project"
    assert display_name(Service.mnwg) == "Multiple Needs Working Group"
    assert len({entry.name for entry in CATALOGUE.values()}) == len(CATALOGUE)


def test_coverage_sada_five_districts_the_rest_stevenage_manual_review_all() -> None:
    assert CATALOGUE[Service.sada].coverage == set(District) - {District.other}
    for service in set(Service) - {Service.sada, Service.manual_review}:
        assert CATALOGUE[service].coverage == {District.stevenage}
    assert CATALOGUE[Service.manual_review].coverage == set(District)


def test_objectives_are_the_strategys_no_more_under_one_and_four_manual_review_none() -> None:
    assert set(OBJECTIVES) == {1, 2, 3, 4, 5}
    assert all(entry.objectives <= set(OBJECTIVES) for entry in CATALOGUE.values())
    assert {s: e.objectives for s, e in CATALOGUE.items()} == {
        Service.sada: {2},
        Service.no_more: {1, 4},
        Service.sos: {1},
        Service.mnwg: {5},
        Service.modern_slavery: {2},
        Service.hate_crime: {3},
        Service.manual_review: set(),
    }
