"""Working-hours deadlines: 09:00-17:00 Monday to Friday, Europe/London, less the England and Wales bank
holidays, across a weekend, bank holidays and both changes of the clock; and the ruleset's form of them."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from schemas.vocabulary import Priority
from services.triage.routing.deadlines import WorkingHours
from services.triage.routing.ruleset import (
    DEFAULT_RULESET_PATH,
    HOLIDAYS_AHEAD_DAYS,
    Ruleset,
    load_ruleset,
    parse_ruleset,
)
from services.triage.routing.ruleset_errors import RulesetError
from services.triage.routing.working_hours import BANK_HOLIDAYS_PATH, CalendarError, bank_holidays
from tests.triage.test_ruleset import edited, error_for

LONDON_WEEK = WorkingHours().calendar()


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        pytest.param(utc(2026, 11, 26, 10), 3, utc(2026, 11, 26, 13), id="within-one-day"),
        pytest.param(utc(2026, 11, 26, 10), 7, utc(2026, 11, 26, 17), id="ends-exactly-at-closing"),
        pytest.param(utc(2026, 11, 27, 15), 4, utc(2026, 11, 30, 11), id="friday-to-monday-over-a-weekend"),
        pytest.param(utc(2026, 11, 28, 10), 1, utc(2026, 11, 30, 10), id="saturday-start-counts-from-monday"),
        pytest.param(utc(2026, 11, 26, 20), 1, utc(2026, 11, 27, 10), id="evening-start-counts-from-next-morning"),
        pytest.param(utc(2026, 11, 26, 7), 1, utc(2026, 11, 26, 10), id="early-start-counts-from-opening"),
        pytest.param(utc(2026, 12, 24, 16), 2, utc(2026, 12, 29, 10), id="christmas-and-boxing-day-substitute"),
        pytest.param(utc(2026, 4, 2, 15), 2, utc(2026, 4, 7, 9), id="good-friday-and-easter-monday-in-bst"),
        pytest.param(utc(2026, 3, 27, 16), 2, utc(2026, 3, 30, 9), id="into-bst-09-00-london-is-08-00-utc"),
        pytest.param(utc(2026, 10, 23, 15), 2, utc(2026, 10, 26, 10), id="out-of-bst-back-to-gmt"),
        pytest.param(utc(2026, 11, 26, 10), 24, utc(2026, 12, 1, 10), id="three-working-days"),
    ],
)
def test_working_hours_are_added_on_the_london_calendar(start: datetime, hours: float, due: datetime) -> None:
    """Only 09:00-17:00 London time on working days counts."""
    assert LONDON_WEEK.add(start, hours) == due


def test_working_hours_between_two_moments_count_the_same_calendar() -> None:
    """What `add` adds, `between` measures back, across a weekend, a holiday and the clock change."""
    for start, hours in [(utc(2026, 11, 27, 15), 4), (utc(2026, 12, 24, 16), 2), (utc(2026, 3, 27, 16), 2)]:
        assert LONDON_WEEK.between(start, LONDON_WEEK.add(start, hours)) == pytest.approx(hours)
    assert LONDON_WEEK.between(utc(2026, 11, 30), utc(2026, 11, 28)) == 0.0


def test_the_shipped_bank_holidays_are_gov_uk_format_and_weekdays() -> None:
    """The file is GOV.UK's format; every listed day is a weekday (substitute days included) from 2024 to 2027."""
    document = json.loads(BANK_HOLIDAYS_PATH.read_text(encoding="utf-8"))
    events = document["england-and-wales"]["events"]
    assert {"title", "date", "notes", "bunting"} <= set(events[0])
    holidays = bank_holidays("england-and-wales")
    assert holidays.last_year == 2027
    assert all(day.weekday() < 5 for day in holidays.dates)
    assert {day.year for day in holidays.dates} == {2024, 2025, 2026, 2027}
    assert len(holidays.dates) == 32
    assert date(2026, 12, 28) in holidays.dates and date(2026, 12, 26) not in holidays.dates


def test_an_unknown_division_is_a_calendar_error(tmp_path: Path) -> None:
    with pytest.raises(CalendarError, match="division 'scotland'"):
        bank_holidays("scotland", BANK_HOLIDAYS_PATH)


