"""A client's appointments, upcoming and past: on their record (staff) and in their portal (the client)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import Appointment, Client, User
from rxapp.services.clients.directory import own_client_record, visible_client
from rxapp.services.permissions import Action, Principal, require
from rxapp.services.telehealth.meetings import attendance

# Appointments still to come or under way; any other status is history.
_ACTIVE = frozenset({"booked", "in_progress"})
# No appointment is longer than this: older starts are history whatever their status, so the
# recent window read in full stays small.
_LONGEST = timedelta(hours=12)
PAST_LIMIT = 50

STATUS_TEXT = {"booked": "Booked", "in_progress": "In progress", "completed": "Completed",
               "cancelled": "Cancelled", "no_show": "No-show"}


@dataclass(frozen=True)
class Visit:
    appointment_id: int
    start_at: datetime
    duration_minutes: int
    practitioner_name: str
    telehealth: bool
    status: str  # an AppointmentStatus value
    cancel_reason: str
    topic: str = ""  # the topic a practitioner gave it (New meeting), else empty
    booked_by_client: bool = False  # the client booked it themselves (self-booking)
    attended_minutes: int | None = None  # telehealth: the client's minutes in the Zoom meeting (None: unknown)

    @property
    def mode(self) -> str:
        return "Telehealth" if self.telehealth else "In person"

    @property
    def status_text(self) -> str:
        return STATUS_TEXT.get(self.status, self.status.replace("_", " ").capitalize())


@dataclass(frozen=True)
class History:
    upcoming: list[Visit]  # soonest first: booked, or under way (a session running over included)
    cancelled: list[Visit]  # cancelled visits whose time is still to come, soonest first (never "past")
    past: list[Visit]  # most recent first: ended, completed, cancelled (with the reason), no-show


def _visits(session: Session, client: Client, *conditions: ColumnElement[bool], newest_first: bool,
            limit: int | None = None) -> list[Visit]:
    query = (select(Appointment, User.full_name).join(User, col(User.id) == Appointment.practitioner_id)
             .where(col(Appointment.client_id) == client.id, *conditions)
             .order_by(col(Appointment.start_at).desc() if newest_first else col(Appointment.start_at),
                       col(Appointment.id)))
    if limit is not None:
        query = query.limit(limit)
    return [Visit(appointment_id=a.id or 0, start_at=a.start_at, duration_minutes=a.duration_minutes,
                  practitioner_name=name, telehealth=a.telehealth, status=str(a.status),
                  cancel_reason=a.cancel_reason, topic=a.topic,
                  booked_by_client=client.user_id is not None and a.created_by_user_id == client.user_id)
            for a, name in session.exec(query).all()]


def _history(session: Session, client: Client) -> History:
    at = now()
    recent = _visits(session, client, col(Appointment.start_at) >= at - _LONGEST, newest_first=False)
    upcoming = [v for v in recent if v.status == "in_progress"
                or (v.status in _ACTIVE and v.start_at + timedelta(minutes=v.duration_minutes) > at)]
    cancelled = [v for v in recent if v.status == "cancelled" and v.start_at > at]
    done = [v for v in recent if v not in upcoming and v not in cancelled]
    older = _visits(session, client, col(Appointment.start_at) < at - _LONGEST, newest_first=True,
                    limit=PAST_LIMIT)
    past = sorted(done, key=lambda v: v.start_at, reverse=True) + older
    return History(upcoming=upcoming, cancelled=cancelled, past=_with_attendance(session, past[:PAST_LIMIT]))


def _with_attendance(session: Session, visits: list[Visit]) -> list[Visit]:
    """Past telehealth visits with the client's attended minutes (0 when Zoom reported the session but
    never the client)."""
    found = attendance.summaries(session, [v.appointment_id for v in visits if v.telehealth])
    return [replace(v, attended_minutes=found[v.appointment_id].client.minutes
                    if found[v.appointment_id].client else 0) if v.appointment_id in found else v for v in visits]


def client_history(principal: Principal, client_id: int) -> History | None:
    """The appointments of a client on their record page (None for a client the principal may not
    see). Raises `NotAllowed` without `VIEW_CLIENTS`."""
    with unit_of_work() as session:
        client = visible_client(session, principal, client_id)
        return None if client is None else _history(session, client)


def my_history(principal: Principal) -> History:
    """The signed-in client's own appointments (their portal). Raises `NotAllowed` without `USE_PORTAL`."""
    require(principal, Action.USE_PORTAL)
    with unit_of_work() as session:
        client = own_client_record(session, principal)
        if client is None or client.id is None:
            return History(upcoming=[], cancelled=[], past=[])
        return _history(session, client)
