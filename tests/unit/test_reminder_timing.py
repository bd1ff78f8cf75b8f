"""When reminders are due: local calendar days across DST changes and zones; minutes as elapsed time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from rxapp.services.notify.reminders.timing import standard_due, telehealth_due

NY, LONDON, SYDNEY = ZoneInfo("America/New_York"), ZoneInfo("Europe/London"), ZoneInfo("Australia/Sydney")


@pytest.mark.parametrize(("start", "days", "zone", "due_local", "hours"), [
    # Spring forward (NY, Sun 8 Mar 2026): 10:00 Mon -> 10:00 Sat, only 47 hours earlier.
    (datetime(2026, 3, 9, 10, 0, tzinfo=NY), 2, "America/New_York", datetime(2026, 3, 7, 10, 0, tzinfo=NY), 47),
    # Fall back (NY, Sun 1 Nov 2026): 49 hours.
    (datetime(2026, 11, 2, 10, 0, tzinfo=NY), 2, "America/New_York", datetime(2026, 10, 31, 10, 0, tzinfo=NY), 49),
    # London's change (Sun 25 Oct 2026): 09:00 BST on Saturday.
    (datetime(2026, 10, 26, 9, 0, tzinfo=LONDON), 2, "Europe/London", datetime(2026, 10, 24, 9, 0, tzinfo=LONDON), 49),
    # Southern hemisphere: Sydney springs forward on Sun 4 Oct 2026.
    (datetime(2026, 10, 5, 9, 0, tzinfo=SYDNEY), 3, "Australia/Sydney", datetime(2026, 10, 2, 9, 0, tzinfo=SYDNEY), 71),
    # No change in between: exactly N*24 hours.
    (datetime(2026, 6, 10, 15, 0, tzinfo=NY), 5, "America/New_York", datetime(2026, 6, 5, 15, 0, tzinfo=NY), 120),
])
def test_standard_reminder_is_the_same_local_time_n_calendar_days_before(
        start: datetime, days: int, zone: str, due_local: datetime, hours: int) -> None:
    due = standard_due(start.astimezone(UTC), days, zone)
    assert due.tzinfo == UTC
    assert due == due_local.astimezone(UTC)
    assert due.astimezone(ZoneInfo(zone)).strftime("%H:%M") == start.strftime("%H:%M")
    assert start - due == timedelta(hours=hours)


def test_the_zone_of_the_appointment_decides_the_local_day() -> None:
    """09:00 Tuesday in Sydney is Monday evening in New York: the day before is Monday 09:00 Sydney."""
    start = datetime(2026, 7, 14, 9, 0, tzinfo=SYDNEY).astimezone(UTC)
    assert standard_due(start, 1, "Australia/Sydney") == datetime(2026, 7, 13, 9, 0, tzinfo=SYDNEY)
    assert standard_due(start, 1, "America/New_York") == start - timedelta(hours=24)


def test_a_local_time_missing_on_the_reminder_day_falls_after_the_gap() -> None:
    """02:30 does not exist on 8 Mar 2026 in New York: the reminder goes at 03:30 EDT (07:30 UTC)."""
    start = datetime(2026, 3, 10, 2, 30, tzinfo=NY).astimezone(UTC)
    assert standard_due(start, 2, "America/New_York") == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)


def test_an_unknown_zone_counts_in_utc() -> None:
    start = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
    assert standard_due(start, 1, "Not/AZone") == start - timedelta(days=1)


def test_telehealth_reminder_is_elapsed_minutes_even_across_the_change() -> None:
    """01:10 EST on 1 Nov 2026 (the second 01:10) minus 20 minutes is 01:50 EDT: 20 real minutes."""
    start = datetime(2026, 11, 1, 1, 10, tzinfo=NY, fold=1).astimezone(UTC)
    due = telehealth_due(start, 20)
    assert start - due == timedelta(minutes=20)
    assert due.astimezone(NY).strftime("%H:%M %Z") == "01:50 EDT"
