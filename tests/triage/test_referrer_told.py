"""The one-working-day measure: the same London time on the next working day, weekends and holidays skipped."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.triage.reports.working_days import LONDON, one_working_day_after


def test_one_working_day_skips_weekends_and_the_holidays_given() -> None:
    friday = datetime(2026, 12, 18, 15, 0, tzinfo=UTC)  # 15:00 in London (GMT)
    assert one_working_day_after(friday) == datetime(2026, 12, 21, 15, 0, tzinfo=LONDON)
    christmas_eve = datetime(2026, 12, 24, 9, 30, tzinfo=UTC)
    holidays = {date(2026, 12, 25), date(2026, 12, 28)}  # Christmas; Boxing Day substitute
    assert one_working_day_after(christmas_eve, holidays) == datetime(2026, 12, 29, 9, 30, tzinfo=LONDON)
    saturday = datetime(2026, 12, 19, 10, 0, tzinfo=UTC)
    assert one_working_day_after(saturday) == datetime(2026, 12, 21, 10, 0, tzinfo=LONDON)
