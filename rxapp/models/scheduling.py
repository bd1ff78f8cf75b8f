"""Appointments on the calendar and the Zoom side of the telehealth ones."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Text, event, inspect, text
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from rxapp.clock import now
from rxapp.models.types import FLAGGED_SYNC_STATES, AppointmentStatus, SyncState, UTCDateTime


class Appointment(SQLModel, table=True):
    """A visit: who sees whom, when, where (in person or by telehealth) and how it went.

    The appointment owns time, people and status. A telehealth appointment has one `Meeting`
    (same id) that holds only the Zoom side; an in-person visit has none.
    """

    __table_args__ = (
        Index("ix_appointment_practitioner_start", "practitioner_id", "start_at"),
        Index("ix_appointment_practice_start", "practice_id", "start_at"),
        Index("ix_appointment_series", "series_id", "start_at"),
        # The Meetings page (services.telehealth.meeting_list: telehealth appointments) needs different indexes
        # on each database; each one is declared for both and kept empty (an always-false WHERE)
        # where it does not help. PostgreSQL: a trigram index serves `search_text LIKE '%word%'`.
        Index("ix_appointment_search_trgm", "search_text", postgresql_using="gin",
              postgresql_ops={"search_text": "gin_trgm_ops"}, sqlite_where=text("0")),
        Index("ix_appointment_practitioner_list", "practice_id", "practitioner_id", "start_at", "id",
              sqlite_where=text("0")),
        # A practitioner's meetings in one status, in list order (the Meetings page's status filter; 0012a).
        Index("ix_appointment_practitioner_status_list", "practice_id", "practitioner_id", "status", "start_at", "id",
              sqlite_where=text("0")),
        # Keyset pages on (start_at, id): the whole practice (PostgreSQL) and one client (both).
        Index("ix_appointment_practice_list", "practice_id", "start_at", "id", sqlite_where=text("0")),
        Index("ix_appointment_client_list", "client_id", "start_at", "id"),
        # The few meetings that are syncing or need attention (`sync_flag`), in list order (0012b):
        # PostgreSQL keeps search_text out of btree entries (they must stay under ~2.7 kB).
        Index("ix_appointment_flagged_list", "practice_id", "start_at", "id",
              postgresql_include=["practitioner_id", "client_id", "status", "telehealth", "sync_flag"],
              postgresql_where=text("sync_flag IS NOT NULL"), sqlite_where=text("0")),
        # SQLite: covering indexes, so paging and counting a large practice never reads the wide rows
        # (PostgreSQL: empty, as its btree entries must stay under ~2.7 kB and search_text can be longer).
        Index("ix_appointment_sqlite_practitioner_list", "practice_id", "practitioner_id", "start_at", "id",
              "status", "telehealth", "client_id", "search_text", postgresql_where=text("false")),
        Index("ix_appointment_sqlite_practice_list", "practice_id", "start_at", "id", "status", "telehealth",
              "client_id", "practitioner_id", "search_text", postgresql_where=text("false")),
        Index("ix_appointment_sqlite_practice_search", "practice_id", "search_text", postgresql_where=text("false")),
        Index("ix_appointment_sqlite_flagged_list", "practice_id", "start_at", "id", "practitioner_id", "client_id",
              "status", "telehealth", "sync_flag", "search_text", sqlite_where=text("sync_flag IS NOT NULL"),
              postgresql_where=text("false")),
        # SQLite would give a deleted appointment's id to the next one (a stale row action, emails
        # deduplicated by id); AUTOINCREMENT never reuses an id.
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id")
    practitioner_id: int = Field(foreign_key="user.id")
    client_id: int = Field(foreign_key="client.id", index=True)
    start_at: datetime = Field(sa_type=UTCDateTime)
    duration_minutes: int = 50
    # The zone the time was chosen in (sent to Zoom with the UTC start; shown when it differs).
    timezone: str = Field(default="UTC", max_length=64)
    telehealth: bool = False
    pos_code: str = Field(default="11", max_length=2)
    status: AppointmentStatus = Field(default=AppointmentStatus.BOOKED, sa_type=String(20), index=True)
    cancel_reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    # The Zoom meeting's topic for telehealth (clients see it); never clinical detail.
    topic: str = Field(default="", max_length=200)
    notes: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    # Occurrences of one Repeat share a series id; "this and following" edits work on it.
    series_id: str | None = Field(default=None, max_length=36)
    # Case-folded topic, notes and client name for the Meetings page search; whoever writes an
    # appointment (or renames its client) sets it with services.telehealth.meeting_list.meeting_search_text.
    search_text: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    # The Zoom meeting's sync state while it is syncing or needs attention (`FLAGGED_SYNC_STATES`), else
    # NULL: never written by hand; every flush that changes a meeting's `sync_state` carries it over
    # (`_carry_sync_flags`). The Meetings page reads those few meetings from an index of their own.
    sync_flag: str | None = Field(default=None, max_length=20)
    # When the client confirmed (a reminder's Confirm link or an SMS reply YES); cleared by a move.
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When someone recorded the outcome (completed or no-show). An ended telehealth session is
    # `completed` without it ("Ended"): the outcome is offered from attendance, never set silently.
    outcome_recorded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The calendar invite's SEQUENCE: grows with every change the client is sent (RFC 5545).
    ics_sequence: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    created_by_user_id: int | None = Field(default=None, foreign_key="user.id")
    changed_by_user_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)

    @property
    def end_at(self) -> datetime:
        return self.start_at + timedelta(minutes=self.duration_minutes)


class JoinLink(SQLModel, table=True):
    """Our own one-time join link (`/join/<token>`) for one client and one session; it leads to
    Zoom's join_url only from 15 minutes before the start until the session ends."""

    __tablename__ = "join_link"

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    client_id: int = Field(foreign_key="client.id")
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)


