"""The client's side of a session: My sessions, the waiting room and the one-time join link.

A client only ever reaches their own meetings: every function looks the meeting up through
the signed-in user's client record, so changing an id in a URL or a crafted event finds
nothing. Zoom's join_url (it carries the passcode) leaves the server only as the redirect of
`/join/<token>`, for that client, inside the session's window; the start_url never does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlencode

from sqlmodel import Session, col, select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import Appointment, AppointmentStatus, Client, JoinLink, Meeting, SyncState, User
from rxapp.services import changes, crypto, phrases
from rxapp.services.audit import trail
from rxapp.services.clients.directory import own_client_record
from rxapp.services.identity import one_time
from rxapp.services.permissions import Action, NotAllowed, Principal, require
from rxapp.services.telehealth import lateness
from rxapp.services.telehealth.meetings.decisions import LAUNCH_WINDOW


class SessionStatus(StrEnum):
    """A session as its client sees it."""

    WAITING = "waiting"  # scheduled: the waiting room waits for the provider
    SETTING_UP = "setting_up"  # the Zoom meeting needs a person at the practice: nothing to wait for yet
    LIVE = "live"
    ENDED = "ended"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class SessionView:
    meeting_id: int
    topic: str
    practitioner_name: str
    start_at: datetime
    duration_minutes: int
    status: SessionStatus
    can_launch: bool  # inside the launch window (15 minutes before until the end), not cancelled
    late: str = ""  # "Dr. Lee is running 10 minutes late. Expected start: 10:10. …" while waiting


def _client(session: Session, principal: Principal) -> Client:
    require(principal, Action.USE_PORTAL)
    client = own_client_record(session, principal)
    if client is None:
        raise NotAllowed("no client record")
    return client


def _own_meeting(session: Session, principal: Principal, meeting_id: int) -> tuple[Appointment, Meeting]:
    """The client's own telehealth appointment with this id and its Zoom meeting."""
    client = _client(session, principal)
    appointment, meeting = session.get(Appointment, meeting_id), session.get(Meeting, meeting_id)
    if appointment is None or meeting is None or appointment.client_id != client.id \
            or appointment.practice_id != client.practice_id or not appointment.telehealth:
        raise NotAllowed("not your session")
    return appointment, meeting


def _status(appointment: Appointment, meeting: Meeting) -> SessionStatus:
    if appointment.status == AppointmentStatus.CANCELLED:
        return SessionStatus.CANCELLED
    if appointment.status in (AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW):
        return SessionStatus.ENDED
    if appointment.status == AppointmentStatus.IN_PROGRESS and meeting.zoom_meeting_id is not None:
        return SessionStatus.LIVE
    if meeting.sync_state == SyncState.NEEDS_ATTENTION:
        # The provider cannot start it until someone at the practice fixes Zoom (they see it
        # as needs attention): telling the client to wait for the provider would be untrue.
        return SessionStatus.SETTING_UP
    return SessionStatus.WAITING


def _view(session: Session, appointment: Appointment, meeting: Meeting) -> SessionView:
    practitioner = session.get(User, appointment.practitioner_id)
    name = practitioner.full_name if practitioner else ""
    status = _status(appointment, meeting)
    late = timedelta(minutes=meeting.late_minutes)
    in_window = appointment.start_at + late - LAUNCH_WINDOW <= now() <= appointment.end_at + late
    client = session.get(Client, appointment.client_id)
    notice = lateness.notice_of(appointment, meeting, client.timezone if client else "UTC") \
        if status == SessionStatus.WAITING else None
    return SessionView(meeting_id=meeting.id, topic=phrases.visit_title(appointment.topic, True),
                       practitioner_name=name, start_at=appointment.start_at,
                       duration_minutes=appointment.duration_minutes, status=status,
                       can_launch=status == SessionStatus.LIVE or (status == SessionStatus.WAITING and in_window),
                       late=notice.sentence(name) if notice else "")


def client_id(principal: Principal) -> int:
    """The signed-in client's own record id (for server-side bookkeeping only)."""
    with unit_of_work() as session:
        return _client(session, principal).id or 0


