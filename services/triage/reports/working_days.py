"""One working day after a time (pure): the same local wall-clock time on the calendar's next working day.

The calendar is the routing calendar (`routing.working_hours.WorkingCalendar`): the ruleset's working week
and the shipped England and Wales bank holidays, the same calendar the working-hours deadlines (and so the
SLA watch) count on. A ruleset without a `working_hours` section is measured on the default working week.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from services.triage.routing.deadlines import WorkingHours
from services.triage.routing.working_hours import WorkingCalendar


def report_calendar(calendar: WorkingCalendar | None = None) -> WorkingCalendar:
    """`calendar` (a ruleset's), or the default working week with the shipped bank holidays."""
    return calendar if calendar is not None else WorkingHours().calendar()


def one_working_day_after(moment: datetime, calendar: WorkingCalendar) -> datetime:
    """The same local time on the first working day after `moment`'s local date."""
    local = moment.astimezone(calendar.zone)
    day = local.date() + timedelta(days=1)
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    return datetime.combine(day, local.time().replace(tzinfo=None), tzinfo=calendar.zone)
