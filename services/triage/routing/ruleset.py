"""The routing policy as data: the YAML ruleset format, loaded and checked once at start-up.

A ruleset that does not parse or does not make sense raises `RulesetError`, whose message is one
sentence naming the rule (or section) and the field, so a bad ruleset stops the service clearly.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Final

import yaml
from pydantic import Field, StringConstraints, ValidationError

from schemas.services_catalogue import CATALOGUE
from schemas.vocabulary import District, Priority, Service
from services.triage.routing.deadlines import Deadline, WorkingDeadline, WorkingHours
from services.triage.routing.rule_format import Rule, RulesetModel, When
from services.triage.routing.ruleset_errors import RulesetError
from services.triage.routing.ruleset_errors import from_validation_error as _from_validation_error
from services.triage.routing.ruleset_overrides import (
    Overrides,
)
from services.triage.routing.working_hours import CalendarError, WorkingCalendar

DEFAULT_RULESET_PATH: Final = Path(__file__).with_name("default_ruleset.yaml")

HOLIDAYS_AHEAD_DAYS: Final = 365
"""How far ahead the shipped bank holidays must reach: a deadline is never set further out than this."""
"""The partnership's published policy, shipped with the service."""


class Ruleset(RulesetModel):
    """A versioned routing policy. Which districts each service covers is not policy of its own but the
    service catalogue's (`schemas/services_catalogue.py`)."""

    version: Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9._-]+$")]
    working_hours: WorkingHours | None = None
    deadlines: dict[Priority, Deadline]
    rules: Annotated[tuple[Rule, ...], Field(min_length=1)]
    overrides: Overrides

    def due_at(self, priority: Priority, start: datetime) -> datetime:
        """When an item of `priority` created at `start` is due: wall-clock, or on the working calendar."""
        deadline = self.deadlines[priority]
        if isinstance(deadline, WorkingDeadline):
            if self.working_hours is None:  # refused by `validate`; a hand-built ruleset gets the default week
                return WorkingHours().calendar().add(start, deadline.working_hours)
            return self.working_hours.calendar().add(start, deadline.working_hours)
        return start + timedelta(hours=deadline)

    def calendar(self) -> WorkingCalendar | None:
        """The working calendar its working-hours deadlines count on (None when it has none)."""
        return self.working_hours.calendar() if self.working_hours is not None else None

    def holidays_run_out(self, today: date) -> bool:
        """True when the bank holidays its calendar counts on end within a year of `today`: a deadline
        counted past their last year would work through every bank holiday (refresh: docs/routing.md)."""
        horizon = today + timedelta(days=HOLIDAYS_AHEAD_DAYS)
        return self.working_hours is not None and self.working_hours.holidays_run_out_before(horizon)

    @cached_property
    def rule_order(self) -> dict[str, int]:
        """Each rule id's place in the policy (the rules in order, then the overrides that merge into
        assignments): a merged assignment lists its rule ids in this order. Worked out once per ruleset."""
        sections = self.overrides
        order = [rule.id for rule in self.rules] + [
            sections.nothing_matched.rule_id,
            sections.repeat_referral.rule_id,
            *(route.rule_id for route in sections.flag_routes),
            sections.out_of_area.rule_id,
            sections.no_lawful_basis.rule_id,
        ]
        return {rule_id: index for index, rule_id in enumerate(order)}

    def covers(self, service: Service, district: District) -> bool:
        """Whether `service` takes referrals from `district` (the out-of-area service takes all)."""
        if service == self.overrides.out_of_area.route_to:
            return True
        return CATALOGUE[service].covers(district)


def parse_ruleset(text: str, origin: str) -> Ruleset:
    """A ruleset from YAML text; `origin` names it in error messages."""
    try:
        raw: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise RulesetError(f"ruleset {origin}: not valid YAML{where}") from exc
    if not isinstance(raw, dict):
        raise RulesetError(f"ruleset {origin}: expected a mapping with version, deadlines, rules and overrides")
    if "coverage" in raw:
        raise RulesetError(
            f"ruleset {origin}: field 'coverage': a service's districts are no longer set in the ruleset but in"
            " the service catalogue (schemas/services_catalogue.py); remove the section"
        )
    try:
        ruleset = Ruleset.model_validate(raw)
    except ValidationError as exc:
        raise _from_validation_error(exc, raw, origin) from exc
    validate(ruleset, origin)
    return ruleset


def load_ruleset(path: str | Path) -> Ruleset:
    """The ruleset in the YAML file at `path`; raises `RulesetError` when it cannot be used."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise RulesetError(f"ruleset {path}: cannot read the file ({exc.strerror or exc})") from exc
    return parse_ruleset(text, str(path))


def validate(ruleset: Ruleset, origin: str = "ruleset") -> None:
    """Checks across fields: unique rule ids, earlier `after_rules`, every deadline given."""
    prefix = f"ruleset {origin}"
    missing = [p.value for p in Priority if p not in ruleset.deadlines]
    if missing:
        raise RulesetError(f"{prefix}: field 'deadlines': no deadline for priority '{missing[0]}'")
    working = [p.value for p, deadline in ruleset.deadlines.items() if isinstance(deadline, WorkingDeadline)]
    if working and ruleset.working_hours is None:
        raise RulesetError(
            f"{prefix}: field 'deadlines.{working[0]}': working_hours needs a 'working_hours' section (the calendar)"
        )
    if ruleset.working_hours is not None:
        try:
            ruleset.working_hours.calendar()
        except CalendarError as exc:
            raise RulesetError(f"{prefix}: field 'working_hours.bank_holidays': {exc}") from exc
    seen: set[str] = set()
    for rule in ruleset.rules:
        where = f"{prefix}: rule '{rule.id}'"
        if rule.id in seen:
            raise RulesetError(f"{where}: field 'id': the id is already used by an earlier rule")
        for field, named in _rule_references(rule):
            if named not in seen:
                raise RulesetError(f"{where}: field '{field}': '{named}' is not the id of an earlier rule")
        seen.add(rule.id)
    sections: list[tuple[str, object]] = [(name, part) for name, part in ruleset.overrides if name != "flag_routes"]
    sections += [(f"flag_routes.{index}", route) for index, route in enumerate(ruleset.overrides.flag_routes)]
    for name, section in sections:
        rule_id = getattr(section, "rule_id", None)
        if rule_id in seen:
            raise RulesetError(f"{prefix}: override '{name}': field 'rule_id': '{rule_id}' is already used")
        if rule_id is not None:
            seen.add(rule_id)
    routed_flags = [route.flag for route in ruleset.overrides.flag_routes]
    for index, route in enumerate(ruleset.overrides.flag_routes):
        if routed_flags.index(route.flag) != index:
            raise RulesetError(
                f"{prefix}: override 'flag_routes.{index}': field 'flag': '{route.flag}' is already routed"
            )


def _rule_references(rule: Rule) -> list[tuple[str, str]]:
    """(field, rule id) of every `after_rules` in a rule's conditions, priorities and flags."""
    found = _after_rules(rule.when, "when")
    for index, choice in enumerate(rule.priority_when):
        found += _after_rules(choice.when, f"priority_when.{index}.when")
    for index, flag in enumerate(rule.flags):
        if flag.when is not None:
            found += _after_rules(flag.when, f"flags.{index}.when")
    return found


def _after_rules(when: When, path: str) -> list[tuple[str, str]]:
    found = [(f"{path}.after_rules", rule_id) for rule_id in when.after_rules or ()]
    for index, group in enumerate(when.any_of or ()):
        found += _after_rules(group, f"{path}.any_of.{index}")
    return found
