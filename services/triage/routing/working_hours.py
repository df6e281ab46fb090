"""Working-hours calendars: deadlines that count only the hours a team works.

A calendar is a time zone, the working days of the week, the working hours of each day (say 09:00-17:00
Monday to Friday, Europe/London) and the bank holidays, read from the GOV.UK bank-holidays JSON file
shipped beside this module (`bank-holidays-england-and-wales.json`; `docs/routing.md` says where it came
from and how to refresh it). Every working day's hours are taken in local time, so a deadline keeps to
09:00-17:00 on both sides of a change between GMT and BST. Pure apart from reading that file once.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

BANK_HOLIDAYS_PATH: Final = Path(__file__).with_name("bank-holidays-england-and-wales.json")
"""GOV.UK's https://www.gov.uk/bank-holidays.json, England and Wales, as the project ships it."""

MAX_DAYS: Final = 3660
"""How far ahead a deadline is looked for: ten years of calendar days (a deadline is at most a year)."""


class CalendarError(ValueError):
    """A calendar that cannot be used (an unknown division, an unreadable file); one sentence."""


@dataclass(frozen=True)
class BankHolidays:
    """One division's bank holidays, and the last year the file knows."""

    division: str
    dates: frozenset[date]
    last_year: int | None

    def run_out_before(self, day: date) -> bool:
        """True when the file knows no bank holidays in `day`'s year: deadlines counted then would work
        through every bank holiday (the file needs refreshing: docs/routing.md)."""
        return self.last_year is None or self.last_year < day.year


@functools.cache
def bank_holidays(division: str, path: Path = BANK_HOLIDAYS_PATH) -> BankHolidays:
    """The bank holidays of `division` (for example "england-and-wales") in the GOV.UK JSON at `path`."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        events = document[division]["events"]
        dates = frozenset(date.fromisoformat(event["date"]) for event in events)
    except OSError as exc:
        raise CalendarError(f"bank holidays {path}: cannot read the file ({exc.strerror or exc})") from exc
    except (ValueError, KeyError, TypeError) as exc:
        divisions = ", ".join(sorted(document)) if isinstance(locals().get("document"), dict) else "none"
        raise CalendarError(
            f"bank holidays {path}: no readable events for division '{division}' (divisions: {divisions})"
        ) from exc
    return BankHolidays(division, dates, max((day.year for day in dates), default=None))


@dataclass(frozen=True)
class WorkingCalendar:
    """When a team works: `weekdays` (0 is Monday) from `opens` to `closes` local time, but not `holidays`."""

    zone: ZoneInfo
    weekdays: frozenset[int]
    opens: time
    closes: time
    holidays: frozenset[date]

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.weekdays and day not in self.holidays

    def add(self, start: datetime, hours: float) -> datetime:
        """The moment `hours` working hours after `start` (in UTC); a start out of hours counts from the
        next opening."""
        remaining = timedelta(hours=hours)
        cursor = start.astimezone(UTC)
        for opening, closing in self._windows(cursor):
            begin = max(cursor, opening)
            if begin >= closing:
                continue
            if remaining <= closing - begin:
                return begin + remaining
            remaining -= closing - begin
        raise CalendarError(f"no working hours within {MAX_DAYS} days of {start.isoformat()}")

    def between(self, start: datetime, end: datetime) -> float:
        """Working hours from `start` to `end` (0 when `end` is not after `start`)."""
        if end <= start:
            return 0.0
        total = timedelta()
        until = end.astimezone(UTC)
        cursor = start.astimezone(UTC)
        for opening, closing in self._windows(cursor):
            if opening >= until:
                break
            begin, finish = max(cursor, opening), min(closing, until)
            if finish > begin:
                total += finish - begin
        return total.total_seconds() / 3600

    def _windows(self, since: datetime) -> Iterable[tuple[datetime, datetime]]:
        """Each working day's (opening, closing) in UTC, from the local day of `since` onwards."""
        first = since.astimezone(self.zone).date()
        for offset in range(MAX_DAYS):
            day = first + timedelta(days=offset)
            if self.is_working_day(day):
                opening = datetime.combine(day, self.opens, tzinfo=self.zone).astimezone(UTC)
                closing = datetime.combine(day, self.closes, tzinfo=self.zone).astimezone(UTC)
                yield opening, closing
