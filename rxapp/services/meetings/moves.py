"""Moving a scheduled meeting: a new time (reschedule) or another practitioner (re-assign).

The row changes at once and records who asked (an owner or manager may act for the
practitioner); Zoom follows through `sync.py`. A new time PATCHes the Zoom meeting (same
link). A new practitioner deletes the Zoom meeting in the account that holds it and creates
one in the new practitioner's account; the client's join link (ours) stays the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from rxapp.db import unit_of_work
from rxapp.models import Meeting, MeetingStatus, PractitionerProfile, Role, SyncState, TrustedPractitioner, User
from rxapp.services import audit, changes
from rxapp.services.clock import now
from rxapp.services.meetings import emails, sync
from rxapp.services.meetings.actions import MeetingActionRefused
from rxapp.services.meetings.schedule import (
    MeetingDraft,
    MeetingInvalid,
    meeting_facts,
    overlapping,
    zoom_readiness,
)
from rxapp.services.meetings.schedule import _start_utc as start_utc  # the same date rules as scheduling
from rxapp.services.notifications import queue_email
from rxapp.services.permissions import Action, NotAllowed, Principal, can, require


@dataclass(frozen=True)
class Moved:
    saved: bool  # False when only warned (overlaps not confirmed yet)
    overlaps: list[str]


def _movable(session: Session, principal: Principal, meeting_id: int) -> Meeting:
    require(principal, Action.HOST_MEETINGS)
    meeting = session.get(Meeting, meeting_id)
    if meeting is None or meeting.practice_id != principal.practice_id:
        raise NotAllowed("no such meeting")
    if meeting.practitioner_id != principal.user_id and not can(principal, Action.VIEW_PRACTICE_MEETINGS):
        raise NotAllowed("not your meeting")
    if meeting.status != MeetingStatus.SCHEDULED or meeting.start_at <= now():
        raise MeetingActionRefused("Only a scheduled meeting that has not started yet can be moved.")
    return meeting


def _record_change(session: Session, principal: Principal, meeting: Meeting, action: str, **detail: object) -> None:
    """Who asked, the audit entry, Zoom's follow-up and the client's email, in the caller's transaction."""
    meeting.changed_by_user_id, meeting.updated_at = principal.user_id, now()
    # A row already waiting for the retry job keeps its turn (it may be leased right now: the
    # worker sees the change when it finishes); a synced or stuck one is queued at once.
    if meeting.sync_state in (SyncState.SYNCED, SyncState.NEEDS_ATTENTION):
        sync.requeue(meeting)
    audit.record(session, practice_id=meeting.practice_id, actor_user_id=principal.user_id, action=action,
                 subject_type="meeting", subject_id=meeting.id or 0, **detail)
    facts = meeting_facts(session, meeting)
    if facts.client_email:
        sequence = int(now().timestamp())
        queue_email(session, practice_id=meeting.practice_id, key=f"{action}:{meeting.id}:{sequence}",
                    email=emails.moved(facts, sequence))


def reschedule_meeting(principal: Principal, meeting_id: int, *, date: str, hour: str, timezone: str,
                       duration_minutes: int, overlap_confirmed: bool = False) -> Moved:
    """Give a scheduled meeting a new time; the patient is emailed and Zoom follows (same link).

    Returns only the overlaps (saved False) when the new time overlaps other meetings of the
    practitioner and that is not confirmed yet. Raises `MeetingInvalid`, `MeetingActionRefused`,
    `NotAllowed`."""
    with unit_of_work() as session:
        meeting = _movable(session, principal, meeting_id)
        errors: dict[str, str] = {}
        draft = MeetingDraft(topic=meeting.topic, description=meeting.description, date=date, hour=hour,
                             timezone=timezone, client_id=meeting.client_id, duration_minutes=duration_minutes)
        start = start_utc(draft, errors)
        if not 1 <= duration_minutes <= 1440:
            errors["duration"] = "Choose a length between 1 minute and 24 hours."
        if errors or start is None:
            raise MeetingInvalid(errors or {"form": "Check the form."})
        overlaps = overlapping(session, meeting.practitioner_id, start, duration_minutes, exclude_id=meeting.id)
        if overlaps and not overlap_confirmed:
            return Moved(saved=False, overlaps=overlaps)
        before = meeting.start_at
        meeting.start_at, meeting.duration_minutes, meeting.timezone = start, duration_minutes, timezone
        _record_change(session, principal, meeting, "meeting.rescheduled", start_before=before.isoformat(),
                       start_after=start.isoformat())
        practitioner_id, client_id = meeting.practitioner_id, meeting.client_id
    changes.meeting_changed(meeting_id, practitioner_id, client_id)
    return Moved(saved=True, overlaps=overlaps)


def reassign_meeting(principal: Principal, meeting_id: int, practitioner_id: int, *,
                     overlap_confirmed: bool = False) -> Moved:
    """Hand a scheduled meeting to another practitioner of the practice; the patient is emailed and
    the Zoom meeting moves to the new practitioner's Zoom account.

    The new practitioner must have telehealth and a working Zoom connection, and the patient must
    have chosen them as a trusted professional. Returns only the overlaps (saved False) until they
    are confirmed. Raises `MeetingInvalid`, `MeetingActionRefused`, `NotAllowed`."""
    with unit_of_work() as session:
        meeting = _movable(session, principal, meeting_id)
        if practitioner_id == meeting.practitioner_id:
            raise MeetingActionRefused("The meeting is already with that practitioner.")
        target = session.get(User, practitioner_id)
        profile = session.get(PractitionerProfile, practitioner_id)
        if target is None or profile is None or target.practice_id != principal.practice_id or not target.is_active:
            raise MeetingInvalid({"practitioner": "Choose a practitioner of your practice."})
        trusted = session.exec(select(TrustedPractitioner.id).where(
            TrustedPractitioner.client_id == meeting.client_id,
            TrustedPractitioner.practitioner_id == practitioner_id)).first()
        facts = meeting_facts(session, meeting)
        if not trusted:
            raise MeetingInvalid({"practitioner": f"{facts.client_name} has not chosen {target.full_name} as a "
                                                  "trusted professional."})
        as_target = Principal(practitioner_id, target.practice_id, Role(target.role), target.email, target.full_name)
        readiness = zoom_readiness(session, as_target)
        if readiness is not None:
            raise MeetingInvalid({"zoom": f"{target.full_name} cannot have Zoom meetings now: {readiness}"})
        overlaps = overlapping(session, practitioner_id, meeting.start_at, meeting.duration_minutes,
                               exclude_id=meeting.id)
        if overlaps and not overlap_confirmed:
            return Moved(saved=False, overlaps=overlaps)
        previous, client_id = meeting.practitioner_id, meeting.client_id
        meeting.practitioner_id = practitioner_id
        _record_change(session, principal, meeting, "meeting.reassigned", practitioner_before=previous,
                       practitioner_after=practitioner_id)
    changes.meeting_changed(meeting_id, practitioner_id, client_id)
    changes.meeting_changed(meeting_id, previous, client_id)
    return Moved(saved=True, overlaps=overlaps)
