"""`Appointment.sync_flag`: the appointment's copy of its meeting's sync state while the meeting is
syncing or needs attention (the Meetings page reads those from an index of their own). It must follow
the meeting through every change, whether or not the session holds the appointment (its back-fill by
migration 0012b: tests/integration/test_migrations.py). Every test's database is also checked at
teardown (tests/conftest.py `_assert_sync_flags_agree`)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import update
from sqlmodel import select

from rxapp.db import unit_of_work
from rxapp.dev.demo_data import load_demo_data
from rxapp.models import Appointment, Client, Meeting, SyncState, User
from rxapp.models.types import FLAGGED_SYNC_STATES
from tests.conftest import _assert_sync_flags_agree
from tests.factories import telehealth_visit

START = datetime(2031, 3, 3, 14, 0, tzinfo=UTC)


def _visit(sync_state: SyncState) -> int:
    with unit_of_work() as s:
        lee = s.exec(select(User).where(User.email == "dr.lee@demo.clinic")).one()
        client = s.exec(select(Client).where(Client.practice_id == lee.practice_id)).first()
        assert client is not None
        visit = telehealth_visit(s, practice_id=lee.practice_id, practitioner_id=lee.id or 0,
                                 client_id=client.id or 0, start_at=START, sync_state=sync_state)
        return visit.id or 0


def _flag(appointment_id: int) -> str | None:
    with unit_of_work() as s:
        appointment = s.get(Appointment, appointment_id)
        assert appointment is not None
        return appointment.sync_flag


@pytest.fixture
def demo(database: str) -> str:
    load_demo_data()
    return database


@pytest.mark.parametrize("state", list(SyncState))
def test_a_new_meeting_flags_its_appointment_only_while_syncing_or_needing_attention(demo: str,
                                                                                    state: SyncState) -> None:
    assert _flag(_visit(state)) == (state.value if state in FLAGGED_SYNC_STATES else None)


def test_the_flag_follows_every_change_whether_or_not_the_session_holds_the_appointment(demo: str) -> None:
    visit = _visit(SyncState.PENDING_CREATE)
    for state in (SyncState.SYNCED, SyncState.NEEDS_ATTENTION, SyncState.PENDING_UPDATE, SyncState.PENDING_DELETE,
                  SyncState.NEEDS_ATTENTION):
        with unit_of_work() as s:  # only the meeting is loaded: the appointment is read in the flush
            meeting = s.get(Meeting, visit)
            assert meeting is not None
            meeting.sync_state = state
        assert _flag(visit) == (state.value if state in FLAGGED_SYNC_STATES else None), state
    with unit_of_work() as s:  # both loaded, the appointment changed too: one flush carries both
        appointment, meeting = s.get(Appointment, visit), s.get(Meeting, visit)
        assert appointment is not None and meeting is not None
        appointment.topic, meeting.sync_state = "Moved", SyncState.PENDING_UPDATE
    assert _flag(visit) == "pending_update"
    with unit_of_work() as s:  # the meeting row goes: nothing is left flagged
        s.delete(s.get(Meeting, visit))
    assert _flag(visit) is None


def test_the_teardown_check_catches_a_change_that_bypassed_the_orm(demo: str) -> None:
    visit = _visit(SyncState.SYNCED)
    with unit_of_work() as s:
        s.execute(update(Meeting).where(Meeting.id == visit).values(sync_state=SyncState.NEEDS_ATTENTION))
    with pytest.raises(AssertionError, match="disagrees"):
        _assert_sync_flags_agree()
    with unit_of_work() as s:  # put right, so this test's own teardown passes
        meeting = s.get(Meeting, visit)
        assert meeting is not None
        meeting.sync_state = SyncState.SYNCED
        s.flush()
        meeting.sync_state = SyncState.NEEDS_ATTENTION

