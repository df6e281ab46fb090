"""The partnership's enumerations: partners, districts, concerns, services, priorities."""

from __future__ import annotations

from enum import StrEnum


class Agency(StrEnum):
    police = "police"
    hospital = "hospital"
    gp = "gp"
    prison = "prison"
    probation = "probation"
    school = "school"
    college = "college"
    council = "council"
    housing = "housing"
    voluntary = "voluntary"
    self = "self"


class District(StrEnum):
    stevenage = "stevenage"
    north_herts = "north_herts"
    east_herts = "east_herts"
    welwyn_hatfield = "welwyn_hatfield"
    hertsmere = "hertsmere"
    broxbourne = "broxbourne"
    dacorum = "dacorum"
    st_albans = "st_albans"
    three_rivers = "three_rivers"
    watford = "watford"
    other = "other"
    """Outside Hertfordshire (the ten districts and boroughs above are the county's)."""


class Role(StrEnum):
    victim = "victim"
    perpetrator = "perpetrator"
    at_risk = "at_risk"
    family = "family"


class Concern(StrEnum):
    domestic_abuse = "domestic_abuse"
    modern_slavery = "modern_slavery"
    hate_crime = "hate_crime"
    substance_misuse = "substance_misuse"
    offending = "offending"
    violent_crime = "violent_crime"
    gang_involvement = "gang_involvement"
    county_lines = "county_lines"
    knife_crime = "knife_crime"
    exploitation = "exploitation"
    antisocial_behaviour = "antisocial_behaviour"
    mental_health = "mental_health"
    homelessness = "homelessness"
    missing_episodes = "missing_episodes"
    education_exclusion = "education_exclusion"
    stalking = "stalking"
    honour_based_abuse = "honour_based_abuse"
    child_sexual_exploitation = "child_sexual_exploitation"
    online_harm = "online_harm"


class RiskLevel(StrEnum):
    standard = "standard"
    medium = "medium"
    high = "high"


class ConsentBasis(StrEnum):
    consent = "consent"
    safeguarding = "safeguarding"
    vital_interests = "vital_interests"
    legal_obligation = "legal_obligation"
    public_task = "public_task"


class Service(StrEnum):
    """Queue names (contract)."""

    sada = "sada"
    no_more = "no_more"
    sos = "sos"
    mnwg = "mnwg"
    modern_slavery = "modern_slavery"
    hate_crime = "hate_crime"
    manual_review = "manual_review"
    asb = "asb"
    youth_no_more = "youth_no_more"
    yc_herts = "yc_herts"
    marac = "marac"


class Priority(StrEnum):
    urgent = "urgent"
    high = "high"
    medium = "medium"
    standard = "standard"


PRIORITY_RANK: dict[Priority, int] = {
    Priority.urgent: 0,
    Priority.high: 1,
    Priority.medium: 2,
    Priority.standard: 3,
}
"""Lower is more pressing; queues sort by this, then by due time."""


class Channel(StrEnum):
    """How a submission reached intake."""

    http = "http"
    kafka = "kafka"
