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

from pydantic import BaseModel, ConfigDict, model_validator

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
HERTFORDSHIRE: Final = frozenset(District) - {District.other}
"""The county's ten districts and boroughs (`other` is outside Hertfordshire)."""
EVERY_DISTRICT: Final = frozenset(District)
NONE: Final[frozenset[District]] = frozenset()


class ServiceEntry(BaseModel):
    """One receiving service."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    service: Service
    name: str
    """What officers, teams and board papers call it."""
    coverage: frozenset[District]
    """The districts its established service takes referrals from."""
    pilot: frozenset[District] = NONE
    """Districts it takes referrals from under a pilot (the strategy's "running a pilot in Hertsmere", a
    county-wide project): covered like `coverage`, listed apart so a pilot that ends is one line to
    remove and so reports and people can tell the two apart. Never overlaps `coverage`."""
    objectives: frozenset[int]
    """The strategy objectives (`OBJECTIVES`) a referral it takes on counts under."""

    @model_validator(mode="after")
    def _pilot_apart(self) -> ServiceEntry:
        if self.coverage & self.pilot:
            both = ", ".join(sorted(district.value for district in self.coverage & self.pilot))
            raise ValueError(f"{self.service}: {both} listed both as coverage and as pilot")
        return self

    def covers(self, district: District) -> bool:
        """Whether it takes referrals from `district`, established or under a pilot; a referral from
        elsewhere goes to manual review instead."""
        return district in self.coverage or district in self.pilot

    def is_pilot(self, district: District) -> bool:
        return district in self.pilot


def _entries(*entries: ServiceEntry) -> Mapping[Service, ServiceEntry]:
    return {entry.service: entry for entry in entries}


SADA_ESTABLISHED: Final = frozenset(
    {District.stevenage, District.north_herts, District.east_herts, District.welwyn_hatfield}
)
"""'SADA now provides their DA support service to Stevenage, North Herts, East Herts, Welwyn Hatfield and is
running a pilot in Hertsmere'; and 'From April 2021, SADA has a county-wide project to support the ten
districts and boroughs' (a pilot, funded by Herts County Council): the rest of the county is pilot."""

CATALOGUE: Final[Mapping[Service, ServiceEntry]] = _entries(
    ServiceEntry(
        service=Service.sada,
        name="SADA",
        coverage=SADA_ESTABLISHED,
        pilot=HERTFORDSHIRE - SADA_ESTABLISHED,
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
    # "Community Protection Notice Warnings (CPNW)", "Operation Urban's proactive work with the No More Service
    # and housing", "dispersal orders to address short term peaks of ASB", the "Tower Block Action Plan".
    ServiceEntry(
        service=Service.asb,
        name="Community safety (ASB) team",
        coverage=STEVENAGE,
        objectives=frozenset({1, 5}),
    ),
    # "From April 2021 ... a pilot county-wide Youth No More Service, the service works with young people up
    # to the age of 25."
    ServiceEntry(
        service=Service.youth_no_more,
        name="Youth No More Service",
        coverage=STEVENAGE,
        pilot=HERTFORDSHIRE - STEVENAGE,
        objectives=frozenset({1, 4, 5}),
    ),
    # "YC Herts  Youth provision in Stevenage" (the strategy's acronyms).
    ServiceEntry(
        service=Service.yc_herts, name="YC Herts youth provision", coverage=STEVENAGE, objectives=frozenset({1})
    ),
    # Hertfordshire's MARACs sit county-wide; the coordinator takes every Hertfordshire district.
    ServiceEntry(service=Service.marac, name="MARAC coordinator", coverage=HERTFORDSHIRE, objectives=frozenset({2})),
)
"""Every service, in `Service` order."""


def display_name(service: Service) -> str:
    """The name people know the service by."""
    return CATALOGUE[service].name
