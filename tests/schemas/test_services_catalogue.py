"""The service catalogue: one entry per queue, in the strategy's words."""

from __future__ import annotations

import pytest

from schemas.services_catalogue import CATALOGUE, OBJECTIVES, ServiceEntry, display_name
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


HERTS = set(District) - {District.other}
SADA_ESTABLISHED = {District.stevenage, District.north_herts, District.east_herts, District.welwyn_hatfield}


def test_coverage_as_the_strategy_says_with_pilots_apart() -> None:
    """SADA: four districts established, Hertsmere and the rest of the county as pilots; Youth No More a
    county-wide pilot; the MARAC coordinator the county; manual review everywhere; the rest Stevenage."""
    sada = CATALOGUE[Service.sada]
    assert (sada.coverage, sada.pilot) == (SADA_ESTABLISHED, HERTS - SADA_ESTABLISHED)
    assert sada.is_pilot(District.hertsmere) and not sada.is_pilot(District.stevenage)
    assert {d for d in District if sada.covers(d)} == HERTS
    youth = CATALOGUE[Service.youth_no_more]
    assert (youth.coverage, youth.pilot) == ({District.stevenage}, HERTS - {District.stevenage})
    assert CATALOGUE[Service.marac].coverage == HERTS
    assert CATALOGUE[Service.manual_review].coverage == set(District)
    county = {Service.sada, Service.youth_no_more, Service.marac, Service.manual_review}
    for service in set(Service) - county:
        assert (CATALOGUE[service].coverage, CATALOGUE[service].pilot) == ({District.stevenage}, set())


def test_a_district_cannot_be_both_established_and_pilot() -> None:
    with pytest.raises(ValueError, match="stevenage listed both as coverage and as pilot"):
        ServiceEntry(
            service=Service.sos,
            name="x",
            coverage=frozenset({District.stevenage}),
            pilot=frozenset({District.stevenage}),
            objectives=frozenset(),
        )


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
        Service.asb: {1, 5},
        Service.youth_no_more: {1, 4, 5},
        Service.yc_herts: {1},
        Service.marac: {2},
    }
