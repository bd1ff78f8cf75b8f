"""What a viewer may do with a meeting, decided once by services/telehealth/meetings/decisions.py (the
action services refuse with it, the Meetings page renders it)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from rxapp.models import AppointmentStatus, Role, SyncState
from rxapp.services.permissions import Principal
from rxapp.services.telehealth.meetings.decisions import (
    LAUNCH_WINDOW,
    DisplayStatus,
    MeetingAction,
    MeetingSnapshot,
    decide,
    display_status,
)

START = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
BEFORE = START - timedelta(days=1)
HOST = Principal(user_id=7, practice_id=1, role=Role.PRACTITIONER, email="lee@x", full_name="Lee")
OWNER = Principal(user_id=1, practice_id=1, role=Role.OWNER, email="owner@x", full_name="Owner")
COLLEAGUE = Principal(user_id=8, practice_id=1, role=Role.PRACTITIONER, email="patel@x", full_name="Patel")
OTHER_PRACTICE_OWNER = Principal(user_id=99, practice_id=2, role=Role.OWNER, email="o@y", full_name="O")
MEETING = MeetingSnapshot(id=5, practice_id=1, practitioner_id=7, status=AppointmentStatus.BOOKED,
                          sync_state=SyncState.SYNCED, has_zoom=True, start_at=START, duration_minutes=50)


def _offered(meeting: MeetingSnapshot, viewer: Principal = HOST, at: datetime = BEFORE) -> set[str]:
    d = decide(meeting, viewer, at)
    return {name for name, allowed in (("start", d.can_start), ("end", d.can_end), ("cancel", d.can_cancel),
                                       ("delete", d.can_delete), ("retry", d.can_retry)) if allowed}


def test_a_cancelled_meeting_whose_zoom_delete_failed_offers_delete_and_retry_not_cancel() -> None:
    stuck = replace(MEETING, status=AppointmentStatus.CANCELLED, sync_state=SyncState.NEEDS_ATTENTION)
    assert _offered(stuck) == {"delete", "retry"}
    assert decide(stuck, HOST, BEFORE).status == DisplayStatus.NEEDS_ATTENTION


def test_a_scheduled_meeting_is_started_or_cancelled_and_ended_only_once_its_start_has_come() -> None:
    assert _offered(MEETING) == {"start", "cancel"}
    assert "not started yet" in decide(MEETING, HOST, BEFORE).refusal(MeetingAction.END)
    assert _offered(MEETING, at=START) == {"start", "end", "cancel"}
    running = replace(MEETING, status=AppointmentStatus.IN_PROGRESS)
    assert _offered(running) == {"start", "end"}  # the host may rejoin; cancelling a running one is ending it


@pytest.mark.parametrize(("status", "offered"), [
    (AppointmentStatus.COMPLETED, {"delete"}),
    (AppointmentStatus.CANCELLED, {"delete"}),
])
def test_finished_meetings_can_only_be_deleted(status: AppointmentStatus, offered: set[str]) -> None:
    assert _offered(replace(MEETING, status=status)) == offered


def test_a_cancelled_meeting_still_being_removed_at_zoom_cannot_be_deleted_yet() -> None:
    removing = replace(MEETING, status=AppointmentStatus.CANCELLED, sync_state=SyncState.PENDING_DELETE)
    assert _offered(removing) == set()
    assert "still being removed" in decide(removing, HOST, BEFORE).refusal(MeetingAction.DELETE)


def test_needs_attention_offers_retry_and_cancel_but_no_start() -> None:
    stuck = replace(MEETING, sync_state=SyncState.NEEDS_ATTENTION)
    assert _offered(stuck) == {"retry", "cancel"}
    assert not decide(stuck, HOST, START).prompt_launch
    assert "Retry" in decide(stuck, HOST, BEFORE).refusal(MeetingAction.START)
    over = START + timedelta(minutes=50)
    assert "over" in decide(stuck, HOST, over).refusal(MeetingAction.RETRY)


def test_a_meeting_not_created_at_zoom_yet_cannot_be_started_or_ended() -> None:
    pending = replace(MEETING, sync_state=SyncState.PENDING_CREATE, has_zoom=False)
    assert _offered(pending, at=START) == {"cancel"}
    assert decide(pending, HOST, START).status == DisplayStatus.PENDING_SYNC


def test_owners_manage_but_only_the_host_starts_and_outsiders_get_nothing() -> None:
    assert _offered(MEETING, OWNER, START) == {"end", "cancel"}
    assert _offered(MEETING, COLLEAGUE, START) == set()
    assert _offered(MEETING, OTHER_PRACTICE_OWNER, START) == set()
    assert decide(MEETING, COLLEAGUE, START).refusal(MeetingAction.CANCEL) == "You are not allowed to do that."


def test_the_host_is_prompted_to_launch_inside_the_one_launch_window() -> None:
    assert not decide(MEETING, HOST, START - LAUNCH_WINDOW - timedelta(seconds=1)).prompt_launch
    assert decide(MEETING, HOST, START - LAUNCH_WINDOW).prompt_launch
    assert decide(MEETING, HOST, START + timedelta(minutes=50)).prompt_launch
    assert not decide(MEETING, HOST, START + timedelta(minutes=51)).prompt_launch
    assert not decide(MEETING, OWNER, START).prompt_launch


def test_display_statuses_are_an_enum_with_labels() -> None:
    assert display_status(AppointmentStatus.CANCELLED, SyncState.PENDING_DELETE) is DisplayStatus.CANCELLED
    assert display_status(AppointmentStatus.BOOKED, SyncState.PENDING_UPDATE) is DisplayStatus.PENDING_SYNC
    assert [s.label for s in DisplayStatus] == ["Scheduled", "Pending sync", "In progress", "Ended", "Cancelled",
                                               "No show", "Needs attention"]


def test_decisions_are_frozen_values() -> None:
    decision = decide(MEETING, HOST, BEFORE)
    with pytest.raises(AttributeError):
        decision.can_delete = True  # type: ignore[misc]
    with pytest.raises(TypeError):
        decision.refusals[MeetingAction.END] = ""  # type: ignore[index]
