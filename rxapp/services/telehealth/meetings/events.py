"""Zoom's meeting events applied to our rows (registered with the webhook processor).

Zoom delivers late, twice and out of order, so each handler compares the event's own time with
what the row already knows: an older event never overwrites a newer state, and applying the
same event twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from rxapp.db import unit_of_work
from rxapp.models import Appointment, AppointmentStatus, Meeting, SyncState, User
from rxapp.services import changes, phrases
from rxapp.services.audit import trail
from rxapp.services.notify.outbox import OutgoingEmail, queue_email
from rxapp.services.telehealth.meeting_list import meeting_search_text
from rxapp.services.telehealth.meetings import attendance
from rxapp.services.telehealth.meetings.actions import notify_client_started
from rxapp.services.telehealth.meetings.schedule import meeting_facts
from rxapp.services.telehealth.zoom import webhooks
from rxapp.services.timezones import format_local


def _event_time(event: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(int(event.get("event_ts") or 0) / 1000, UTC)


Change = Callable[[Session, Appointment, Meeting, dict[str, Any], datetime], bool]


def _apply(event: dict[str, Any], change: Change) -> None:
    obj = (event.get("payload") or {}).get("object") or {}
    try:
        zoom_id = int(obj.get("id"))
    except (TypeError, ValueError):
        return
    with unit_of_work() as session:
        # The first statement holds the meeting's appointment row (PostgreSQL) or the write lock (SQLite)
        # until the commit, so that two events of one meeting delivered at once (a join and its leave) take
        # turns and each sees what the other wrote; read first, both would open a span of their own. It must
        # come before any read (scheduling/booking_lock.py says why). It takes the appointment's row rather
        # than the meeting's: a flush writes an appointment before its meeting, so locks come in one order.
        session.execute(update(Appointment).where(col(Appointment.id).in_(
            select(Meeting.id).where(Meeting.zoom_meeting_id == zoom_id))).values(updated_at=Appointment.updated_at))
        found = session.exec(select(Appointment, Meeting).join(Meeting, col(Meeting.id) == Appointment.id)
                             .where(Meeting.zoom_meeting_id == zoom_id)).first()
        if found is None:
            return
        a, m = found
        if not change(session, a, m, obj, _event_time(event)):
            return
        m.updated_at = max(m.updated_at, _event_time(event))
        trail.record(session, practice_id=a.practice_id, actor_user_id=None,
                     action=f"zoom.{event.get('event')}", subject_type="meeting", subject_id=m.id)
    changes.appointment_changed(a.id or 0, a.practice_id, a.practitioner_id, a.client_id)


def _started(session: Session, a: Appointment, m: Meeting, obj: dict[str, Any], at: datetime) -> bool:
    at = attendance.parse_time(obj.get("start_time")) or at
    if a.status == AppointmentStatus.BOOKED:
        a.status, m.started_at = AppointmentStatus.IN_PROGRESS, at
        notify_client_started(session, a)
        return True
    if a.status == AppointmentStatus.COMPLETED and m.ended_at is not None and at > m.ended_at:
        a.status, m.started_at, m.ended_at = AppointmentStatus.IN_PROGRESS, at, None  # started again later
        return True
    if a.status == AppointmentStatus.IN_PROGRESS and (m.started_at is None or at < m.started_at):
        m.started_at = at  # Zoom's time is the true start; ours was the click
        return True
    return False


def _ended(session: Session, a: Appointment, m: Meeting, obj: dict[str, Any], at: datetime) -> bool:
    at = attendance.parse_time(obj.get("end_time")) or at
    if a.status in (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW):
        return False
    if a.status == AppointmentStatus.IN_PROGRESS and m.started_at is not None and at < m.started_at:
        return False  # the end of an earlier run, arriving after a newer start
    if a.status == AppointmentStatus.COMPLETED and m.ended_at is not None and m.ended_at >= at:
        return False
    a.status, m.ended_at = AppointmentStatus.COMPLETED, at
    m.zoom_waiting_room_at = None
    return True


def _deleted(session: Session, a: Appointment, m: Meeting, obj: dict[str, Any], at: datetime) -> bool:
    moving = m.zoom_holder_practitioner_id not in (None, a.practitioner_id)  # re-assigned: we delete it
    if a.status == AppointmentStatus.CANCELLED or m.sync_state == SyncState.PENDING_DELETE or moving \
            or not a.telehealth:
        return False  # we deleted it ourselves
    was_live = AppointmentStatus(a.status).is_live
    m.zoom_meeting_id, m.join_url_encrypted, m.passcode_encrypted = None, None, None
    m.sync_state, m.next_sync_at, m.last_sync_error = SyncState.SYNCED, None, ""
    if not was_live:
        return True
    a.status, a.cancel_reason = AppointmentStatus.CANCELLED, "The Zoom meeting was deleted in Zoom."
    practitioner = session.get(User, a.practitioner_id)
    if practitioner is not None:
        facts = meeting_facts(session, a)
        when = format_local(a.start_at, a.timezone)
        queue_email(session, practice_id=a.practice_id, key=f"zoom-deleted:{a.id}",
                    email=OutgoingEmail(
                        to=practitioner.email, subject=f"Zoom meeting deleted: {facts.title}",
                        text=(f"Hello {practitioner.full_name},\n\nThe Zoom meeting for “{facts.title}” with "
                              f"{facts.client_name} on {when} was deleted in Zoom, so the session is now marked "
                              f"cancelled. {facts.client_name} has not been told; schedule a new meeting or "
                              "contact them.\n")))
    return True


def _updated(session: Session, a: Appointment, m: Meeting, obj: dict[str, Any], at: datetime) -> bool:
    if at <= m.updated_at or at <= a.updated_at or m.sync_state != SyncState.SYNCED:
        return False  # our own newer change wins (it is being sent to Zoom, or was already)
    changed = False
    start = attendance.parse_time(obj.get("start_time"))
    if start is not None and start != a.start_at:
        a.start_at, changed = start, True
    if obj.get("duration") and int(obj["duration"]) != a.duration_minutes:
        a.duration_minutes, changed = int(obj["duration"]), True
    if obj.get("timezone") and obj["timezone"] != a.timezone:
        a.timezone, changed = str(obj["timezone"]), True
    facts = meeting_facts(session, a)
    topic = str(obj.get("topic") or "")[:phrases.TOPIC_LIMIT]
    if topic and topic != phrases.zoom_topic(a.topic, facts.practitioner_name):
        # Renamed in Zoom: that is now the visit's own topic (our derived one stays derived).
        a.topic, changed = topic, True
        a.search_text = meeting_search_text(a.topic, a.notes, facts.client_name)
    return changed


def _is_host(obj: dict[str, Any]) -> bool:
    return (obj.get("participant") or {}).get("role") == attendance.HOST


def _waiting(session: Session, a: Appointment, m: Meeting, obj: dict[str, Any], at: datetime) -> bool:
    changed = attendance.record(session, a, obj, attendance.WAITING, True, at)
    if AppointmentStatus(a.status).is_live and not _is_host(obj) and m.zoom_waiting_room_at != at:
        m.zoom_waiting_room_at, changed = at, True
    return changed


def _left_waiting(session: Session, a: Appointment, m: Meeting, obj: dict[str, Any], at: datetime) -> bool:
    changed = attendance.record(session, a, obj, attendance.WAITING, False, at)
    if m.zoom_waiting_room_at is not None and not _is_host(obj) and m.zoom_waiting_room_at <= at:
        m.zoom_waiting_room_at, changed = None, True
    return changed


def _joined(session: Session, a: Appointment, m: Meeting, obj: dict[str, Any], at: datetime) -> bool:
    changed = attendance.record(session, a, obj, attendance.MEETING, True, at)
    if m.zoom_waiting_room_at is not None and not _is_host(obj):
        m.zoom_waiting_room_at, changed = None, True
    return changed


def _left(session: Session, a: Appointment, m: Meeting, obj: dict[str, Any], at: datetime) -> bool:
    return attendance.record(session, a, obj, attendance.MEETING, False, at)


for _name, _handler in {
    "meeting.started": _started, "meeting.ended": _ended, "meeting.deleted": _deleted,
    "meeting.updated": _updated, "meeting.participant_joined_waiting_room": _waiting,
    "meeting.participant_left_waiting_room": _left_waiting, "meeting.participant_joined": _joined,
    "meeting.participant_left": _left,
}.items():
    webhooks.HANDLERS[_name] = lambda event, h=_handler: _apply(event, h)
