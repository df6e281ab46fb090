"""The format of one routing rule: its conditions (`when`), routing, priority and flags."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

from schemas.decision import Flag, RuleId
from schemas.vocabulary import Agency, Concern, Priority, RiskLevel, Role, Service

Description = Annotated[str, StringConstraints(min_length=1, max_length=160)]
FlagReason = Annotated[str, StringConstraints(min_length=1, max_length=140)]


class RulesetModel(BaseModel):
    """A part of the ruleset: frozen, and unknown keys are an error (a misspelt condition is caught)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class ConcernCount(RulesetModel):
    """At least `count` of the concerns listed in `of`."""

    count: Annotated[int, Field(ge=1)]
    of: Annotated[tuple[Concern, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _count_fits(self) -> ConcernCount:
        if self.count > len(self.of):
            raise ValueError("count is larger than the number of concerns listed in 'of'")
        return self


class When(RulesetModel):
    """A rule's conditions: every condition given must hold; `any_of` holds when one of its groups does."""

    concerns_any: tuple[Concern, ...] | None = None
    concerns_all: tuple[Concern, ...] | None = None
    concerns_at_least: ConcernCount | None = None
    role_in: tuple[Role, ...] | None = None
    agency_in: tuple[Agency, ...] | None = None
    min_age: Annotated[int, Field(ge=0, le=120)] | None = None
    age_given: bool | None = None
    max_age: Annotated[int, Field(ge=0, le=120)] | None = None
    dash_score_at_least: Annotated[int, Field(ge=0, le=27)] | None = None
    risk_level_in: tuple[RiskLevel, ...] | None = None
    children_in_household_at_least: Annotated[int, Field(ge=1)] | None = None
    released_within_days: Annotated[int, Field(ge=0, le=3650)] | None = None
    consent_obtained: bool | None = None
    safe_to_contact: bool | None = None
    after_rules: tuple[RuleId, ...] | None = None
    any_of: Annotated[tuple[When, ...], Field(min_length=2)] | None = None

    @model_validator(mode="after")
    def _makes_sense(self) -> When:
        if not self.model_dump(exclude_none=True):
            raise ValueError("a condition block needs at least one condition")
        if self.min_age is not None and self.max_age is not None and self.min_age > self.max_age:
            raise ValueError("min_age is above max_age, so the rule could never fire")
        return self


def _flag_shorthand(value: object) -> object:
    return {"flag": value} if isinstance(value, str) else value


class FlagRaised(RulesetModel):
    """A flag a rule raises; with `when`, only when those conditions hold too."""

    flag: Flag
    when: When | None = None


class RuleFlag(FlagRaised):
    """A flag a routing rule raises; `reason` is added to the rule's assignment when it is raised."""

    reason: FlagReason | None = None


FlagSpec = Annotated[FlagRaised, BeforeValidator(_flag_shorthand)]
RuleFlagSpec = Annotated[RuleFlag, BeforeValidator(_flag_shorthand)]


class PriorityWhen(RulesetModel):
    """A priority that replaces the rule's usual one when its conditions hold (first match wins)."""

    priority: Priority
    when: When


def _none_means_no_queue(value: object) -> object:
    return None if value == "none" else value


class Rule(RulesetModel):
    """One row of the policy: when it fires, where it routes, how pressing, which flags it raises."""

    id: RuleId
    description: Description
    when: When
    route_to: Annotated[Service | None, BeforeValidator(_none_means_no_queue)]
    priority: Priority | None = None
    priority_when: tuple[PriorityWhen, ...] = ()
    flags: tuple[RuleFlagSpec, ...] = ()

    @model_validator(mode="after")
    def _routing_is_complete(self) -> Rule:
        if self.route_to is not None and self.priority is None:
            raise ValueError("field 'priority' is needed when route_to names a service")
        if self.route_to is None and (self.priority is not None or self.priority_when):
            raise ValueError("fields 'priority' and 'priority_when' must be left out when route_to is none")
        if self.route_to is None and not self.flags:
            raise ValueError("field 'flags' needs at least one flag when route_to is none")
        if self.route_to is None and any(flag.reason is not None for flag in self.flags):
            raise ValueError("a flag's 'reason' needs route_to to name a service whose assignment carries it")
        return self
