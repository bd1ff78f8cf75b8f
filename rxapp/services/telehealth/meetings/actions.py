"""What a practitioner does to a meeting in the list: start, end, cancel, delete, retry.

Only the host starts a meeting (the start link logs in as the host); the host or an
owner/manager of the same practice may end, cancel, delete or retry it. Anyone else, whatever
id they send, gets `NotAllowed`. Whether the meeting's state allows the action is decided by
`decisions.decide`, the same decision the Meetings page renders.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete as sql_delete
from sqlalchemy import update
from sqlmodel import Session, col, select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import (
    Appointment,
    AppointmentStatus,
    Attendance,
    JoinLink,
    Meeting,
    Notification,
    NotificationStatus,
    Practice,
    SyncState,
    WaitlistOffer,
)
from rxapp.services import changes
from rxapp.services.audit import trail
from rxapp.services.notify import reminders
from rxapp.services.notify.outbox import queue_email
from rxapp.services.permissions import Action, NotAllowed, Principal, can, require
from rxapp.services.scheduling import waitlist
from rxapp.services.telehealth.meetings import emails
from rxapp.services.telehealth.meetings.decisions import MeetingAction, MeetingSnapshot, decide
from rxapp.services.telehealth.meetings.schedule import meeting_facts
from rxapp.services.telehealth.meetings.sync import sync_meeting
from rxapp.services.telehealth.zoom.errors import ZoomError, ZoomMeetingNotFound, ZoomNotConnected
from rxapp.services.telehealth.zoom.tokens import call_zoom

REASON_MAX = 500


class MeetingActionRefused(Exception):
    """The action does not fit the meeting's state; the message says why."""


@dataclass(frozen=True)
class ActionResult:
    message: str
    warning: bool = False


def meeting_to_act_on(session: Session, principal: Principal, meeting_id: int, *,
             host_only: bool = False) -> tuple[Appointment, Meeting]:
    """The telehealth appointment with this id and its Zoom meeting, when the principal may act on it."""
    require(principal, Action.HOST_MEETINGS)
    appointment, meeting = session.get(Appointment, meeting_id), session.get(Meeting, meeting_id)
    if appointment is None or meeting is None or appointment.practice_id != principal.practice_id:
        raise NotAllowed("no such meeting")
    is_host = appointment.practitioner_id == principal.user_id
    if not is_host and (host_only or not can(principal, Action.VIEW_PRACTICE_MEETINGS)):
        raise NotAllowed("not your meeting")
    return appointment, meeting


def _check(appointment: Appointment, meeting: Meeting, principal: Principal, action: MeetingAction) -> None:
    """Raise `MeetingActionRefused` unless the meeting's state allows `action` now."""
    refusal = decide(MeetingSnapshot.of(appointment, meeting), principal, now()).refusal(action)
    if refusal:
        raise MeetingActionRefused(refusal)


def _changed(appointment: Appointment) -> None:
    changes.appointment_changed(appointment.id or 0, appointment.practice_id, appointment.practitioner_id,
                                appointment.client_id)


async def start_url(principal: Principal, meeting_id: int) -> str:
    """A fresh start link for the host (Zoom's expire after ~2 hours; never stored), and the
    meeting marked as started so the client's waiting room shows Join at once."""
    zoom_id, holder_id = await asyncio.to_thread(_startable, principal, meeting_id)
    # Announce first: the waiting room turns to Join while Zoom is asked for the start link.
    fetch = asyncio.ensure_future(call_zoom(holder_id, lambda api: api.get_meeting(zoom_id)))
    started_at = await asyncio.to_thread(_mark_started, meeting_id, principal.user_id)
    try:
        zoom = await fetch
    except BaseException:
        if started_at is not None:  # nobody reached Zoom: the client waits again
            await asyncio.to_thread(_undo_start, meeting_id, started_at)
        raise
    return zoom.start_url