def test_default_deadlines_are_wall_clock_when_pressing_and_working_hours_otherwise(
    default_ruleset: Ruleset,
) -> None:
    """urgent 4 h and high 24 h on the clock; medium three and standard five working days."""
    start = utc(2026, 11, 27, 15)  # a Friday afternoon
    assert default_ruleset.due_at(Priority.urgent, start) == start + timedelta(hours=4)
    assert default_ruleset.due_at(Priority.high, start) == start + timedelta(hours=24)
    assert default_ruleset.due_at(Priority.medium, start) == utc(2026, 12, 2, 15)
    assert default_ruleset.due_at(Priority.standard, start) == utc(2026, 12, 4, 15)
    assert default_ruleset.working_hours == WorkingHours()
    assert default_ruleset.working_hours.start == time(9)


def test_a_working_hours_deadline_needs_the_calendar_section() -> None:
    text = edited("working_hours:\n  timezone: Europe/London\n", "calendar_was_here:\n  timezone: Europe/London\n")
    assert "unknown field" in error_for(text) or "Extra inputs" in error_for(text)
    without = edited(
        "working_hours:\n  timezone: Europe/London\n  days: [mon, tue, wed, thu, fri]\n"
        '  start: "09:00"\n  end: "17:00"\n  bank_holidays: england-and-wales\n',
        "",
    )
    assert error_for(without).endswith(
        "field 'deadlines.medium': working_hours needs a 'working_hours' section (the calendar)"
    )


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ("timezone: Europe/London", "timezone: Europe/Stevenage", "'Europe/Stevenage' is not a known time zone"),
        ('end: "17:00"', 'end: "08:00"', "start must be before end"),
        ("days: [mon, tue, wed, thu, fri]", "days: [mon, mon]", "days lists a day twice"),
        ("bank_holidays: england-and-wales", "bank_holidays: atlantis", "division 'atlantis'"),
    ],
)
def test_a_bad_calendar_is_refused_in_one_sentence(old: str, new: str, says: str) -> None:
    assert says in error_for(edited(old, new))


def test_a_calendar_without_bank_holidays_works_every_weekday() -> None:
    ruleset = parse_ruleset(edited("bank_holidays: england-and-wales", "bank_holidays: null"), "plain.yaml")
    assert ruleset.due_at(Priority.medium, utc(2026, 12, 24, 16)) == utc(2026, 12, 29, 16)


def test_a_bare_number_stays_wall_clock_hours() -> None:
    ruleset = parse_ruleset(edited("  medium: {working_hours: 24}", "  medium: 72"), "wall.yaml")
    assert ruleset.due_at(Priority.medium, utc(2026, 11, 27, 15)) == utc(2026, 11, 30, 15)


def test_a_refused_deadline_form_names_the_field() -> None:
    with pytest.raises(RulesetError, match="deadlines"):
        parse_ruleset(edited("  medium: {working_hours: 24}", "  medium: {hours_of_work: 24}"), "odd.yaml")


def test_the_shipped_bank_holidays_say_when_they_run_out() -> None:
    """The file knows its last year: a day in it is covered, a day in the next year is not."""
    shipped = bank_holidays("england-and-wales")
    assert shipped.last_year is not None
    assert not shipped.run_out_before(date(shipped.last_year, 12, 31))
    assert shipped.run_out_before(date(shipped.last_year + 1, 1, 1))


def test_a_ruleset_warns_a_year_before_its_bank_holidays_run_out() -> None:
    """Deadlines reach up to a year ahead, so the default ruleset's calendar must know the holidays of the
    year a year from now; with no working-hours section there is nothing to run out."""
    ruleset = load_ruleset(DEFAULT_RULESET_PATH)
    last = bank_holidays("england-and-wales").last_year
    assert last is not None and ruleset.working_hours is not None
    last_covered = date(last, 12, 31) - timedelta(days=HOLIDAYS_AHEAD_DAYS)
    assert not ruleset.holidays_run_out(last_covered)
    assert ruleset.holidays_run_out(last_covered + timedelta(days=1))
    without = ruleset.model_copy(update={"working_hours": None})
    assert not without.holidays_run_out(date(last + 5, 1, 1))
