"""Time shown to people: stored UTC, displayed in the viewer's IANA timezone."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


@lru_cache
def all_timezones() -> tuple[str, ...]:
    """IANA zone names people choose from (no legacy aliases such as 'EST5EDT' or 'posixrules')."""
    zones = sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))
    return (*zones, "UTC")


def is_valid(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return bool(name)


def format_local(moment: datetime | None, timezone: str, pattern: str = "%a %d %b %Y, %H:%M") -> str:
    """`moment` in `timezone`, with the zone's abbreviation, e.g. 'Mon 23 Nov 2026, 09:00 EST'."""
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(timezone if is_valid(timezone) else "UTC"))
    return f"{local.strftime(pattern)} {local.tzname()}"