def my_sessions(principal: Principal) -> list[SessionView]:
    """Upcoming and running sessions of the signed-in client, soonest first."""
    with unit_of_work() as session:
        client = _client(session, principal)
        rows = session.exec(select(Appointment, Meeting).join(Meeting, col(Meeting.id) == Appointment.id).where(
            Appointment.client_id == client.id, col(Appointment.telehealth).is_(True),
            col(Appointment.status).in_([AppointmentStatus.BOOKED, AppointmentStatus.IN_PROGRESS]),
            Appointment.start_at > now() - timedelta(hours=24)).order_by(col(Appointment.start_at)).limit(50)).all()
        return [v for v in (_view(session, a, m) for a, m in rows)
                if v.status == SessionStatus.LIVE or v.start_at + timedelta(minutes=v.duration_minutes) > now()]


def enter_waiting_room(principal: Principal, meeting_id: int) -> SessionView:
    """The client opened the waiting room: record it (the provider sees they are waiting)."""
    with unit_of_work() as session:
        appointment, meeting = _own_meeting(session, principal, meeting_id)
        view = _view(session, appointment, meeting)
        first = meeting.client_waiting_since is None
        if view.status in (SessionStatus.WAITING, SessionStatus.LIVE) and first:
            meeting.client_waiting_since = now()
            trail.record(session, practice_id=appointment.practice_id, actor_user_id=principal.user_id,
                         action="meeting.waiting_room_entered", subject_type="meeting", subject_id=meeting_id)
    if view.status in (SessionStatus.WAITING, SessionStatus.LIVE) and first:
        changes.appointment_changed(meeting_id, appointment.practice_id, appointment.practitioner_id,
                                    appointment.client_id)
    return view


def waiting_room(principal: Principal, meeting_id: int) -> SessionView:
    with unit_of_work() as session:
        return _view(session, *_own_meeting(session, principal, meeting_id))


def issue_join_link(principal: Principal, meeting_id: int) -> str | None:
    """A one-time `/join/<token>` path for this client and session, once the provider started."""
    with unit_of_work() as session:
        appointment, meeting = _own_meeting(session, principal, meeting_id)
        if _status(appointment, meeting) != SessionStatus.LIVE:
            return None
        token = one_time.new_secret(24)
        session.add(JoinLink(practice_id=appointment.practice_id, meeting_id=meeting.id,
                             client_id=appointment.client_id, token_hash=one_time.digest(token)))
        return f"/join/{token}"


class JoinRefused(Exception):
    """The join link cannot be used; the message says why, for the page shown instead."""


def redeem_join_link(token: str, principal: Principal | None) -> str:
    """Zoom's join_url for the link's client, once; raises `JoinRefused` with the reason.

    The link is claimed first (once, however many requests race); any refusal after that
    rolls the claim back, so a refused link still works for its own client later."""
    with unit_of_work() as session:
        link_id = one_time.claim(session, JoinLink.token_hash, token)
        link = session.get(JoinLink, link_id) if link_id is not None else session.exec(
            select(JoinLink).where(JoinLink.token_hash == one_time.digest(token))).first()
        if link is None:
            raise JoinRefused("This join link is not valid. Open your portal and press Join session.")
        meeting, appointment = session.get(Meeting, link.meeting_id), session.get(Appointment, link.meeting_id)
        client = session.get(Client, link.client_id)
        if principal is None or client is None or client.user_id != principal.user_id:
            raise JoinRefused("This join link belongs to someone else. Sign in with your own account and open "
                              "your portal.")
        if meeting is None or appointment is None or not AppointmentStatus(appointment.status).is_live:
            raise JoinRefused("This session has ended, so its join link no longer works.")
        if link_id is None:
            raise JoinRefused("This join link was already used. Open your portal and press Join session again.")
        expected = appointment.start_at + timedelta(minutes=meeting.late_minutes)
        if now() < expected - LAUNCH_WINDOW and appointment.status != AppointmentStatus.IN_PROGRESS:
            raise JoinRefused("It is too early to join this session. Come back "
                               f"{LAUNCH_WINDOW.seconds // 60} minutes before the start.")
        if not meeting.join_url_encrypted or meeting.sync_state == SyncState.PENDING_DELETE:
            raise JoinRefused("The video meeting is not ready. Please wait in the waiting room.")
        trail.record(session, practice_id=appointment.practice_id, actor_user_id=principal.user_id,
                     action="meeting.client_joined", subject_type="meeting", subject_id=meeting.id)
        return with_display_name(crypto.decrypt(meeting.join_url_encrypted), client.full_name)


def with_display_name(join_url: str, name: str) -> str:
    """Zoom's join_url with the client's name filled in (`uname`, Zoom's web client prefill): Zoom then
    reports that name with the client's participant events, which is how attendance knows them."""
    separator = "&" if "?" in join_url else "?"
    return f"{join_url}{separator}{urlencode({'uname': name})}"
