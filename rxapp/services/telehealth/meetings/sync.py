"""Keeping Zoom in step with telehealth appointments: create, update, delete, with retries.

The appointment owns time, people and status; its `Meeting` row (same id) holds the Zoom side
and its sync state. Each meeting row that is not SYNCED is worked on by exactly one worker at a time: `_claim` leases it
by compare-and-swap on `next_sync_at`. A create whose answer was lost (timeout after Zoom
acted) is not repeated blindly: before creating again, the practitioner's upcoming Zoom
meetings are searched for one with the same topic and start, which is then adopted. So a row
never gets two Zoom meetings.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import Appointment, AppointmentStatus, JoinLink, Meeting, SyncState, User
from rxapp.services import changes, crypto, phrases
from rxapp.services.telehealth.meetings import passcodes
from rxapp.services.telehealth.zoom.client import PasscodeRules, ZoomApi, ZoomMeeting
from rxapp.services.telehealth.zoom.errors import (
    ZoomError,
    ZoomMeetingNotFound,
    ZoomNeedsReconnect,
    ZoomNotAllowed,
    ZoomNotConnected,
    ZoomRateLimited,
    ZoomRejected,
)
from rxapp.services.telehealth.zoom.tokens import call_zoom

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 12
_BACKOFF_SECONDS = (5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)


@dataclass(frozen=True)
class _Work:
    id: int
    practice_id: int
    practitioner_id: int
    client_id: int
    state: SyncState
    status: AppointmentStatus
    telehealth: bool
    topic: str
    start_at: datetime
    duration_minutes: int
    timezone: str
    zoom_meeting_id: int | None
    holder_id: int | None  # whose Zoom account holds zoom_meeting_id
    attempts: int

    @property
    def holder(self) -> int:
        """The practitioner whose connection reaches the Zoom meeting (or would create it)."""
        return self.holder_id or self.practitioner_id

    @property
    def moving(self) -> bool:
        """Re-assigned: the Zoom meeting sits in another practitioner's account than the assignee's."""
        return self.zoom_meeting_id is not None and self.holder != self.practitioner_id


def zoom_time(moment: datetime) -> str:
    """UTC with a Z, as Zoom wants it (always sent together with the IANA timezone)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def meeting_payload(work: _Work, passcode: str | None) -> dict[str, Any]:
    """Safe defaults (DESIGN.md section 4): passcode, waiting room, join before host into the
    waiting room, video on, no auto-recording. The appointment's notes never go to Zoom."""
    payload: dict[str, Any] = {
        "topic": work.topic, "type": 2, "start_time": zoom_time(work.start_at), "duration": work.duration_minutes,
        "timezone": work.timezone,
        "settings": {"host_video": True, "participant_video": True, "join_before_host": True, "jbh_time": 0,
                     "waiting_room": True, "mute_upon_entry": False, "auto_recording": "none",
                     "approval_type": 2, "meeting_authentication": False},
    }
    if passcode:
        payload["password"] = passcode
    else:
        payload["default_password"] = True
    return payload


def _claim(meeting_id: int, force: bool = False) -> _Work | None:
    """Lease a row that needs work; None if it is synced or another worker holds it."""
    at = now()
    with unit_of_work() as session:
        lease = update(Meeting).where(col(Meeting.id) == meeting_id, col(Meeting.sync_state).in_(
            [SyncState.PENDING_CREATE, SyncState.PENDING_UPDATE, SyncState.PENDING_DELETE]))
        if not force:
            lease = lease.where(or_(col(Meeting.next_sync_at).is_(None), col(Meeting.next_sync_at) <= at))
        result = session.execute(lease.values(next_sync_at=at + LEASE, sync_attempts=Meeting.sync_attempts + 1))
        if result.rowcount != 1:
            return None
        m, a = session.get(Meeting, meeting_id), session.get(Appointment, meeting_id)
        assert m is not None and a is not None
        return _Work(id=m.id, practice_id=a.practice_id, practitioner_id=a.practitioner_id, client_id=a.client_id,
                     state=SyncState(m.sync_state), status=AppointmentStatus(a.status), telehealth=a.telehealth,
                     topic=_topic(session, a), start_at=a.start_at, duration_minutes=a.duration_minutes,
                     timezone=a.timezone, zoom_meeting_id=m.zoom_meeting_id, holder_id=m.zoom_holder_practitioner_id,
                     attempts=m.sync_attempts)