class Meeting(SQLModel, table=True):
    """The Zoom side of a telehealth appointment, 1:1: its id is the appointment's id.

    The join URL and passcode are encrypted at rest: they let anyone into the session.
    `sync_state` says whether Zoom has caught up with the appointment; a retry job works on
    everything that is not SYNCED, so a Zoom outage never loses an appointment. Presence (started,
    ended, the client waiting) is recorded here as Zoom and the waiting room report it.
    """

    # id too: the Meetings page reads the few meetings needing attention from this index alone.
    __table_args__ = (Index("ix_meeting_sync", "sync_state", "next_sync_at", "id"),)

    id: int = Field(sa_column=Column(Integer, ForeignKey("appointment.id"), primary_key=True, autoincrement=False))
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The client opened the waiting room / Zoom reported them in its waiting room.
    client_waiting_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    zoom_waiting_room_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    zoom_meeting_id: int | None = Field(default=None, sa_column=Column(BigInteger, index=True))
    zoom_host_user_id: str | None = Field(default=None, max_length=64)
    # The practitioner whose Zoom account holds `zoom_meeting_id`. Sync updates and deletes the
    # Zoom meeting through that practitioner's connection, even after a re-assignment to someone else.
    zoom_holder_practitioner_id: int | None = Field(default=None, foreign_key="user.id")
    join_url_encrypted: str | None = Field(default=None, sa_column=Column(Text))
    passcode_encrypted: str | None = Field(default=None, sa_column=Column(Text))
    sync_state: SyncState = Field(default=SyncState.PENDING_CREATE, sa_type=String(20))
    sync_attempts: int = 0
    next_sync_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_sync_error: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    # "Running late": minutes the practitioner expects to start after the booked time, and their note to
    # the client (services.telehealth.lateness); the launch window follows the new expected start.
    late_minutes: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    late_note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    late_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)


