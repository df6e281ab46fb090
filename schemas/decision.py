"""`TriageDecision` on `triage.decisions`: where a referral goes, and why."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from schemas.base import Message
from schemas.vocabulary import Priority, Service

RuleId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=64)]


class Flag(StrEnum):
    marac = "marac"
    safeguarding_child = "safeguarding_child"
    children_in_household = "children_in_household"
    nrm_child = "nrm_child"
    duty_to_notify = "duty_to_notify"
    repeat = "repeat"
    immediate_danger = "immediate_danger"
    do_not_contact_directly = "do_not_contact_directly"


class DecisionKind(StrEnum):
    initial = "initial"
    reassignment = "reassignment"
    decline_fallback = "decline_fallback"
    follow_up = "follow_up"
    """Re-decided on new information from the referrer (`caused_by` is the update id): only adds services
    or raises priorities, never lowers or removes (docs/decisions.md)."""


class Assignment(Message):
    """One service's share of a referral: its own priority, deadline and explanation."""

    service: Service
    priority: Priority
    due_at: AwareDatetime
    rule_ids: Annotated[list[RuleId], Field(min_length=1)]
    reasons: Annotated[list[Annotated[str, StringConstraints(max_length=300)]], Field(min_length=1)]
    replaces: Service | None = None
    """Set when this `manual_review` assignment stands in for another service (out of area, consent...):
    the first of `replaces_all`, kept for readers that know only this field."""
    replaces_all: list[Service] = Field(default_factory=list)
    """Every service this assignment stands in for, the most pressing first (added in the same version:
    a message without it is read as `[replaces]`)."""

    @model_validator(mode="before")
    @classmethod
    def _fill_replaced(cls, data: Any) -> Any:
        return with_replaced_services(data)

    @model_validator(mode="after")
    def _replaced_agree(self) -> Assignment:
        check_replaced_services(self.replaces, self.replaces_all)
        return self


def with_replaced_services(data: Any) -> Any:
    """Raw model data with `replaces` and `replaces_all` both filled when only one of them is given."""
    if not isinstance(data, dict):
        return data
    single, every = data.get("replaces"), data.get("replaces_all")
    if single is None and every:
        return {**data, "replaces": every[0]}
    if single is not None and not every:
        return {**data, "replaces_all": [single]}
    return data


def check_replaced_services(single: Service | None, every: list[Service]) -> None:
    """Raise ValueError unless `single` is the first of `every` (or both are empty) and none repeats."""
    if single != (every[0] if every else None):
        raise ValueError("replaces must be the first service of replaces_all")
    if len(set(every)) != len(every):
        raise ValueError("replaces_all repeats a service")


class TriageDecision(Message):
    decision_version: Literal["1"] = "1"
    decision_id: str
    referral_id: str
    kind: DecisionKind = DecisionKind.initial
    decided_at: AwareDatetime
    ruleset_version: str
    flags: list[Flag]
    assignments: Annotated[list[Assignment], Field(min_length=1)]
    source_agency: str
    concerns: list[str]
    """Non-personal facts kept for the partnership's reports (by source and strategy objective)."""

    caused_by: str | None = None
    """The officer action id that led to a reassignment or decline fallback decision, or the referrer's
    update id that led to a `follow_up`."""
