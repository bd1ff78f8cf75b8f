"""What the Calendar page reads: the practitioners one may show, and their appointments in a range
of days, as small frozen rows (no ORM rows, nothing of Zoom but a state word).

Days are the viewer's days: a day is midnight to midnight in `tz`, so an appointment at 23:30 local
time lands on its local day whatever its UTC date, and a DST day has 23 or 25 hours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from rxapp.db import unit_of_work
from rxapp.models import (
    Appointment,
    AppointmentStatus,
    Client,
    Meeting,
    PractitionerProfile,
    Role,
    SyncState,
    User,
    ZoomConnection,
    ZoomConnectionStatus,
)
from rxapp.services.permissions import Action, Principal, can, require
from rxapp.services.scheduling.availability import published_hours
from rxapp.services.telehealth.meetings import attendance
from rxapp.services.timezones import is_valid

MAX_DAYS = 7
MAX_PRACTITIONERS = 20


class ZoomState:
    """A practitioner's Zoom connection as the calendar names it."""

    CONNECTED = "connected"
    NEEDS_RECONNECT = "needs_reconnect"
    NOT_CONNECTED = "not_connected"


class MeetingState:
    """Where a telehealth appointment's Zoom meeting is: at Zoom, on its way, or stuck."""

    SCHEDULED = "scheduled"
    PENDING = "pending"
    NEEDS_ATTENTION = "needs_attention"


@dataclass(frozen=True)
class CalendarPractitioner:
    id: int
    name: str
    zoom: str  # a ZoomState value
    telehealth_enabled: bool
    joined: bool = True  # False while invited (no password chosen yet): bookable, but no calendar column


@dataclass(frozen=True)
class CalendarAppointment:
    id: int
    practitioner_id: int
    client_id: int
    client_name: str
    start_at: datetime  # aware UTC
    duration_minutes: int
    telehealth: bool
    status: str  # an AppointmentStatus value
    meeting: str  # a MeetingState value for telehealth appointments, "" for in-person ones
    confirmed: bool = False  # the client confirmed (a reminder's Confirm link or a YES reply)
    movable: bool = False  # booked, and the viewer may change it (drag on the grid; the server re-checks)


@dataclass(frozen=True)
class CalendarAvailability:
    """A practitioner's published hours (a weekly block or a date override) for the background band."""

    practitioner_id: int
    start_at: datetime  # aware UTC
    end_at: datetime
    mode: str  # a SlotMode value


@dataclass(frozen=True)
class WeekView:
    days: tuple[date, ...]
    timezone: str
    practitioners: tuple[CalendarPractitioner, ...]
    appointments: tuple[CalendarAppointment, ...]  # by start, then practitioner
    availability: tuple[CalendarAvailability, ...] = ()  # by practitioner, then start


