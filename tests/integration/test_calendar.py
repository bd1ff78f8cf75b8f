"""The Calendar page's read queries (services.scheduling.calendar) on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from rxapp.db import unit_of_work
from rxapp.models import (
    Appointment,
    AppointmentStatus,
    Client,
    Meeting,
    Practice,
    PractitionerProfile,
    Role,
    SyncState,
    User,
)
from rxapp.services.permissions import NotAllowed
from rxapp.services.scheduling import calendar
from tests.integration.zoom_helpers import principal_of, user_id

NY = "America/New_York"


def _client(name: str = "Alex Rivera") -> int:
    with unit_of_work() as s:
        return s.exec(select(Client).where(Client.full_name == name)).one().id or 0


def _book(practitioner: str, start: datetime, minutes: int = 50, telehealth: bool = False,
          status: AppointmentStatus = AppointmentStatus.BOOKED, client: str = "Alex Rivera") -> int:
    with unit_of_work() as s:
        who = s.exec(select(User).where(User.email == practitioner)).one()
        row = Appointment(practice_id=who.practice_id, practitioner_id=who.id or 0, client_id=_client(client),
                          start_at=start, duration_minutes=minutes, telehealth=telehealth, status=status)
        s.add(row)
        s.flush()
        return row.id or 0


def _ids(view: calendar.WeekView) -> list[int]:
    return [a.id for a in view.appointments]


def test_an_appointment_at_23_30_viewer_time_lands_on_its_local_day(demo: None) -> None:
    desk = principal_of("frontdesk@demo.clinic")
    lee = user_id("dr.lee@demo.clinic")
    # 23:30 on Thursday 3 December in New York is 04:30 on Friday 4 December in UTC.
    late = _book("dr.lee@demo.clinic", datetime(2026, 12, 4, 4, 30, tzinfo=UTC))
    thursday = calendar.week_view(desk, date(2026, 12, 3), 1, [lee], NY)
    friday = calendar.week_view(desk, date(2026, 12, 4), 1, [lee], NY)
    assert _ids(thursday) == [late] and _ids(friday) == []
    # For a viewer in London the same appointment is on Friday at 04:30.
    assert _ids(calendar.week_view(desk, date(2026, 12, 4), 1, [lee], "Europe/London")) == [late]
    week = calendar.week_view(desk, date(2026, 11, 30), 7, [lee], NY)
    assert week.days[0] == date(2026, 11, 30) and len(week.days) == 7 and _ids(week) == [late]


def test_days_follow_daylight_saving_time() -> None:
    start, end = calendar.day_bounds(date(2026, 3, 8), 1, NY)  # clocks go forward: a 23-hour day
    assert (start, end - start) == (datetime(2026, 3, 8, 5, tzinfo=UTC), timedelta(hours=23))
    start, end = calendar.day_bounds(date(2026, 11, 1), 1, NY)  # clocks go back: a 25-hour day
    assert end - start == timedelta(hours=25)


def test_the_week_shows_only_the_chosen_practitioners_of_the_viewers_practice(demo: None) -> None:
    desk = principal_of("frontdesk@demo.clinic")
    lee, patel = user_id("dr.lee@demo.clinic"), user_id("dr.patel@demo.clinic")
    at = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
    mine = _book("dr.lee@demo.clinic", at)
    patels = _book("dr.patel@demo.clinic", at, client="Jo Kim")
    with unit_of_work() as s:
        other = Practice(name="Other practice")
        s.add(other)
        s.flush()
        stranger = User(practice_id=other.id or 0, email="dr@other.clinic", full_name="Dr. Other",
                        role=Role.PRACTITIONER)
        s.add(stranger)
        s.flush()
        s.add(PractitionerProfile(user_id=stranger.id or 0, practice_id=other.id or 0))
        their_client = Client(practice_id=other.id or 0, full_name="Other Client")
        s.add(their_client)
        s.flush()
        s.add(Appointment(practice_id=other.id or 0, practitioner_id=stranger.id or 0,
                          client_id=their_client.id or 0, start_at=at))
        stranger_id = stranger.id or 0
    assert _ids(calendar.week_view(desk, date(2026, 12, 2), 1, [lee], NY)) == [mine]
    both = calendar.week_view(desk, date(2026, 12, 2), 1, [lee, patel, stranger_id], NY)
    assert sorted(_ids(both)) == sorted([mine, patels])
    assert [p.id for p in both.practitioners] == [lee, patel]  # another practice's id is left out
    row = next(a for a in both.appointments if a.id == mine)
    assert (row.client_name, row.duration_minutes, row.telehealth, row.meeting) == ("Alex Rivera", 50, False, "")
    with pytest.raises(LookupError):
        calendar.appointment_detail(desk, next(iter(_other_appointment_ids(stranger_id))))


def _other_appointment_ids(practitioner_id: int) -> list[int]:
    with unit_of_work() as s:
        return [a.id or 0 for a in s.exec(select(Appointment).where(Appointment.practitioner_id == practitioner_id))]


def test_cancelled_appointments_show_only_when_asked(demo: None) -> None:
    desk = principal_of("frontdesk@demo.clinic")
    lee = user_id("dr.lee@demo.clinic")
    kept = _book("dr.lee@demo.clinic", datetime(2026, 12, 2, 14, tzinfo=UTC))
    gone = _book("dr.lee@demo.clinic", datetime(2026, 12, 2, 16, tzinfo=UTC), status=AppointmentStatus.CANCELLED)
    assert _ids(calendar.week_view(desk, date(2026, 12, 2), 1, [lee], NY, include_cancelled=False)) == [kept]
    shown = calendar.week_view(desk, date(2026, 12, 2), 1, [lee], NY, include_cancelled=True)
    assert _ids(shown) == [kept, gone] and shown.appointments[1].status == "cancelled"


def test_telehealth_appointments_say_where_their_zoom_meeting_is_and_who_is_connected(demo: None) -> None:
    desk = principal_of("frontdesk@demo.clinic")
    lee = user_id("dr.lee@demo.clinic")
    _book("dr.lee@demo.clinic", datetime(2026, 12, 2, 14, tzinfo=UTC), telehealth=True)
    synced = _book("dr.lee@demo.clinic", datetime(2026, 12, 2, 16, tzinfo=UTC), telehealth=True)
    with unit_of_work() as s:
        s.add(Meeting(id=synced, sync_state=SyncState.SYNCED))
    view = calendar.week_view(desk, date(2026, 12, 2), 1, [lee], NY)
    assert [a.meeting for a in view.appointments] == [calendar.MeetingState.PENDING, calendar.MeetingState.SCHEDULED]
    assert view.practitioners[0].zoom == calendar.ZoomState.NOT_CONNECTED


def test_only_the_practice_team_reads_the_calendar(demo: None) -> None:
    alex = principal_of("alex@demo.client")
    with pytest.raises(NotAllowed):
        calendar.week_view(alex, date(2026, 12, 2), 7, [user_id("dr.lee@demo.clinic")], NY)
    with pytest.raises(NotAllowed):
        calendar.practitioners(alex)
    lee = principal_of("dr.lee@demo.clinic")  # a practitioner may look at a colleague's calendar too
    assert [p.name for p in calendar.practitioners(lee)] == ["Dr. Dana Lee", "Dr. Priya Patel"]
    with pytest.raises(ValueError):
        calendar.week_view(lee, date(2026, 12, 2), 8, [lee.user_id], NY)


def test_a_practitioner_sees_only_that_a_colleague_is_busy(demo: None) -> None:
    lee, patel = user_id("dr.lee@demo.clinic"), user_id("dr.patel@demo.clinic")
    own = _book("dr.lee@demo.clinic", datetime(2027, 2, 2, 15, 0, tzinfo=UTC))
    theirs = _book("dr.patel@demo.clinic", datetime(2027, 2, 2, 16, 0, tzinfo=UTC), client="Jo Kim")
    seen = {a.id: a for a in calendar.week_view(principal_of("dr.lee@demo.clinic"), date(2027, 2, 1), 7,
                                                [lee, patel], NY).appointments}
    assert (seen[own].client_name, seen[theirs].client_name, seen[theirs].client_id) == ("Alex Rivera", "Busy", 0)
    with pytest.raises(LookupError, match=r"Dr\. Priya Patel's appointment"):
        calendar.appointment_detail(principal_of("dr.lee@demo.clinic"), theirs)
    desk = {a.id: a for a in calendar.week_view(principal_of("frontdesk@demo.clinic"), date(2027, 2, 1), 7,
                                                [lee, patel], NY).appointments}
    assert desk[theirs].client_name == "Jo Kim"
    assert calendar.appointment_detail(principal_of("frontdesk@demo.clinic"), theirs).client_name == "Jo Kim"
