"""One working day after a time (pure): the same London wall-clock time on the next working day.

Working days are Monday to Friday except the holidays given. The holidays are an argument: the England and
Wales bank holidays calendar is to come from the routing calendar being added beside this (merge point:
pass its holiday set to `compute_kpis`); until then the report counts weekends only.
"""

from __future__ import annotations

from collections.abc import Set
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def is_working_day(day: date, holidays: Set[date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def one_working_day_after(moment: datetime, holidays: Set[date] = frozenset()) -> datetime:
    """The same London time on the next working day after `moment`'s London date."""
    local = moment.astimezone(LONDON)
    day = local.date() + timedelta(days=1)
    while not is_working_day(day, holidays):
        day += timedelta(days=1)
    return datetime.combine(day, local.time().replace(tzinfo=None), tzinfo=LONDON)
