"""What a practitioner does to a meeting in the list: start, end, cancel, delete.

Only the host starts a meeting (the start link logs in as the host); the host or an
owner/manager of the same practice may end, cancel or delete it. Anyone else, whatever id
they send, gets `NotAllowed`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete as sql_delete
from sqlmodel import Session, col, select

from rxapp.db import unit_of_work
from rxapp.models import JoinLink, Meeting, MeetingStatus, Notification, NotificationStatus, Practice, SyncState
from rxapp.services import audit, changes
from rxapp.services.clock import now
from rxapp.services.meetings import emails
from rxapp.services.meetings.schedule import meeting_facts
from rxapp.services.meetings.sync import sync_meeting
from rxapp.services.notifications import queue_email
from rxapp.services.permissions import Action, NotAllowed, Principal, can, require
from rxapp.services.zoom.errors import ZoomError, ZoomMeetingNotFound, ZoomNotConnected
from rxapp.services.zoom.tokens import call_zoom

REASON_MAX = 500


class MeetingActionRefused(Exception):
    """The action does not fit the meeting's state; the message says why."""


@dataclass(frozen=True)
class ActionResult:
    message: str
    warning: bool = False


def _meeting(session: Session, principal: Principal, meeting_id: int, *, host_only: bool = False) -> Meeting:
    require(principal, Action.HOST_MEETINGS)
    meeting = session.get(Meeting, meeting_id)
    if meeting is None or meeting.practice_id != principal.practice_id:
        raise NotAllowed("no such meeting")
    is_host = meeting.practitioner_id == principal.user_id
    if not is_host and (host_only or not can(principal, Action.VIEW_PRACTICE_MEETINGS)):
        raise NotAllowed("not your meeting")
    return meeting


def _changed(meeting: Meeting) -> None:
    changes.meeting_changed(meeting.id or 0, meeting.practitioner_id, meeting.client_id)


async def start_url(principal: Principal, meeting_id: int) -> str:
    """A fresh start link for the host (Zoom's expire after ~2 hours; never stored), and the
    meeting marked as started so the client's waiting room shows Join at once."""
    with unit_of_work() as session:
        meeting = _meeting(session, principal, meeting_id, host_only=True)
        if meeting.status in (MeetingStatus.CANCELLED, MeetingStatus.ENDED):
            raise MeetingActionRefused(f"This meeting is {meeting.status.replace('_', ' ')}.")
        if meeting.zoom_meeting_id is None:
            raise MeetingActionRefused("The Zoom meeting is not created yet (pending sync). Try again shortly.")
        zoom_id, practitioner_id = meeting.zoom_meeting_id, meeting.practitioner_id
    # Announce first: the waiting room turns to Join while Zoom is asked for the start link.
    fetch = asyncio.ensure_future(call_zoom(practitioner_id, lambda api: api.get_meeting(zoom_id)))
    started_at = await asyncio.to_thread(_mark_started, meeting_id, principal.user_id)
    try:
        zoom = await fetch
    except BaseException:
        if started_at is not None:  # nobody reached Zoom: the client waits again
            await asyncio.to_thread(_undo_start, meeting_id, started_at)
        raise
    return zoom.start_url


def _mark_started(meeting_id: int, actor: int) -> datetime | None:
    """Mark the meeting in progress and tell its watchers; the start time when this call started it."""
    started_at = None
    with unit_of_work() as session:
        meeting = session.get(Meeting, meeting_id)
        if meeting is None:
            return None
        if meeting.status == MeetingStatus.SCHEDULED:
            started_at = now()
            meeting.status, meeting.started_at, meeting.updated_at = MeetingStatus.IN_PROGRESS, started_at, started_at
            notify_client_started(session, meeting)
        audit.record(session, practice_id=meeting.practice_id, actor_user_id=actor, action="meeting.started",
                     subject_type="meeting", subject_id=meeting_id)
    _changed(meeting)
    return started_at


def _undo_start(meeting_id: int, started_at: datetime) -> None:
    """The start link could not be fetched: back to scheduled, unless Zoom reported a start meanwhile,
    and the "provider started" email is withdrawn while still unsent."""
    with unit_of_work() as session:
        meeting = session.get(Meeting, meeting_id)
        if meeting is None or meeting.status != MeetingStatus.IN_PROGRESS or meeting.started_at != started_at:
            return
        meeting.status, meeting.started_at, meeting.updated_at = MeetingStatus.SCHEDULED, None, now()
        session.execute(sql_delete(Notification).where(
            col(Notification.idempotency_key) == f"meeting-started:{meeting_id}",
            col(Notification.status) == NotificationStatus.PENDING))
        audit.record(session, practice_id=meeting.practice_id, actor_user_id=None, action="meeting.start_failed",
                     subject_type="meeting", subject_id=meeting_id)
    _changed(meeting)


