"""Appointment reminders: one row per appointment and kind, claimed by the reminder job."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from rxapp.clock import now
from rxapp.models.types import UTCDateTime


class ReminderKind(StrEnum):
    STANDARD = "standard"  # N days before (practice.standard_reminder_days)
    TELEHEALTH = "telehealth"  # M minutes before a telehealth session (practice.telehealth_reminder_minutes)


class ReminderStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a worker until `claimed_until`
    SENT = "sent"  # queued in the outbox for `sent_for_start_at`
    SKIPPED = "skipped"  # due before it was planned (the booking/change email told the time)
    CANCELLED = "cancelled"  # the appointment was cancelled, ended or is no longer telehealth


class Reminder(SQLModel, table=True):
    """A reminder of one appointment. Exactly one row per (appointment, kind): the row, not the
    scheduler, is what makes a reminder go out once with several workers (a claim is an UPDATE
    of it). `planned_start_at` is the appointment start the row was planned for; the job sends
    only while the appointment still starts then."""

    __table_args__ = (
        UniqueConstraint("appointment_id", "kind", name="uq_reminder_appointment_kind"),
        Index("ix_reminder_due", "status", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    # Deleting an appointment (a cancelled meeting removed from the list) deletes its reminders.
    appointment_id: int = Field(sa_column=Column(Integer, ForeignKey("appointment.id", ondelete="CASCADE"),
                                                 nullable=False))
    kind: ReminderKind = Field(sa_type=String(20))
    due_at: datetime = Field(sa_type=UTCDateTime)
    planned_start_at: datetime = Field(sa_type=UTCDateTime)
    status: ReminderStatus = Field(default=ReminderStatus.PENDING, sa_type=String(20))
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = 0
    # The start the reminder went out for: a move to a time whose reminder is not due yet sends again.
    sent_for_start_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Per channel: "queued" (in the outbox, which records the send), "skipped: <why>", or "".
    email_outcome: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    sms_outcome: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