def _topic(session: Session, a: Appointment) -> str:
    """The Zoom topic the appointment has now (it names the current practitioner)."""
    practitioner = session.get(User, a.practitioner_id)
    return phrases.zoom_topic(a.topic, practitioner.full_name if practitioner else "")


def _finish(work: _Work, zoom: ZoomMeeting | None = None, deleted: bool = False) -> None:
    """Record success. If the appointment changed while Zoom was being called (cancelled during
    the create, moved during an update), queue the follow-up at once instead of calling it done.
    A Zoom meeting deleted because the visit became in person takes its row with it."""
    with unit_of_work() as session:
        m, a = session.get(Meeting, work.id), session.get(Appointment, work.id)
        if m is None or a is None:
            return
        if zoom is not None:
            m.zoom_meeting_id, m.zoom_host_user_id = zoom.id, zoom.host_id
            m.zoom_holder_practitioner_id = work.practitioner_id
            m.join_url_encrypted = crypto.encrypt(zoom.join_url) if zoom.join_url else m.join_url_encrypted
            m.passcode_encrypted = crypto.encrypt(zoom.password) if zoom.password else m.passcode_encrypted
        if deleted:
            m.zoom_meeting_id, m.join_url_encrypted, m.passcode_encrypted = None, None, None
            m.zoom_holder_practitioner_id = m.zoom_host_user_id = None
            for link in session.exec(select(JoinLink).where(JoinLink.meeting_id == m.id)):
                session.delete(link)
            if not a.telehealth:
                session.delete(m)
                return
        moved = (a.start_at, a.duration_minutes, a.timezone, _topic(session, a), a.practitioner_id) != (
            work.start_at, work.duration_minutes, work.timezone, work.topic, work.practitioner_id)
        if not deleted and (a.status == AppointmentStatus.CANCELLED or not a.telehealth):
            m.sync_state, m.next_sync_at = SyncState.PENDING_DELETE, now()
        elif deleted and a.telehealth and a.status == AppointmentStatus.BOOKED:
            m.sync_state, m.next_sync_at = SyncState.PENDING_CREATE, now()  # made telehealth again meanwhile
        elif not deleted and moved:
            m.sync_state, m.next_sync_at = SyncState.PENDING_UPDATE, now()
        else:
            m.sync_state, m.next_sync_at, m.sync_attempts, m.last_sync_error = SyncState.SYNCED, None, 0, ""
        m.updated_at = now()


def _left_holder(work: _Work) -> None:
    """The re-assigned meeting is gone from the previous holder's Zoom account: what remains is a
    create in the assignee's account (the client's join link, ours, stays the same)."""
    with unit_of_work() as session:
        m = session.get(Meeting, work.id)
        if m is None or m.zoom_meeting_id != work.zoom_meeting_id:
            return
        m.zoom_meeting_id = m.zoom_host_user_id = m.zoom_holder_practitioner_id = None
        m.join_url_encrypted = m.passcode_encrypted = None
        if m.sync_state == SyncState.PENDING_UPDATE:
            m.sync_state = SyncState.PENDING_CREATE


def _retry_later(work: _Work, error: ZoomError | ZoomNotConnected) -> None:
    with unit_of_work() as session:
        m = session.get(Meeting, work.id)
        if m is None:
            return
        message = _explain(error)
        if isinstance(error, ZoomNotConnected | ZoomRejected) or work.attempts >= MAX_ATTEMPTS:
            # Only a person can fix these: say so on the row and stop retrying.
            m.sync_state, m.next_sync_at = SyncState.NEEDS_ATTENTION, None
            m.last_sync_error = f"{_describe(work.state)} failed: {message}"
            return
        delay = timedelta(seconds=_BACKOFF_SECONDS[min(work.attempts - 1, len(_BACKOFF_SECONDS) - 1)])
        if isinstance(error, ZoomRateLimited) and error.daily:
            tomorrow = (now() + timedelta(days=1)).replace(hour=0, minute=1, second=0, microsecond=0)
            delay = max(delay, tomorrow - now())
            message = "Zoom's daily limit of 100 meeting changes for this user is reached; retrying after 00:00 UTC"
        elif isinstance(error, ZoomRateLimited) and error.retry_after:
            delay = max(delay, timedelta(seconds=error.retry_after))
        m.next_sync_at, m.last_sync_error = now() + delay, f"{_describe(work.state)} is waiting: {message}"


