"""What a viewer may do with a meeting, decided once.

The action services refuse with these decisions and the Meetings page shows the buttons they
allow, so the page and the server cannot disagree (STYLE.md: decisions are values). The inputs
are the meeting's lifecycle status, its Zoom sync state, its times and who is looking.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from sqlmodel import col, select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import Appointment, AppointmentStatus, Meeting, SyncState
from rxapp.services.permissions import Action, Principal, can

# From this long before the start both sides are prompted to launch, and the client may join.
LAUNCH_WINDOW = timedelta(minutes=15)


class DisplayStatus(StrEnum):
    """The one status a meeting shows (and is filtered by) on the Meetings page."""

    SCHEDULED = "scheduled"
    PENDING_SYNC = "pending_sync"
    IN_PROGRESS = "in_progress"
    ENDED = "ended"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"
    NEEDS_ATTENTION = "needs_attention"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


def display_status(status: str, sync_state: str) -> DisplayStatus:
    """The status shown for a meeting's lifecycle status and Zoom sync state: a Zoom problem a
    person must fix shows first, then a cancellation, then a pending Zoom change."""
    if sync_state == SyncState.NEEDS_ATTENTION:
        return DisplayStatus.NEEDS_ATTENTION
    if status == AppointmentStatus.CANCELLED:
        return DisplayStatus.CANCELLED
    if sync_state in (SyncState.PENDING_CREATE, SyncState.PENDING_UPDATE):
        return DisplayStatus.PENDING_SYNC
    return _SHOWN[AppointmentStatus(status)]


_SHOWN = {AppointmentStatus.BOOKED: DisplayStatus.SCHEDULED, AppointmentStatus.IN_PROGRESS: DisplayStatus.IN_PROGRESS,
          AppointmentStatus.COMPLETED: DisplayStatus.ENDED, AppointmentStatus.CANCELLED: DisplayStatus.CANCELLED,
          AppointmentStatus.NO_SHOW: DisplayStatus.NO_SHOW}


class MeetingAction(StrEnum):
    START = "start"
    END = "end"
    CANCEL = "cancel"
    DELETE = "delete"
    RETRY = "retry"


@dataclass(frozen=True)
class MeetingSnapshot:
    """The facts about a meeting that the decisions depend on."""

    id: int
    practice_id: int
    practitioner_id: int
    status: AppointmentStatus
    sync_state: SyncState
    has_zoom: bool
    start_at: datetime  # aware UTC
    duration_minutes: int
    late_minutes: int = 0  # the host said they are running late: the launch window follows

    @classmethod
    def of(cls, appointment: Appointment, meeting: Meeting) -> MeetingSnapshot:
        return cls(id=meeting.id, practice_id=appointment.practice_id, practitioner_id=appointment.practitioner_id,
                   status=AppointmentStatus(appointment.status), sync_state=SyncState(meeting.sync_state),
                   has_zoom=meeting.zoom_meeting_id is not None, start_at=appointment.start_at,
                   duration_minutes=appointment.duration_minutes, late_minutes=meeting.late_minutes)

    @property
    def end_at(self) -> datetime:
        return self.start_at + timedelta(minutes=self.duration_minutes)

    @property
    def expected_start(self) -> datetime:
        return self.start_at + timedelta(minutes=self.late_minutes)


@dataclass(frozen=True)
class MeetingDecisions:
    """Which actions the viewer may take on one meeting now, and why the others are refused."""

    meeting_id: int
    status: DisplayStatus
    can_start: bool
    can_end: bool
    can_cancel: bool
    can_delete: bool
    can_retry: bool
    prompt_launch: bool  # the host may start and the launch window is open: prompt them
    can_run_late: bool = False  # not started yet and not over: the host (or a manager) may say "running late"
    refusals: MappingProxyType[MeetingAction, str] = field(default_factory=lambda: MappingProxyType({}))

    def allows(self, action: MeetingAction) -> bool:
        return action not in self.refusals

    def refusal(self, action: MeetingAction) -> str:
        """Why `action` is refused ('' when it is allowed)."""
        return self.refusals.get(action, "")


def _state_words(meeting: MeetingSnapshot) -> str:
    return display_status(meeting.status, SyncState.SYNCED).label.lower()


def _why_not_start(meeting: MeetingSnapshot, is_host: bool) -> str:
    if not is_host:
        return "Only the host starts a meeting."
    if meeting.status not in (AppointmentStatus.BOOKED, AppointmentStatus.IN_PROGRESS):
        return f"This meeting is {_state_words(meeting)}."
    if meeting.sync_state == SyncState.NEEDS_ATTENTION:
        return "Zoom needs attention for this meeting: press Retry (after reconnecting Zoom if asked) first."
    if not meeting.has_zoom or meeting.sync_state == SyncState.PENDING_DELETE:
        return "The Zoom meeting is not created yet (pending sync). Try again shortly."
    return ""


def _why_not_end(meeting: MeetingSnapshot, at: datetime) -> str:
    if meeting.status == AppointmentStatus.IN_PROGRESS:
        return ""
    if meeting.status != AppointmentStatus.BOOKED:
        return f"This meeting is already {_state_words(meeting)}."
    if at < meeting.start_at:
        return "This meeting has not started yet: cancel it instead."
    if not meeting.has_zoom:
        return "This meeting has no Zoom meeting yet: cancel it instead."
    return ""


def _why_not_cancel(meeting: MeetingSnapshot) -> str:
    if meeting.status == AppointmentStatus.IN_PROGRESS:
        return "The meeting is in progress: end it instead."
    if meeting.status != AppointmentStatus.BOOKED:
        return f"This meeting is already {_state_words(meeting)}."
    return ""


def _why_not_delete(meeting: MeetingSnapshot) -> str:
    if meeting.status not in (AppointmentStatus.CANCELLED, AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW):
        return "Only cancelled or ended meetings can be deleted."
    if meeting.sync_state == SyncState.PENDING_DELETE:
        return "The Zoom meeting is still being removed; try again in a moment."
    return ""


def _why_not_retry(meeting: MeetingSnapshot, at: datetime) -> str:
    if meeting.sync_state != SyncState.NEEDS_ATTENTION:
        return "Zoom does not need attention for this meeting."
    if meeting.status == AppointmentStatus.CANCELLED:
        return ""
    if meeting.status != AppointmentStatus.BOOKED:
        return f"This meeting is {_state_words(meeting)}: there is nothing left to do at Zoom."
    if at >= meeting.end_at:
        return "This meeting is over: cancel or delete it instead."
    return ""


def decide(meeting: MeetingSnapshot, viewer: Principal, at: datetime) -> MeetingDecisions:
    """Every decision about `meeting` for `viewer` at the moment `at`.

    The host may do everything; an owner or manager of the same practice everything but start
    (Zoom's start link signs in as the host); anyone else nothing.
    """
    is_host = meeting.practitioner_id == viewer.user_id and meeting.practice_id == viewer.practice_id
    manages = can(viewer, Action.VIEW_PRACTICE_MEETINGS) and meeting.practice_id == viewer.practice_id
    outsider = "You are not allowed to do that."
    acts = is_host or manages
    refusals = {
        MeetingAction.START: _why_not_start(meeting, is_host),
        MeetingAction.END: _why_not_end(meeting, at) if acts else outsider,
        MeetingAction.CANCEL: _why_not_cancel(meeting) if acts else outsider,
        MeetingAction.DELETE: _why_not_delete(meeting) if acts else outsider,
        MeetingAction.RETRY: _why_not_retry(meeting, at) if acts else outsider,
    }
    refused = MappingProxyType({action: why for action, why in refusals.items() if why})
    can_start = MeetingAction.START not in refused
    late = timedelta(minutes=meeting.late_minutes)
    in_window = meeting.expected_start - LAUNCH_WINDOW <= at <= meeting.end_at + late
    return MeetingDecisions(
        can_run_late=acts and meeting.status == AppointmentStatus.BOOKED and at < meeting.end_at + late,
        meeting_id=meeting.id, status=display_status(meeting.status, meeting.sync_state), can_start=can_start,
        can_end=MeetingAction.END not in refused, can_cancel=MeetingAction.CANCEL not in refused,
        can_delete=MeetingAction.DELETE not in refused, can_retry=MeetingAction.RETRY not in refused,
        prompt_launch=can_start and meeting.status == AppointmentStatus.BOOKED and in_window, refusals=refused)


def decisions_for(principal: Principal, meeting_ids: Iterable[int]) -> dict[int, MeetingDecisions]:
    """The decisions for those of `meeting_ids` that belong to the principal's practice (the
    Meetings page asks for the rows it shows)."""
    ids = list(meeting_ids)
    if not ids:
        return {}
    at = now()
    with unit_of_work() as session:
        found = session.exec(
            select(Meeting.id, Appointment.practice_id, Appointment.practitioner_id, Appointment.status,
                   Meeting.sync_state, Meeting.zoom_meeting_id, Appointment.start_at, Appointment.duration_minutes,
                   Meeting.late_minutes)
            .join(Appointment, col(Appointment.id) == Meeting.id)
            .where(col(Meeting.id).in_(ids), Appointment.practice_id == principal.practice_id)).all()
    snapshots = [MeetingSnapshot(id=m_id or 0, practice_id=practice_id, practitioner_id=practitioner_id,
                                 status=AppointmentStatus(status), sync_state=SyncState(sync_state),
                                 has_zoom=zoom_id is not None, start_at=start_at, duration_minutes=duration,
                                 late_minutes=late)
                 for m_id, practice_id, practitioner_id, status, sync_state, zoom_id, start_at, duration, late
                 in found]
    return {s.id: decide(s, principal, at) for s in snapshots}