class Attendance(SQLModel, table=True):
    """Someone's time in a session's Zoom meeting or Zoom waiting room, from Zoom's participant events:
    who (the host, the client or "a participant") and when; never a name or an email. A leave
    finds its join by the participant's key (a hash of Zoom's participant_uuid); either may come first.
    """

    __table_args__ = (Index("ix_attendance_appointment", "appointment_id", "participant_key", "place"),)

    id: int | None = Field(default=None, primary_key=True)
    appointment_id: int = Field(sa_column=Column(Integer, ForeignKey("appointment.id"), nullable=False))
    who: str = Field(max_length=12)  # host | client | participant
    place: str = Field(max_length=12)  # meeting | waiting (Zoom's waiting room)
    participant_key: str = Field(max_length=64)
    joined_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    left_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WaitlistWish(SQLModel, table=True):
    """A client's wish for a time sooner than they have (services.scheduling.waitlist): with whom (or
    anyone), how, on which weekdays between which times (the client's own zone), and between which
    dates. Offered matching open slots in order of age; removed when booked or by hand."""

    __tablename__ = "waitlist_wish"
    __table_args__ = (Index("ix_waitlist_wish_active", "practice_id", "removed_at", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id")
    client_id: int = Field(foreign_key="client.id", index=True)
    practitioner_id: int | None = Field(default=None, foreign_key="user.id")  # None: any practitioner
    mode: str = Field(default="either", max_length=12)  # in_person | telehealth | either
    weekdays: str = Field(default="0,1,2,3,4", max_length=20)  # Monday = 0
    earliest_minute: int = 0  # a start from this time of day (the client's zone) ...
    latest_minute: int = 24 * 60  # ... until this one
    first_date: date
    last_date: date
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
    created_by_user_id: int | None = Field(default=None, foreign_key="user.id")
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    removed_reason: str = Field(default="", max_length=40)  # booked | removed


class WaitlistOffer(SQLModel, table=True):
    """One open slot offered to one wish by a one-time link (only its hash is kept). The first claim
    of a slot books it; the slot's other offers are then `gone`; an unclaimed offer `expired`."""

    __tablename__ = "waitlist_offer"
    __table_args__ = (Index("ix_waitlist_offer_slot", "practitioner_id", "start_at"),)

    id: int | None = Field(default=None, primary_key=True)
    practice_id: int = Field(foreign_key="practice.id", index=True)
    wish_id: int = Field(foreign_key="waitlist_wish.id", index=True)
    practitioner_id: int = Field(foreign_key="user.id")
    start_at: datetime = Field(sa_type=UTCDateTime)
    duration_minutes: int
    telehealth: bool = False
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    created_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: str = Field(default="", max_length=12)  # "" (open) | booked | gone | expired
    appointment_id: int | None = Field(default=None, foreign_key="appointment.id")


def sync_flag(state: str | None) -> str | None:
    """What `Appointment.sync_flag` holds while its meeting is in sync state `state`."""
    return SyncState(state).value if state in FLAGGED_SYNC_STATES else None


@event.listens_for(Session, "before_flush")
def _carry_sync_flags(session: Session, _context: Any, _instances: Any) -> None:
    """Every flush that adds a meeting, changes its sync state or deletes it sets its appointment's
    `sync_flag` in the same flush (the appointment is loaded by id when the session does not hold it).
    Meetings change through the ORM only; a bulk UPDATE of `meeting.sync_state` would bypass this."""
    changed = [(m, sync_flag(m.sync_state)) for m in (*session.new, *session.dirty)
               if isinstance(m, Meeting) and (m in session.new or inspect(m).attrs.sync_state.history.has_changes())]
    changed += [(m, None) for m in session.deleted if isinstance(m, Meeting)]
    if not changed:
        return
    with session.no_autoflush:
        for meeting, flag in changed:
            appointment = session.get(Appointment, meeting.id)
            if appointment is not None and appointment not in session.deleted and appointment.sync_flag != flag:
                appointment.sync_flag = flag
