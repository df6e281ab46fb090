"""The overrides section of a ruleset: what happens after the rules, each configurable."""

from __future__ import annotations

import string
from enum import StrEnum
from typing import Annotated

from pydantic import BeforeValidator, Field, StringConstraints

from schemas.decision import Flag, RuleId
from schemas.vocabulary import Priority, Service
from services.triage.routing.rule_format import FlagSpec, RulesetModel


def _template(*allowed: str) -> BeforeValidator:
    """A reason text whose `{placeholders}` may only be the ones named."""

    def check(value: object) -> object:
        if isinstance(value, str):
            used = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
            unknown = sorted(used - set(allowed))
            if unknown:
                choices = ", ".join("{" + a + "}" for a in allowed) or "none"
                raise ValueError(f"unknown placeholder {{{unknown[0]}}} (allowed: {choices})")
        return value

    return BeforeValidator(check)


Reason = Annotated[str, StringConstraints(min_length=1, max_length=140)]


class AgeUnknown(RulesetModel):
    """An age-dependent rule that would fire but for a missing age goes to `route_to` instead."""

    route_to: Service
    reason: Annotated[Reason, _template("rule", "service")]


class RepeatReferral(RulesetModel):
    """The same subject had another referral accepted in the `within_days` before this one."""

    rule_id: RuleId
    within_days: Annotated[int, Field(ge=1, le=3650)]
    flags: Annotated[tuple[FlagSpec, ...], Field(min_length=1)]
    reason: Annotated[Reason, _template("days")]


class ImmediateDanger(RulesetModel):
    """The referrer reports immediate danger: every assignment is raised to `raise_to`."""

    rule_id: RuleId
    raise_to: Priority
    flags: tuple[FlagSpec, ...] = ()
    reason: Annotated[Reason, _template()]


class OutOfArea(RulesetModel):
    """A district outside a service's coverage sends that assignment to `route_to` instead."""

    rule_id: RuleId
    route_to: Service
    reason: Annotated[Reason, _template("service")]


class StatedBasis(StrEnum):
    """A lawful basis as a referral states it, or `missing` when it gives none."""

    consent = "consent"
    safeguarding = "safeguarding"
    vital_interests = "vital_interests"
    legal_obligation = "legal_obligation"
    public_task = "public_task"
    missing = "missing"


class NoLawfulBasis(RulesetModel):
    """Consent not obtained and no other basis: assignments go to `route_to`, with stated exceptions."""

    rule_id: RuleId
    basis_in: Annotated[tuple[StatedBasis, ...], Field(min_length=1)]
    unless_flags: tuple[Flag, ...] = ()
    keep_services: tuple[Service, ...] = ()
    route_to: Service
    reason: Annotated[Reason, _template("service")]


class NothingMatched(RulesetModel):
    """No rule routed the referral anywhere."""

    rule_id: RuleId
    route_to: Service
    priority: Priority
    reason: Annotated[Reason, _template()]


class FlagRoute(RulesetModel):
    """A queue that receives an item whenever `flag` is raised (by a rule or by the repeat override), say
    the MARAC coordinator's for `marac`."""

    flag: Flag
    route_to: Service
    priority: Priority
    rule_id: RuleId
    reason: Annotated[Reason, _template()]


class Overrides(RulesetModel):
    """What happens after the rules: in this order, then assignments to one service are merged."""

    age_unknown: AgeUnknown
    nothing_matched: NothingMatched
    repeat_referral: RepeatReferral
    flag_routes: tuple[FlagRoute, ...] = ()
    """Applied after the repeat override (whose flags count) and before out of area and consent."""
    out_of_area: OutOfArea
    no_lawful_basis: NoLawfulBasis
    immediate_danger: ImmediateDanger
