"""Column types and enumerations shared by the tables."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every backend.

    PostgreSQL stores `timestamptz`; SQLite has no zone, so values are stored as UTC and
    given their zone back on the way out. Naive datetimes are refused: they are bugs.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Role(StrEnum):
    OWNER = "owner"
    MANAGER = "manager"
    PRACTITIONER = "practitioner"
    STAFF = "staff"
    CLIENT = "client"


class SyncState(StrEnum):
    """Whether our meeting row and Zoom agree; anything but SYNCED has a retry job on it."""

    SYNCED = "synced"
    PENDING_CREATE = "pending_create"
    PENDING_UPDATE = "pending_update"
    PENDING_DELETE = "pending_delete"
    NEEDS_ATTENTION = "needs_attention"


# The sync states a meeting passes through (Syncing) or gets stuck in (Needs attention): always a small
# share of a practice's meetings, mirrored on the appointment (`Appointment.sync_flag`) so the
# Meetings page reads them in list order from a small index.
FLAGGED_SYNC_STATES = frozenset({SyncState.PENDING_CREATE, SyncState.PENDING_UPDATE, SyncState.NEEDS_ATTENTION})


class AppointmentStatus(StrEnum):
    """Where a visit stands. IN_PROGRESS: the session has started (telehealth: the provider
    pressed Start or Zoom reported it); COMPLETED/NO_SHOW are the outcomes of a past visit."""

    BOOKED = "booked"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"

    @property
    def is_live(self) -> bool:
        return self in (AppointmentStatus.BOOKED, AppointmentStatus.IN_PROGRESS)


class ZoomConnectionStatus(StrEnum):
    CONNECTED = "connected"
    NEEDS_RECONNECT = "needs_reconnect"


class NotificationStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