def day_bounds(first_day: date, days: int, tz: str) -> tuple[datetime, datetime]:
    """[start, end) in UTC of `days` local days from `first_day` in `tz` (DST-correct)."""
    zone = ZoneInfo(tz)
    start = datetime.combine(first_day, time(0), zone)
    end = datetime.combine(first_day + timedelta(days=days), time(0), zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def practitioners(principal: Principal) -> list[CalendarPractitioner]:
    """The practice's active practitioners (anyone with a practitioner profile), by name, each with
    their Zoom connection state. Raises `NotAllowed` without VIEW_CALENDAR."""
    require(principal, Action.VIEW_CALENDAR)
    with unit_of_work() as session:
        return _practitioners(session, principal.practice_id)


def _practitioners(session: Session, practice_id: int) -> list[CalendarPractitioner]:
    rows = session.exec(
        select(User.id, User.full_name, PractitionerProfile.telehealth_enabled, ZoomConnection.status,
               col(User.password_hash).is_not(None))
        .join(PractitionerProfile, col(PractitionerProfile.user_id) == User.id)
        .outerjoin(ZoomConnection, col(ZoomConnection.practitioner_id) == User.id)
        .where(User.practice_id == practice_id, col(User.is_active).is_(True))
        .order_by(col(User.full_name), col(User.id))).all()
    return [CalendarPractitioner(id=user_id or 0, name=name, zoom=_zoom_state(status),
                                 telehealth_enabled=bool(enabled), joined=bool(joined))
            for user_id, name, enabled, status, joined in rows]


def _zoom_state(status: str | None) -> str:
    if status is None:
        return ZoomState.NOT_CONNECTED
    return ZoomState.NEEDS_RECONNECT if status == ZoomConnectionStatus.NEEDS_RECONNECT else ZoomState.CONNECTED


def _meeting_state(telehealth: bool, sync_state: str | None) -> str:
    if not telehealth:
        return ""
    if sync_state == SyncState.SYNCED:
        return MeetingState.SCHEDULED
    if sync_state == SyncState.NEEDS_ATTENTION:
        return MeetingState.NEEDS_ATTENTION
    return MeetingState.PENDING


BUSY = "Busy"  # what a practitioner sees of a colleague's appointment


def _sees_clients_of(principal: Principal, practitioner_id: int) -> bool:
    """Owners, managers and the front desk see every client on the calendar; a practitioner sees
    their own clients, and only that a colleague is busy (clients' privacy)."""
    return principal.role != Role.PRACTITIONER or practitioner_id == principal.user_id


def week_view(principal: Principal, start_day: date, days: int, practitioner_ids: Sequence[int], tz: str,
              include_cancelled: bool = True) -> WeekView:
    """The appointments of `practitioner_ids` (at most MAX_PRACTITIONERS, of the principal's practice;
    others are left out) starting in the `days` local days (1..MAX_DAYS) from `start_day` in `tz`.

    One query over `appointment` (an index on practice_id, start_at) joined to the client, with the
    Zoom meeting's sync state looked up by id; the practitioners' published hours (services.scheduling
    .availability.published_hours) come along for the background band. Raises `NotAllowed` without
    VIEW_CALENDAR, `ValueError` for a bad range or zone."""
    require(principal, Action.VIEW_CALENDAR)
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be 1..{MAX_DAYS}")
    if not is_valid(tz):
        raise ValueError(f"unknown timezone {tz!r}")
    day_list = tuple(start_day + timedelta(days=n) for n in range(days))
    start, end = day_bounds(start_day, days, tz)
    # The Zoom state as a per-row lookup by primary key: a join let PostgreSQL scan every meeting.
    sync_state = select(Meeting.sync_state).where(col(Meeting.id) == Appointment.id).scalar_subquery()
    query = (
        select(Appointment.id, Appointment.practitioner_id, Appointment.client_id, Client.full_name,
               Appointment.start_at, Appointment.duration_minutes, Appointment.telehealth, Appointment.status,
               sync_state, Appointment.confirmed_at)
        .join(Client, col(Client.id) == Appointment.client_id)
        .where(Appointment.practice_id == principal.practice_id, col(Appointment.start_at) >= start,
               col(Appointment.start_at) < end)
        .order_by(col(Appointment.start_at), col(Appointment.practitioner_id), col(Appointment.id)))
    if not include_cancelled:
        query = query.where(Appointment.status != AppointmentStatus.CANCELLED)
    with unit_of_work() as session:  # one connection and transaction for both reads
        shown = {p.id: p for p in _practitioners(session, principal.practice_id) if p.joined}
        wanted = tuple(dict.fromkeys(i for i in practitioner_ids if i in shown))[:MAX_PRACTITIONERS]
        if not wanted:
            return WeekView(day_list, tz, (), ())
        rows = session.exec(query.where(col(Appointment.practitioner_id).in_(wanted))).all()
        hours = published_hours(session, wanted, start, end)
    edits = can(principal, Action.MANAGE_APPOINTMENTS)
    appointments = tuple(
        CalendarAppointment(id=a_id or 0, practitioner_id=p_id,
                            client_id=c_id if _sees_clients_of(principal, p_id) else 0,
                            client_name=name if _sees_clients_of(principal, p_id) else BUSY, start_at=start_at,
                            duration_minutes=minutes, telehealth=bool(telehealth), status=str(status),
                            meeting=_meeting_state(bool(telehealth), sync_state), confirmed=confirmed_at is not None,
                            movable=edits and _sees_clients_of(principal, p_id) and status == AppointmentStatus.BOOKED)
        for a_id, p_id, c_id, name, start_at, minutes, telehealth, status, sync_state, confirmed_at in rows)
    availability = tuple(CalendarAvailability(pid, begin, finish, mode.value)
                         for pid in wanted for begin, finish, mode in hours.get(pid, []))
    return WeekView(day_list, tz, tuple(shown[i] for i in wanted), appointments, availability)


@dataclass(frozen=True)
class AppointmentDetail:
    """One appointment as the edit dialog shows it (no Zoom secrets)."""

    id: int
    practitioner_id: int
    practitioner_name: str
    client_id: int
    client_name: str
    start_at: datetime
    duration_minutes: int
    telehealth: bool
    notes: str
    status: str
    series_id: str | None
    cancel_reason: str
    meeting: str  # a MeetingState value for telehealth appointments, "" otherwise
    confirmed: bool = False
    attendance: attendance.Summary | None = None  # telehealth: from Zoom's participant events
    outcome_recorded: bool = False


def appointment_detail(principal: Principal, appointment_id: int) -> AppointmentDetail:
    """The appointment `appointment_id` of the principal's practice. Raises `NotAllowed` without
    VIEW_CALENDAR, `LookupError` when there is no such appointment in the practice."""
    require(principal, Action.VIEW_CALENDAR)
    with unit_of_work() as session:
        row = session.exec(
            select(Appointment, Client.full_name, User.full_name, Meeting.sync_state)
            .join(Client, col(Client.id) == Appointment.client_id)
            .join(User, col(User.id) == Appointment.practitioner_id)
            .outerjoin(Meeting, col(Meeting.id) == Appointment.id)
            .where(Appointment.id == appointment_id, Appointment.practice_id == principal.practice_id)).first()
        attended = attendance.summaries(session, [appointment_id]).get(appointment_id) if row else None
    if row is None:
        raise LookupError("That appointment is not in this practice's calendar (any more).")
    a, client_name, practitioner_name, sync_state = row
    if not _sees_clients_of(principal, a.practitioner_id):
        raise LookupError(f"That is {practitioner_name}'s appointment: only they and the front desk can open it.")
    return AppointmentDetail(
        attendance=attended, outcome_recorded=a.outcome_recorded_at is not None,
        id=a.id or 0, practitioner_id=a.practitioner_id, practitioner_name=practitioner_name, client_id=a.client_id,
        client_name=client_name, start_at=a.start_at, duration_minutes=a.duration_minutes, telehealth=a.telehealth,
        notes=a.notes, status=str(a.status), series_id=a.series_id, cancel_reason=a.cancel_reason,
        meeting=_meeting_state(a.telehealth, sync_state), confirmed=a.confirmed_at is not None)