def _startable(principal: Principal, meeting_id: int) -> tuple[int, int]:
    """(Zoom meeting id, practitioner whose Zoom account holds it) of a meeting the host may start."""
    with unit_of_work() as session:
        appointment, meeting = meeting_to_act_on(session, principal, meeting_id, host_only=True)
        _check(appointment, meeting, principal, MeetingAction.START)
        assert meeting.zoom_meeting_id is not None  # decided: a startable meeting has one
        holder = meeting.zoom_holder_practitioner_id or appointment.practitioner_id
        if holder != appointment.practitioner_id:  # its start link would sign in as the previous practitioner
            raise MeetingActionRefused("The meeting is moving to your Zoom account (pending sync). Try again shortly.")
        return meeting.zoom_meeting_id, holder


def _mark_started(meeting_id: int, actor: int) -> datetime | None:
    """Mark the meeting in progress and tell its watchers; the start time when this call started it."""
    started_at = None
    with unit_of_work() as session:
        appointment, meeting = session.get(Appointment, meeting_id), session.get(Meeting, meeting_id)
        if appointment is None or meeting is None:
            return None
        if appointment.status == AppointmentStatus.BOOKED:
            started_at = now()
            appointment.status, appointment.updated_at = AppointmentStatus.IN_PROGRESS, started_at
            meeting.started_at, meeting.updated_at = started_at, started_at
            notify_client_started(session, appointment)
        trail.record(session, practice_id=appointment.practice_id, actor_user_id=actor, action="meeting.started",
                     subject_type="meeting", subject_id=meeting_id)
    _changed(appointment)
    return started_at


def _undo_start(meeting_id: int, started_at: datetime) -> None:
    """The start link could not be fetched: back to scheduled, unless Zoom reported a start meanwhile,
    and the "provider started" email is withdrawn while still unsent."""
    with unit_of_work() as session:
        appointment, meeting = session.get(Appointment, meeting_id), session.get(Meeting, meeting_id)
        if appointment is None or meeting is None or appointment.status != AppointmentStatus.IN_PROGRESS \
                or meeting.started_at != started_at:
            return
        appointment.status, appointment.updated_at = AppointmentStatus.BOOKED, now()
        meeting.started_at, meeting.updated_at = None, now()
        session.execute(sql_delete(Notification).where(
            col(Notification.idempotency_key) == f"meeting-started:{meeting_id}",
            col(Notification.status) == NotificationStatus.PENDING))
        trail.record(session, practice_id=appointment.practice_id, actor_user_id=None,
                     action="meeting.start_failed", subject_type="meeting", subject_id=meeting_id)
    _changed(appointment)


def notify_client_started(session: Session, appointment: Appointment) -> None:
    """Email the client that the provider started, when the practice wants that (once per meeting)."""
    practice = session.get(Practice, appointment.practice_id)
    facts = meeting_facts(session, appointment)
    if practice is not None and practice.notify_client_when_started and facts.client_email:
        queue_email(session, practice_id=appointment.practice_id, key=f"meeting-started:{appointment.id}",
                    email=emails.provider_started(facts))


async def end(principal: Principal, meeting_id: int) -> ActionResult:
    """Mark the meeting ended (a started one, or one whose start has come), end it at Zoom when
    it is running there, and tell the client."""
    zoom_id, holder_id, running = await asyncio.to_thread(_endable, principal, meeting_id)
    warning = ""
    if zoom_id is not None and running:
        try:
            await call_zoom(holder_id, lambda api: api.end_meeting(zoom_id))
        except ZoomMeetingNotFound:
            warning = ""
        except (ZoomError, ZoomNotConnected) as exc:
            warning = f" Zoom could not end the running meeting ({getattr(exc, 'message', exc)}): end it in Zoom."
    appointment = await asyncio.to_thread(_mark_ended, principal, meeting_id)
    _changed(appointment)
    return ActionResult(f"Meeting ended.{warning}", warning=bool(warning))


