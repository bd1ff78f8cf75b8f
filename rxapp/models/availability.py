"""When a practitioner sees clients: weekly blocks, date overrides and booking rules
(services.scheduling.availability reads them; services.scheduling.slots turns them into slots)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, Integer, String
from sqlmodel import Field, SQLModel

from rxapp.clock import now
from rxapp.models.types import UTCDateTime


class AvailabilityBlock(SQLModel, table=True):
    """A weekly recurring block: on `weekday` (Monday 0) from `start_minute` to `end_minute`
    (local wall-clock minutes after midnight in the practitioner's zone; end may be 1440) in `mode`
    (in_person, telehealth or both). Several per day, never overlapping (the service checks)."""

    __tablename__ = "availability_block"
    __table_args__ = (Index("ix_availability_block_practitioner", "practitioner_id", "weekday"),)

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    practitioner_id: int = Field(foreign_key="user.id")
    weekday: int
    start_minute: int
    end_minute: int
    mode: str = Field(sa_column=Column(String(20), nullable=False))


class AvailabilityOverride(SQLModel, table=True):
    """One date's hours instead of the weekly blocks. A date's rows together replace its weekday:
    one row with `day_off` means no hours; otherwise each row is a window like a block's."""

    __tablename__ = "availability_override"
    __table_args__ = (Index("ix_availability_override_practitioner", "practitioner_id", "on_date"),)

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    practitioner_id: int = Field(foreign_key="user.id")
    on_date: date
    day_off: bool = False
    start_minute: int = 0
    end_minute: int = 0
    mode: str = Field(default="in_person", sa_column=Column(String(20), nullable=False, server_default="in_person"))


class BookingRule(SQLModel, table=True):
    """A practitioner's rules for self-booking (defaults apply while no row exists)."""

    __tablename__ = "booking_rule"

    practitioner_id: int = Field(foreign_key="user.id", primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    # Comma-separated lengths offered in minutes, e.g. "50" or "30,50".
    lengths: str = Field(default="50", sa_column=Column(String(60), nullable=False, server_default="50"))
    interval_minutes: int = Field(default=30, sa_column=Column(Integer, nullable=False, server_default="30"))
    buffer_before_minutes: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    buffer_after_minutes: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    min_notice_hours: int = Field(default=24, sa_column=Column(Integer, nullable=False, server_default="24"))
    horizon_days: int = Field(default=60, sa_column=Column(Integer, nullable=False, server_default="60"))
    # None: no limit.
    max_per_day: int | None = None
    new_clients_may_self_book: bool = True
    updated_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