def _explain(error: ZoomError | ZoomNotConnected) -> str:
    """What the practitioner should know (and do) about a failure."""
    if isinstance(error, ZoomNeedsReconnect):
        return "Error refreshing access token: reconnect Zoom on the Meeting tab of your profile"
    if isinstance(error, ZoomNotAllowed):
        return "the practice does not allow Zoom integration"
    if isinstance(error, ZoomNotConnected):
        return "Zoom is not connected: connect it on the Meeting tab of your profile"
    return error.message


def _describe(state: SyncState) -> str:
    return {SyncState.PENDING_CREATE: "Creating the Zoom meeting", SyncState.PENDING_UPDATE: "Updating Zoom",
            SyncState.PENDING_DELETE: "Deleting the Zoom meeting"}.get(state, "Zoom sync")


def _known_zoom_ids(ids: list[int]) -> set[int]:
    with unit_of_work() as session:
        return {z for z in session.exec(select(Meeting.zoom_meeting_id)
                                        .where(col(Meeting.zoom_meeting_id).in_(ids))) if z is not None}


async def _orphan(api: ZoomApi, work: _Work) -> ZoomMeeting | None:
    """A Zoom meeting an earlier attempt created although its answer never arrived."""
    candidates = [z for z in await api.list_meetings("upcoming")
                  if z.topic == work.topic and z.start_time == zoom_time(work.start_at)]
    known = await asyncio.to_thread(_known_zoom_ids, [z.id for z in candidates])
    fresh = [z for z in candidates if z.id not in known]
    return await api.get_meeting(fresh[0].id) if fresh else None


async def _passcode(api: ZoomApi) -> str | None:
    try:
        return passcodes.generate(await api.get_passcode_rules())
    except (ZoomRejected, passcodes.RulesUnsatisfiable):  # let Zoom generate a conforming one
        return None


async def _create(api: ZoomApi, work: _Work) -> ZoomMeeting:
    if work.attempts > 1:
        adopted = await _orphan(api, work)
        if adopted is not None:
            log.info("meeting %s: adopted Zoom meeting created by an earlier attempt", work.id)
            return adopted
    return await api.create_meeting(meeting_payload(work, await _passcode(api)))


async def _delete(api: ZoomApi, work: _Work) -> None:
    zoom_id = work.zoom_meeting_id
    if zoom_id is None and work.attempts > 1:
        orphan = await _orphan(api, work)
        zoom_id = orphan.id if orphan else None
    if zoom_id is None:
        return
    with contextlib.suppress(ZoomMeetingNotFound):  # already gone at Zoom: that is what we wanted
        await api.delete_meeting(zoom_id)


async def _update(api: ZoomApi, zoom_id: int, changed: dict[str, Any]) -> None:
    """PATCH only when Zoom differs: each PATCH counts against Zoom's 100 creates/updates per user
    per day, and a meeting requeued after a reconnect is usually still right at Zoom."""
    current = await api.get_meeting(zoom_id)
    at_zoom = {"topic": current.topic, "start_time": current.start_time, "duration": current.duration,
               "timezone": current.timezone}
    if any(at_zoom.get(key) != value for key, value in changed.items()):
        await api.update_meeting(zoom_id, changed)


async def sync_meeting(meeting_id: int, *, force: bool = False) -> bool:
    """One attempt to bring Zoom in line with the row; True when the row is now in step.
    Errors never escape: they are recorded on the row with the next retry time."""
    work = await asyncio.to_thread(_claim, meeting_id, force)
    if work is None:
        return False
    # Updates and deletes go through the connection of the practitioner whose Zoom account holds
    # the meeting, creates through the assignee's: after a re-assignment these differ.
    try:
        if work.state == SyncState.PENDING_DELETE or work.status == AppointmentStatus.CANCELLED \
                or not work.telehealth:
            await call_zoom(work.holder, lambda api: _delete(api, work))
            await asyncio.to_thread(_finish, work, None, True)
        elif work.zoom_meeting_id is None:
            zoom = await call_zoom(work.practitioner_id, lambda api: _create(api, work))
            await asyncio.to_thread(_finish, work, zoom)
        elif work.moving:
            await call_zoom(work.holder, lambda api: _delete(api, work))
            await asyncio.to_thread(_left_holder, work)
            fresh = dataclasses.replace(work, state=SyncState.PENDING_CREATE, zoom_meeting_id=None, holder_id=None)
            zoom = await call_zoom(work.practitioner_id, lambda api: _create(api, fresh))
            await asyncio.to_thread(_finish, fresh, zoom)
        else:
            zoom_id = work.zoom_meeting_id
            changed = {k: v for k, v in meeting_payload(work, None).items()
                       if k in ("topic", "start_time", "duration", "timezone")}
            await call_zoom(work.holder, lambda api: _update(api, zoom_id, changed))
            await asyncio.to_thread(_finish, work)
        ok = True
    except (ZoomError, ZoomNotConnected) as error:
        log.warning("meeting %s: %s failed: %s", meeting_id, work.state, error)
        await asyncio.to_thread(_retry_later, work, error)
        ok = False
    changes.appointment_changed(work.id, work.practice_id, work.practitioner_id, work.client_id)
    if work.holder != work.practitioner_id:  # the previous holder's list shows the move too
        changes.appointment_changed(work.id, work.practice_id, work.holder, work.client_id)
    return ok


