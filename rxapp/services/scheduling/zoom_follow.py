"""Zoom follows the appointment: after each change, the Zoom work a telehealth appointment needs
is queued on its meeting row (same id) for the sync job, in the caller's transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from sqlmodel import Session, select

from rxapp.clock import now
from rxapp.models import (
    Appointment,
    Meeting,
    Practice,
    PractitionerProfile,
    SyncState,
    User,
    ZoomConnection,
    ZoomConnectionStatus,
)
from rxapp.services.notify.outbox import OutgoingEmail, queue_email
from rxapp.services.telehealth.meetings import sync
from rxapp.services.timezones import format_local


def zoom_problem_for(session: Session, practice_id: int, practitioner_id: int) -> str:
    """Why Zoom meetings cannot be created for this practitioner now ('' when they can)."""
    practice = session.get(Practice, practice_id)
    user = session.get(User, practitioner_id)
    profile = session.get(PractitionerProfile, practitioner_id)
    connection = session.exec(select(ZoomConnection).where(ZoomConnection.practitioner_id == practitioner_id)).first()
    return zoom_problem(allow_zoom=practice is not None and practice.allow_zoom,
                        telehealth_enabled=profile is not None and profile.telehealth_enabled,
                        name=user.full_name if user else "",
                        connection_status=connection.status if connection else None)


def zoom_problem(*, allow_zoom: bool, telehealth_enabled: bool, name: str, connection_status: str | None) -> str:
    """`zoom_problem_for` over values already read (the slot engine reads them in one query)."""
    name = name or "The practitioner"
    if not allow_zoom:
        return "the practice has not allowed Zoom integration (Practice settings)"
    if not telehealth_enabled:
        return f"telehealth is not enabled for {name} (Practice settings)"
    if connection_status is None:
        return f"{name} must connect Zoom on the Meeting tab of their profile"
    if connection_status == ZoomConnectionStatus.NEEDS_RECONNECT:
        return f"{name} must reconnect Zoom on the Meeting tab of their profile"
    return ""


def follow_zoom(session: Session, appointment: Appointment) -> str:
    """Queue the Zoom work the appointment needs after a change, in the caller's transaction;
    returns why its Zoom meeting must wait for a person ('' when the sync job can do it)."""
    meeting = session.get(Meeting, appointment.id)
    if not appointment.telehealth:
        if meeting is None:
            return ""
        if meeting.zoom_meeting_id is None and not meeting.sync_attempts:
            session.delete(meeting)  # nothing at Zoom to remove
        else:
            meeting.sync_state, meeting.next_sync_at, meeting.last_sync_error = SyncState.PENDING_DELETE, now(), ""
        return ""
    problem = zoom_problem_for(session, appointment.practice_id, appointment.practitioner_id)
    if meeting is None:
        meeting = Meeting(id=appointment.id or 0)
        session.add(meeting)
    moving_account = meeting.zoom_meeting_id is not None and meeting.zoom_holder_practitioner_id not in (
        None, appointment.practitioner_id)
    if problem and not moving_account:
        # Nothing the sync job can do until someone fixes it; the practitioner reconnecting (or Retry)
        # hands it back to the job (sync.requeue_after_reconnect).
        meeting.sync_state, meeting.next_sync_at = SyncState.NEEDS_ATTENTION, None
        meeting.last_sync_error = f"Zoom meeting pending: {problem}."
        return problem
    if meeting.sync_state not in (SyncState.PENDING_CREATE, SyncState.PENDING_UPDATE, SyncState.PENDING_DELETE) \
            or meeting.next_sync_at is None:
        sync.requeue(appointment, meeting)
    elif meeting.sync_state == SyncState.PENDING_DELETE and meeting.zoom_meeting_id is None:
        meeting.sync_state = SyncState.PENDING_CREATE  # made telehealth again before the delete ran
    return problem


def tell_practitioner(session: Session, appointment: Appointment, problem: str, actor_id: int) -> None:
    """Booked for someone else while their Zoom cannot take it: they are told what to do."""
    practitioner = session.get(User, appointment.practitioner_id)
    if practitioner is None or practitioner.id == actor_id:
        return
    when = format_local(appointment.start_at, appointment.timezone)
    queue_email(session, practice_id=appointment.practice_id,
                key=f"zoom-pending:{appointment.id}:{appointment.practitioner_id}",
                email=OutgoingEmail(
                    to=practitioner.email, subject="A telehealth appointment is waiting for your Zoom",
                    text=(f"Hello {practitioner.full_name},\n\nA telehealth appointment was booked for you on {when}, "
                          f"but its Zoom meeting cannot be created yet: {problem}.\nThe appointment is saved; the "
                          "Zoom meeting is created as soon as that is fixed.\n")))


async def push_to_zoom(ids: Iterable[int]) -> None:
    """One sync attempt for each appointment's Zoom meeting now (the retry job does the rest)."""
    await asyncio.gather(*(sync.sync_meeting(i) for i in ids))