def _endable(principal: Principal, meeting_id: int) -> tuple[int | None, int, bool]:
    """(Zoom meeting id, practitioner whose account holds it, running now) of a meeting one may end."""
    with unit_of_work() as session:
        appointment, meeting = meeting_to_act_on(session, principal, meeting_id)
        _check(appointment, meeting, principal, MeetingAction.END)
        holder = meeting.zoom_holder_practitioner_id or appointment.practitioner_id
        return meeting.zoom_meeting_id, holder, appointment.status == AppointmentStatus.IN_PROGRESS


def _mark_ended(principal: Principal, meeting_id: int) -> Appointment:
    """The appointment completed, its join links spent and the client emailed, in one transaction."""
    with unit_of_work() as session:
        appointment, meeting = meeting_to_act_on(session, principal, meeting_id)
        if AppointmentStatus(appointment.status).is_live:
            appointment.status, appointment.updated_at = AppointmentStatus.COMPLETED, now()
            meeting.ended_at, meeting.updated_at = now(), now()
            facts = meeting_facts(session, appointment)
            if facts.client_email:
                queue_email(session, practice_id=appointment.practice_id, key=f"meeting-ended:{meeting_id}",
                            email=emails.ended(facts))
        for link in session.exec(select(JoinLink).where(JoinLink.meeting_id == meeting_id)):
            link.used_at = link.used_at or now()
        trail.record(session, practice_id=appointment.practice_id, actor_user_id=principal.user_id,
                     action="meeting.ended", subject_type="meeting", subject_id=meeting_id)
        return appointment


async def cancel(principal: Principal, meeting_id: int, reason: str) -> ActionResult:
    """Cancel with a reason the patient receives; the Zoom meeting is deleted (now, or by the
    retry job if Zoom cannot be reached)."""
    reason = reason.strip()
    if not reason:
        raise MeetingActionRefused("Enter the reason; it is sent to the patient.")
    if len(reason) > REASON_MAX:
        raise MeetingActionRefused(f"Use at most {REASON_MAX} characters for the reason.")
    appointment, has_zoom_work = await asyncio.to_thread(_mark_cancelled, principal, meeting_id, reason)
    _changed(appointment)
    await asyncio.to_thread(waitlist.slot_freed, appointment.practice_id)  # the time goes to those waiting
    if not has_zoom_work or await sync_meeting(meeting_id, force=True):
        return ActionResult("Meeting cancelled; the patient was emailed the reason.")
    return ActionResult("Meeting cancelled and the patient emailed. Zoom could not be reached, so the Zoom "
                        "meeting will be deleted automatically when it can.", warning=True)


def _mark_cancelled(principal: Principal, meeting_id: int, reason: str) -> tuple[Appointment, bool]:
    """Cancel the appointment and queue the patient's email; returns it and whether Zoom has work to do."""
    with unit_of_work() as session:
        appointment, meeting = meeting_to_act_on(session, principal, meeting_id)
        _check(appointment, meeting, principal, MeetingAction.CANCEL)
        has_zoom_work = cancel_in_session(session, appointment, meeting, reason, principal.user_id)
        trail.record(session, practice_id=appointment.practice_id, actor_user_id=principal.user_id,
                     action="meeting.cancelled", subject_type="meeting", subject_id=meeting_id)
        return appointment, has_zoom_work


def cancel_in_session(session: Session, appointment: Appointment, meeting: Meeting | None, reason: str,
                      actor_id: int | None) -> bool:
    """Mark the appointment cancelled, queue its Zoom meeting's deletion and the client's email, in the
    caller's transaction; True when Zoom has work to do."""
    appointment.status, appointment.cancel_reason = AppointmentStatus.CANCELLED, reason
    appointment.changed_by_user_id, appointment.updated_at = actor_id, now()
    appointment.ics_sequence += 1  # the cancellation's invite replaces the calendar entry
    reminders.plan(session, appointment)
    had_zoom_meeting = meeting is not None and meeting.zoom_meeting_id is not None
    has_zoom_work = meeting is not None and (had_zoom_meeting or meeting.sync_attempts > 0)
    if meeting is not None:
        meeting.sync_state = SyncState.PENDING_DELETE if has_zoom_work else SyncState.SYNCED
        meeting.next_sync_at = now() if has_zoom_work else None
        meeting.last_sync_error = ""
    facts = meeting_facts(session, appointment)
    if facts.client_email:
        queue_email(session, practice_id=appointment.practice_id, key=f"meeting-cancelled:{appointment.id}",
                    email=emails.cancelled(facts, reason, had_zoom_meeting=had_zoom_meeting))
    return has_zoom_work


