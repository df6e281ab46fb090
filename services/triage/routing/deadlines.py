"""A ruleset's deadlines: per priority, wall-clock hours or working hours on the ruleset's calendar."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, datetime, time
from enum import IntEnum
from typing import Annotated, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator, Field, StringConstraints, field_validator, model_validator

from schemas.vocabulary import Priority
from services.triage.routing.rule_format import RulesetModel
from services.triage.routing.working_hours import WorkingCalendar, bank_holidays

Hours = Annotated[float, Field(gt=0, le=24 * 365)]
"""Deadlines are in hours; fractions are allowed (tests use seconds-long deadlines)."""

DueAt = Callable[[Priority, datetime], datetime]
"""When an item of a priority created at a moment is due (`Ruleset.due_at`)."""


class Weekday(IntEnum):
    mon = 0
    tue = 1
    wed = 2
    thu = 3
    fri = 4
    sat = 5
    sun = 6


def _weekday(value: object) -> object:
    return Weekday[value] if isinstance(value, str) and value in Weekday.__members__ else value


MONDAY_TO_FRIDAY: Final = (Weekday.mon, Weekday.tue, Weekday.wed, Weekday.thu, Weekday.fri)


class WorkingHours(RulesetModel):
    """The receiving teams' working week; a working-hours deadline counts only these hours."""

    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64)] = "Europe/London"
    days: Annotated[tuple[Annotated[Weekday, BeforeValidator(_weekday)], ...], Field(min_length=1)] = MONDAY_TO_FRIDAY
    start: time = time(9, 0)
    end: time = time(17, 0)
    bank_holidays: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = "england-and-wales"
    """The division of the shipped GOV.UK bank-holidays file whose days are not worked; null for none."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"'{value}' is not a known time zone (for example Europe/London)") from exc
        return value

    @model_validator(mode="after")
    def _day_has_hours(self) -> WorkingHours:
        if self.start >= self.end:
            raise ValueError("start must be before end (a working day within one calendar day)")
        if len(set(self.days)) != len(self.days):
            raise ValueError("days lists a day twice")
        return self

    def calendar(self) -> WorkingCalendar:
        return _calendar(self)

    def holidays_run_out_before(self, day: date) -> bool:
        """True when the bank holidays it counts on end before `day`'s year (never without a division)."""
        return self.bank_holidays is not None and bank_holidays(self.bank_holidays).run_out_before(day)


@functools.cache
def _calendar(hours: WorkingHours) -> WorkingCalendar:
    holidays = bank_holidays(hours.bank_holidays).dates if hours.bank_holidays is not None else frozenset()
    return WorkingCalendar(
        zone=ZoneInfo(hours.timezone),
        weekdays=frozenset(int(day) for day in hours.days),
        opens=hours.start,
        closes=hours.end,
        holidays=holidays,
    )


class WorkingDeadline(RulesetModel):
    """A deadline in working hours: `{working_hours: 24}` is three 09:00-17:00 days."""

    working_hours: Hours


Deadline = Hours | WorkingDeadline
"""A bare number is wall-clock hours; `{working_hours: n}` counts only the calendar's working hours."""
