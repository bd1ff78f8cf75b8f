"""`Appointment.sync_flag`: the appointment's copy of its meeting's sync state while the meeting is
syncing or needs attention (the Meetings page reads those from an index of their own). It must follow
the meeting through every change, whether or not the session holds the appointment, and be filled in
for meetings that existed before the column (migration 0012b). Every test's database is also checked
at teardown (tests/conftest.py `_assert_sync_flags_agree`)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text, update
from sqlmodel import select

from rxapp import migrate
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


def test_meetings_of_the_old_schema_are_flagged_by_the_migration(database: str) -> None:
    migrate.downgrade(database, "0012a")
    engine = create_engine(database)
    at = datetime(2027, 1, 5, 15, 0)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO practice (id, name, timezone, allow_zoom, standard_reminder_days, "
                          "telehealth_reminder_minutes, telehealth_reminder_includes_link, telehealth_location_name, "
                          "telehealth_location_address, default_pos_code, notify_client_when_started, created_at) "
                          "VALUES (1, 'P', 'UTC', true, 1, 15, false, '', '', '02', true, :at)"), {"at": at})
        conn.execute(text("INSERT INTO \"user\" (id, practice_id, email, full_name, role, is_active, created_at, "
                          "updated_at) VALUES (1, 1, 'lee@x', 'Dr. Lee', 'practitioner', true, :at, :at)"), {"at": at})
        conn.execute(text("INSERT INTO client (id, practice_id, full_name, timezone, created_at) "
                          "VALUES (1, 1, 'Ann', 'UTC', :at)"), {"at": at})
        for n, state in enumerate(SyncState, start=1):
            conn.execute(text("INSERT INTO appointment (id, practice_id, practitioner_id, client_id, start_at, "
                              "duration_minutes, timezone, telehealth, pos_code, status, cancel_reason, topic, notes, "
                              "search_text, created_at, updated_at) VALUES (:id, 1, 1, 1, :at, 50, 'UTC', true, '02', "
                              "'booked', '', '', '', '', :at, :at)"), {"id": n, "at": at})
            conn.execute(text("INSERT INTO meeting (id, sync_state, sync_attempts, last_sync_error, late_minutes, "
                              "late_note, created_at, updated_at) VALUES (:id, :state, 0, '', 0, '', :at, :at)"),
                         {"id": n, "state": state.value, "at": at})
        conn.execute(text("INSERT INTO appointment (id, practice_id, practitioner_id, client_id, start_at, "
                          "duration_minutes, timezone, telehealth, pos_code, status, cancel_reason, topic, notes, "
                          "search_text, created_at, updated_at) VALUES (99, 1, 1, 1, :at, 50, 'UTC', false, '11', "
                          "'booked', '', '', '', '', :at, :at)"), {"at": at})
    migrate.upgrade(database)
    with engine.connect() as conn:
        flags = dict(conn.execute(text("SELECT id, sync_flag FROM appointment")).all())
    engine.dispose()
    states = dict(enumerate(SyncState, start=1))
    assert flags == {**{n: (s.value if s in FLAGGED_SYNC_STATES else None) for n, s in states.items()}, 99: None}
