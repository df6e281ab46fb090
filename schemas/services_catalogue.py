"""The partnership's receiving services in one place: each queue's name, the name people know it by, the
districts it takes referrals from and the strategy objectives it supports.

Read by the routing ruleset (coverage: the out-of-area override), the console and notify (display names)
and the KPI report (objectives). A new service is a `Service` in `schemas/vocabulary.py` (the queue name,
a contract) and an entry here; `tests/schemas/test_services_catalogue.py` checks every service has one.

Names and objectives are the SoSafe Community Safety Strategy 2021-24's ("How our services support the
objectives" and the objective chapters; `docs/reports.md` says why each mapping is as it is).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from pydantic import BaseModel, ConfigDict

from schemas.vocabulary import District, Service

OBJECTIVES: Final[Mapping[int, str]] = {
    1: "Divert young people from becoming involved in crime and ASB",
    2: "Provide safe reporting and support to domestic abuse survivors and victims of modern slavery",
    3: "Promote reporting of hate crime and further promote equality in the community",
    4: "Tackle the harms caused by drugs and alcohol",
    5: "Work with partners to encourage reporting of crime and address perceptions of crime",
}
"""The strategy's five objectives, by number."""

STEVENAGE: Final = frozenset({District.stevenage})
NAMED_DISTRICTS: Final = frozenset(District) - {District.other}
EVERY_DISTRICT: Final = frozenset(District)


class ServiceEntry(BaseModel):
    """One receiving service."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    service: Service
    name: str
    """What officers, teams and board papers call it."""
    coverage: frozenset[District]
    """The districts it takes referrals from; a referral from elsewhere goes to manual review instead."""
    objectives: frozenset[int]
    """The strategy objectives (`OBJECTIVES`) a referral it takes on counts under."""

    def covers(self, district: District) -> bool:
        return district in self.coverage


def _entries(*entries: ServiceEntry) -> Mapping[Service, ServiceEntry]:
    return {entry.service: entry for entry in entries}


CATALOGUE: Final[Mapping[Service, ServiceEntry]] = _entries(
    ServiceEntry(
        service=Service.sada,
        name="SADA",
        coverage=frozenset(
            {
                District.stevenage,
                District.north_herts,
                District.east_herts,
                District.welwyn_hatfield,
                District.hertsmere,
            }
        ),
        objectives=frozenset({2}),
    ),
    ServiceEntry(service=Service.no_more, name="No More Service", coverage=STEVENAGE, objectives=frozenset({1, 4})),
    ServiceEntry(service=Service.sos, name="SOS youth violence project", coverage=STEVENAGE, objectives=frozenset({1})),
    ServiceEntry(
        service=Service.mnwg, name="Multiple Needs Working Group", coverage=STEVENAGE, objectives=frozenset({5})
    ),
    ServiceEntry(
        service=Service.modern_slavery, name="Modern slavery support", coverage=STEVENAGE, objectives=frozenset({2})
    ),
    ServiceEntry(service=Service.hate_crime, name="Hate crime support", coverage=STEVENAGE, objectives=frozenset({3})),
    ServiceEntry(service=Service.manual_review, name="Manual review", coverage=EVERY_DISTRICT, objectives=frozenset()),
)
"""Every service, in `Service` order."""


def display_name(service: Service) -> str:
    """The name people know the service by."""
    return CATALOGUE[service].name
