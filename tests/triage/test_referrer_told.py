"""The one-working-day measure: the same local time on the routing calendar's next working day, weekends and
the shipped bank holidays skipped, so the KPI counts the days the SLA's working-hours deadlines count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from services.triage.reports.working_days import one_working_day_after, report_calendar
from services.triage.routing.deadlines import WorkingHours
from services.triage.routing.ruleset import Ruleset

LONDON = ZoneInfo("Europe/London")


def test_one_working_day_skips_weekends_and_the_shipped_bank_holidays() -> None:
    calendar = report_calendar()
    friday = datetime(2026, 12, 18, 15, 0, tzinfo=UTC)  # 15:00 in London (GMT)
    assert one_working_day_after(friday, calendar) == datetime(2026, 12, 21, 15, 0, tzinfo=LONDON)
    christmas_eve = datetime(2026, 12, 24, 9, 30, tzinfo=UTC)  # Christmas, then Boxing Day's Monday substitute
    assert one_working_day_after(christmas_eve, calendar) == datetime(2026, 12, 29, 9, 30, tzinfo=LONDON)
    saturday = datetime(2026, 12, 19, 10, 0, tzinfo=UTC)
    assert one_working_day_after(saturday, calendar) == datetime(2026, 12, 21, 10, 0, tzinfo=LONDON)


def test_the_kpi_and_the_sla_share_the_rulesets_calendar(default_ruleset: Ruleset) -> None:
    calendar = default_ruleset.calendar()
    assert calendar is not None and calendar is report_calendar(calendar)
    assert report_calendar().holidays == calendar.holidays
    christmas_eve = datetime(2026, 12, 24, 16, 0, tzinfo=UTC)
    # The SLA's working-hours deadline and the KPI's working day skip the same bank holidays.
    assert calendar.add(christmas_eve, 2) == datetime(2026, 12, 29, 10, 0, tzinfo=LONDON)  # 16-17, then 9-10
    assert one_working_day_after(christmas_eve, calendar) == datetime(2026, 12, 29, 16, 0, tzinfo=LONDON)
    without_holidays = WorkingHours(bank_holidays=None).calendar()
    assert one_working_day_after(christmas_eve, without_holidays) == christmas_eve + timedelta(days=1)
