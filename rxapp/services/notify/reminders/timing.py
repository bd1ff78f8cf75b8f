"""When a reminder is due (pure: stdlib and zoneinfo only).

A standard reminder "N days before" is N calendar days before in the appointment's zone, at the
same wall-clock time: "2 days before" a 10:00 visit is 10:00 two days earlier even when a
daylight-saving change lies between (then it is 47 or 49 hours, not 48). A time that does not
exist on that day (the spring-forward gap) resolves like zoneinfo's fold=0: one hour later on
the wall clock. A telehealth reminder "M minutes before" is elapsed time, in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def standard_due(start_at: datetime, days: int, zone: str) -> datetime:
    """`days` calendar days before `start_at` (aware) at the same local time in `zone`; aware UTC."""
    local = start_at.astimezone(_zone(zone)).replace(tzinfo=None) - timedelta(days=days)
    return local.replace(tzinfo=_zone(zone)).astimezone(UTC)


def telehealth_due(start_at: datetime, minutes: int) -> datetime:
    """`minutes` of elapsed time before `start_at`; aware UTC."""
    return (start_at - timedelta(minutes=minutes)).astimezone(UTC)