def requeue(appointment: Appointment, meeting: Meeting) -> bool:
    """Hand a meeting row back to the retry job with the Zoom work its appointment needs now
    (create, update or delete), due at once; False when Zoom has nothing left to do for it (it is
    then marked in step)."""
    if appointment.status == AppointmentStatus.CANCELLED or not appointment.telehealth:
        needed = SyncState.PENDING_DELETE if meeting.zoom_meeting_id is not None or meeting.sync_attempts else None
    elif appointment.status != AppointmentStatus.BOOKED:
        needed = None  # started or over: nothing to create or move any more
    else:
        needed = SyncState.PENDING_CREATE if meeting.zoom_meeting_id is None else SyncState.PENDING_UPDATE
    if needed is None:
        meeting.sync_state, meeting.next_sync_at, meeting.sync_attempts = SyncState.SYNCED, None, 0
        meeting.last_sync_error = ""
        return False
    # A fresh run of attempts; but a row tried before keeps one, so that its next create first looks
    # for a Zoom meeting an earlier, unanswered attempt may have made (never two Zoom meetings).
    meeting.sync_attempts = min(meeting.sync_attempts, 1)
    meeting.sync_state, meeting.next_sync_at, meeting.last_sync_error = needed, now(), ""
    return True


def requeue_after_reconnect(session: Session, practitioner_id: int, zoom_user_id: str) -> int:
    """The practitioner's Zoom works again: every meeting left needing attention that this
    connection serves (held in this account, or waiting to be created in it) goes back to the
    retry job. Returns how many. A meeting held in a different Zoom account than the one now
    connected cannot be reached any more, so it is created afresh in this one."""
    rows = session.exec(select(Appointment, Meeting).join(Meeting, col(Meeting.id) == Appointment.id).where(
        Meeting.sync_state == SyncState.NEEDS_ATTENTION,
        or_(col(Meeting.zoom_holder_practitioner_id) == practitioner_id,
            col(Appointment.practitioner_id) == practitioner_id))).all()
    requeued = 0
    for appointment, meeting in rows:
        booked = appointment.status == AppointmentStatus.BOOKED
        if booked and appointment.end_at <= now():
            continue  # its time has passed: a person decides (cancel it)
        if (meeting.zoom_holder_practitioner_id == practitioner_id and meeting.zoom_host_user_id
                and meeting.zoom_host_user_id != zoom_user_id and booked):
            meeting.zoom_meeting_id = meeting.zoom_host_user_id = meeting.zoom_holder_practitioner_id = None
            meeting.join_url_encrypted = meeting.passcode_encrypted = None
        requeued += requeue(appointment, meeting)
    return requeued


def _due(limit: int) -> list[int]:
    with unit_of_work() as session:
        return [i for i in session.exec(select(Meeting.id).where(
            col(Meeting.sync_state).in_([SyncState.PENDING_CREATE, SyncState.PENDING_UPDATE,
                                         SyncState.PENDING_DELETE]),
            or_(col(Meeting.next_sync_at).is_(None), col(Meeting.next_sync_at) <= now()))
            .order_by(col(Meeting.next_sync_at)).limit(limit)) if i is not None]


async def sync_due(limit: int = 20) -> int:
    """The retry job: one attempt for each due row; returns how many are now in step."""
    ids = await asyncio.to_thread(_due, limit)
    results = await asyncio.gather(*(sync_meeting(i) for i in ids))
    return sum(results)


__all__ = ["PasscodeRules", "meeting_payload", "requeue", "requeue_after_reconnect", "sync_due", "sync_meeting",
           "zoom_time"]
