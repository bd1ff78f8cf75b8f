"""The one clock of the app: aware UTC datetimes, replaceable in tests.

A neutral module (no service or model imports) so that models and services can both use it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime


def _wall_clock() -> datetime:
    return datetime.now(UTC)


_now: Callable[[], datetime] = _wall_clock


def now() -> datetime:
    """The current time as an aware UTC datetime."""
    return _now()


def set_clock(fn: Callable[[], datetime] | None) -> None:
    """Replace the clock (tests); `None` restores the wall clock."""
    global _now
    _now = fn or _wall_clock


def as_utc(value: datetime) -> datetime:
    """Normalise a datetime to aware UTC; naive values are taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