def notify_client_started(session: Session, meeting: Meeting) -> None:
    """Email the client that the provider started, when the practice wants that (once per meeting)."""
    practice = session.get(Practice, meeting.practice_id)
    facts = meeting_facts(session, meeting)
    if practice is not None and practice.notify_client_when_started and facts.client_email:
        queue_email(session, practice_id=meeting.practice_id, key=f"meeting-started:{meeting.id}",
                    email=emails.provider_started(facts))


async def end(principal: Principal, meeting_id: int) -> ActionResult:
    """Mark the meeting ended, and end it at Zoom when it is running there."""
    with unit_of_work() as session:
        meeting = _meeting(session, principal, meeting_id)
        if meeting.status not in (MeetingStatus.SCHEDULED, MeetingStatus.IN_PROGRESS):
            raise MeetingActionRefused(f"This meeting is already {meeting.status.replace('_', ' ')}.")
        zoom_id, practitioner_id, running = meeting.zoom_meeting_id, meeting.practitioner_id, \
            meeting.status == MeetingStatus.IN_PROGRESS
    warning = ""
    if zoom_id is not None and running:
        try:
            await call_zoom(practitioner_id, lambda api: api.end_meeting(zoom_id))
        except ZoomMeetingNotFound:
            warning = ""
        except (ZoomError, ZoomNotConnected) as exc:
            warning = f" Zoom could not end the running meeting ({getattr(exc, 'message', exc)}): end it in Zoom."
    with unit_of_work() as session:
        meeting = _meeting(session, principal, meeting_id)
        if meeting.status in (MeetingStatus.SCHEDULED, MeetingStatus.IN_PROGRESS):
            meeting.status, meeting.ended_at, meeting.updated_at = MeetingStatus.ENDED, now(), now()
        for link in session.exec(select(JoinLink).where(JoinLink.meeting_id == meeting_id)):
            link.used_at = link.used_at or now()
        audit.record(session, practice_id=meeting.practice_id, actor_user_id=principal.user_id,
                     action="meeting.ended", subject_type="meeting", subject_id=meeting_id)
    _changed(meeting)
    return ActionResult(f"Meeting ended.{warning}", warning=bool(warning))


async def cancel(principal: Principal, meeting_id: int, reason: str) -> ActionResult:
    """Cancel with a reason the patient receives; the Zoom meeting is deleted (now, or by the
    retry job if Zoom cannot be reached)."""
    reason = reason.strip()
    if not reason:
        raise MeetingActionRefused("Enter the reason; it is sent to the patient.")
    if len(reason) > REASON_MAX:
        raise MeetingActionRefused(f"Use at most {REASON_MAX} characters for the reason.")
    with unit_of_work() as session:
        meeting = _meeting(session, principal, meeting_id)
        if meeting.status == MeetingStatus.IN_PROGRESS:
            raise MeetingActionRefused("The meeting is in progress: end it instead.")
        if meeting.status != MeetingStatus.SCHEDULED:
            raise MeetingActionRefused(f"This meeting is already {meeting.status.replace('_', ' ')}.")
        meeting.status, meeting.cancel_reason, meeting.updated_at = MeetingStatus.CANCELLED, reason, now()
        has_zoom_work = meeting.zoom_meeting_id is not None or meeting.sync_attempts > 0
        meeting.sync_state = SyncState.PENDING_DELETE if has_zoom_work else SyncState.SYNCED
        meeting.next_sync_at = now() if has_zoom_work else None
        facts = meeting_facts(session, meeting)
        if facts.client_email:
            queue_email(session, practice_id=meeting.practice_id, key=f"meeting-cancelled:{meeting.id}",
                        email=emails.cancelled(facts, reason))
        audit.record(session, practice_id=meeting.practice_id, actor_user_id=principal.user_id,
                     action="meeting.cancelled", subject_type="meeting", subject_id=meeting_id)
    _changed(meeting)
    if not has_zoom_work or await sync_meeting(meeting_id, force=True):
        return ActionResult("Meeting cancelled; the patient was emailed the reason.")
    return ActionResult("Meeting cancelled and the patient emailed. Zoom could not be reached, so the Zoom "
                        "meeting will be deleted automatically when it can.", warning=True)


def delete(principal: Principal, meeting_id: int) -> ActionResult:
    """Remove a cancelled or ended meeting from the list (an audit entry remains)."""
    with unit_of_work() as session:
        meeting = _meeting(session, principal, meeting_id)
        if meeting.status not in (MeetingStatus.CANCELLED, MeetingStatus.ENDED):
            raise MeetingActionRefused("Only cancelled or ended meetings can be deleted.")
        if meeting.sync_state == SyncState.PENDING_DELETE:
            raise MeetingActionRefused("The Zoom meeting is still being removed; try again in a moment.")
        for link in session.exec(select(JoinLink).where(JoinLink.meeting_id == meeting_id)):
            session.delete(link)
        audit.record(session, practice_id=meeting.practice_id, actor_user_id=principal.user_id,
                     action="meeting.deleted", subject_type="meeting", subject_id=meeting_id, topic=meeting.topic,
                     start_at=meeting.start_at.isoformat(), status=meeting.status)
        session.delete(meeting)
    _changed(meeting)
    return ActionResult("Meeting deleted.")
