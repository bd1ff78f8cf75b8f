"""Reading an appointment's time from the form, and weekly repeats (python-dateutil's rrule).

Times are chosen in a timezone and stored in UTC; a series steps in local wall-clock time, so a
09:00 appointment stays at 09:00 on both sides of a clock change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from dateutil.rrule import WEEKLY, rrule

from rxapp.clock import now
from rxapp.services.telehealth.meetings.schedule import YEARS_AHEAD, latest_day
from rxapp.services.timezones import is_valid

MAX_OCCURRENCES = 52
SHORTEST, LONGEST = 5, 480


@dataclass(frozen=True)
class Repeat:
    every_weeks: int = 1  # 1: weekly, 2: every two weeks
    count: int | None = None  # occurrences, the first included
    until: str = ""  # YYYY-MM-DD, the last day an occurrence may fall on (when count is None)


def local_start(day_text: str, hour_text: str, zone_name: str, errors: dict[str, str]) -> datetime | None:
    """The aware local start, or None with the reason in `errors`."""
    if not is_valid(zone_name):
        errors["timezone"] = "Choose a timezone from the list."
        return None
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        errors["date"] = "Enter a date." if not day_text else "Enter a date as YYYY-MM-DD."
        return None
    try:
        clock = time.fromisoformat(hour_text)
    except ValueError:
        errors["hour"] = "Enter a time." if not hour_text else "Enter a time as HH:MM."
        return None
    zone = ZoneInfo(zone_name)
    last = latest_day(now().astimezone(zone).date())
    if day > last or day.year < 2000:
        errors["date"] = f"Choose a date within {YEARS_AHEAD} years, on or before {last:%d %b %Y}."
        return None
    local = datetime.combine(day, clock, zone)
    if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        errors["hour"] = f"{hour_text} does not exist on that day in {zone_name} (the clocks change)."
        return None
    return local


def check_length(minutes: int, errors: dict[str, str]) -> None:
    if minutes <= 0:
        errors["duration"] = "The end must be after the start: choose a length."
    elif not SHORTEST <= minutes <= LONGEST:
        errors["duration"] = f"Choose a length between {SHORTEST} minutes and {LONGEST // 60} hours."


def occurrences(first: datetime, repeat: Repeat | None, errors: dict[str, str]) -> list[datetime]:
    """Every start of the series in UTC. Weekly steps are taken in local time, so 09:00 stays
    09:00 on both sides of a clock change."""
    if repeat is None:
        return [first.astimezone(UTC)]
    if repeat.every_weeks not in (1, 2):
        errors["repeat"] = "Repeat weekly or every 2 weeks."
        return []
    zone = first.tzinfo
    naive = first.replace(tzinfo=None)
    if repeat.count is not None:
        if not 2 <= repeat.count <= MAX_OCCURRENCES:
            errors["repeat_count"] = f"Repeat between 2 and {MAX_OCCURRENCES} times."
            return []
        rule = rrule(WEEKLY, interval=repeat.every_weeks, dtstart=naive, count=repeat.count)
    else:
        try:
            until = date.fromisoformat(repeat.until)
        except ValueError:
            errors["repeat_until"] = "Enter the last date of the series, or a number of occurrences."
            return []
        if until <= naive.date():
            errors["repeat_until"] = "The series must end after its first appointment."
            return []
        rule = rrule(WEEKLY, interval=repeat.every_weeks, dtstart=naive,
                     until=datetime.combine(until, time(23, 59)))
    starts = list(rule[:MAX_OCCURRENCES + 1])
    if len(starts) > MAX_OCCURRENCES:
        errors["repeat_until"] = f"A series has at most {MAX_OCCURRENCES} appointments: choose an earlier end."
        return []
    return [s.replace(tzinfo=zone).astimezone(UTC) for s in starts]