def delete(principal: Principal, meeting_id: int) -> ActionResult:
    """Remove a cancelled or ended meeting from the list (an audit entry remains). A cancelled
    meeting whose Zoom meeting could not be deleted is removed too, with a warning to delete it
    in Zoom."""
    with unit_of_work() as session:
        appointment, meeting = meeting_to_act_on(session, principal, meeting_id)
        _check(appointment, meeting, principal, MeetingAction.DELETE)
        left_at_zoom = appointment.status == AppointmentStatus.CANCELLED and meeting.zoom_meeting_id is not None
        for link in session.exec(select(JoinLink).where(JoinLink.meeting_id == meeting_id)):
            session.delete(link)
        # Who attended goes with it; a waitlist offer that booked it keeps its record without the link.
        session.execute(sql_delete(Attendance).where(col(Attendance.appointment_id) == meeting_id))
        session.execute(update(WaitlistOffer).where(col(WaitlistOffer.appointment_id) == meeting_id)
                        .values(appointment_id=None))
        trail.record(session, practice_id=appointment.practice_id, actor_user_id=principal.user_id,
                     action="meeting.deleted", subject_type="meeting", subject_id=meeting_id,
                     topic=appointment.topic, start_at=appointment.start_at.isoformat(), status=appointment.status)
        session.delete(meeting)
        session.flush()
        session.delete(appointment)
    _changed(appointment)
    if left_at_zoom:
        return ActionResult("Meeting deleted here. Its Zoom meeting could not be removed: delete it in Zoom.",
                            warning=True)
    return ActionResult("Meeting deleted.")


def _requeue(principal: Principal, meeting_id: int) -> Appointment:
    with unit_of_work() as session:
        appointment, meeting = meeting_to_act_on(session, principal, meeting_id)
        _check(appointment, meeting, principal, MeetingAction.RETRY)
        if appointment.status == AppointmentStatus.CANCELLED:
            meeting.sync_state = SyncState.PENDING_DELETE
        elif meeting.zoom_meeting_id is None:
            meeting.sync_state = SyncState.PENDING_CREATE
        else:  # brings Zoom's copy in line with ours, and proves the connection works again
            meeting.sync_state = SyncState.PENDING_UPDATE
        meeting.next_sync_at, meeting.sync_attempts, meeting.updated_at = now(), 0, now()
        trail.record(session, practice_id=appointment.practice_id, actor_user_id=principal.user_id,
                     action="meeting.sync_retried", subject_type="meeting", subject_id=meeting_id)
    return appointment


def _sync_outcome(meeting_id: int) -> tuple[str, str]:
    with unit_of_work() as session:
        meeting = session.get(Meeting, meeting_id)
        return (meeting.sync_state, meeting.last_sync_error) if meeting else (SyncState.SYNCED, "")


async def retry(principal: Principal, meeting_id: int) -> ActionResult:
    """Try Zoom again, now, for a meeting that needs attention (after the practitioner fixed
    the cause, e.g. reconnected Zoom). Raises `NotAllowed`, `MeetingActionRefused`."""
    appointment = await asyncio.to_thread(_requeue, principal, meeting_id)
    _changed(appointment)
    if await sync_meeting(meeting_id, force=True):
        return ActionResult("Zoom is in step with this meeting again.")
    state, error = await asyncio.to_thread(_sync_outcome, meeting_id)
    if state == SyncState.NEEDS_ATTENTION:
        return ActionResult(f"Zoom still needs attention: {error}.", warning=True)
    return ActionResult("Zoom could not be reached yet; it will be retried automatically.", warning=True)
