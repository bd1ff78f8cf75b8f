"""The Meetings page's query: who sees what, status filter, search, patient filter, paging, sorting."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import product
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine
from sqlmodel import select

from benchmarks import bench_meeting_list, seed_meetings
from rxapp.db import unit_of_work
from rxapp.dev.demo_data import load_demo_data
from rxapp.models import AppointmentStatus, Client, Meeting, Practice, Role, SyncState, User
from rxapp.services.permissions import NotAllowed, Principal
from rxapp.services.telehealth.meeting_list import (
    DISPLAY_STATUSES,
    MeetingFilters,
    display_status,
    list_meetings,
    meeting_search_text,
    patients_for_filter,
)
from tests.factories import telehealth_visit

MONDAY = datetime(2031, 3, 3, 14, 0, tzinfo=UTC)
EVERYTHING = MeetingFilters(page_size=100)


def principal(email: str) -> Principal:
    with unit_of_work() as s:
        user = s.exec(select(User).where(User.email == email)).one()
    return Principal(user.id or 0, user.practice_id, Role(user.role), user.email, user.full_name)


def client_id(name: str) -> int:
    with unit_of_work() as s:
        return s.exec(select(Client).where(Client.full_name == name)).one().id or 0


def add_meeting(practitioner_email: str, patient: str, *, topic: str = "Session", description: str = "",
                start_at: datetime = MONDAY, status: AppointmentStatus = AppointmentStatus.BOOKED,
                sync_state: SyncState = SyncState.SYNCED, **extra: object) -> int:
    with unit_of_work() as s:
        practitioner = s.exec(select(User).where(User.email == practitioner_email)).one()
        client = s.exec(select(Client).where(Client.full_name == patient)).one()
        meeting = telehealth_visit(
            s, practice_id=practitioner.practice_id, practitioner_id=practitioner.id or 0, client_id=client.id or 0,
            topic=topic, description=description, start_at=start_at, timezone="America/New_York", status=status,
            sync_state=sync_state, search_text=meeting_search_text(topic, description, client.full_name), **extra)
        return meeting.id or 0


def add_other_practice() -> None:
    """A second practice with a practitioner, a client and a meeting that looks like ours."""
    with unit_of_work() as s:
        practice = Practice(name="Elsewhere Clinic")
        s.add(practice)
        s.flush()
        s.add(User(practice_id=practice.id or 0, email="dr.else@else.clinic", full_name="Dr. Else",
                   role=Role.PRACTITIONER))
        s.add(Client(practice_id=practice.id or 0, full_name="Alex Rivera Elsewhere"))
    add_meeting("dr.else@else.clinic", "Alex Rivera Elsewhere", topic="Initial assessment")


def ids(filters: MeetingFilters = EVERYTHING, who: str = "owner@demo.clinic") -> list[int]:
    return [row.id for row in list_meetings(principal(who), filters).rows]


@pytest.fixture
def demo(database: str) -> str:
    load_demo_data()
    return database


@pytest.mark.parametrize(("status", "sync_state", "expected"), [
    (AppointmentStatus.BOOKED, SyncState.SYNCED, "scheduled"),
    (AppointmentStatus.BOOKED, SyncState.PENDING_CREATE, "pending_sync"),
    (AppointmentStatus.IN_PROGRESS, SyncState.PENDING_UPDATE, "pending_sync"),
    (AppointmentStatus.IN_PROGRESS, SyncState.SYNCED, "in_progress"),
    (AppointmentStatus.COMPLETED, SyncState.PENDING_DELETE, "ended"),
    (AppointmentStatus.CANCELLED, SyncState.PENDING_DELETE, "cancelled"),
    (AppointmentStatus.CANCELLED, SyncState.PENDING_UPDATE, "cancelled"),
    (AppointmentStatus.CANCELLED, SyncState.NEEDS_ATTENTION, "needs_attention"),
    (AppointmentStatus.COMPLETED, SyncState.NEEDS_ATTENTION, "needs_attention"),
])
def test_display_status_follows_the_documented_precedence(status: AppointmentStatus, sync_state: SyncState,
                                                          expected: str) -> None:
    assert display_status(status, sync_state) == expected


def test_each_status_filter_finds_exactly_the_meetings_whose_rows_show_that_status(demo: str) -> None:
    made = {add_meeting("dr.lee@demo.clinic", "Alex Rivera", status=status, sync_state=sync,
                        start_at=MONDAY + timedelta(hours=n)): display_status(status, sync)
            for n, (status, sync) in enumerate(product(AppointmentStatus, SyncState))}
    shown = {row.id: row.status for row in list_meetings(principal("owner@demo.clinic"), EVERYTHING).rows}
    assert shown == made
    for key in DISPLAY_STATUSES:
        filtered = list_meetings(principal("owner@demo.clinic"), MeetingFilters(status=key, page_size=100))
        assert {row.id for row in filtered.rows} == {m for m, status in made.items() if status == key}, key
        assert {row.status for row in filtered.rows} <= {key}
        assert not filtered.has_next


def test_an_unknown_status_filter_is_refused(demo: str) -> None:
    with pytest.raises(ValueError, match="unknown meeting status"):
        list_meetings(principal("owner@demo.clinic"), MeetingFilters(status="lost"))


def test_search_finds_topic_description_and_patient_name_whatever_the_case(demo: str) -> None:
    by_topic = add_meeting("dr.lee@demo.clinic", "Alex Rivera", topic="Anxiety Follow-up")
    by_description = add_meeting("dr.lee@demo.clinic", "Alex Rivera", description="Review the SLEEP diary")
    by_patient = add_meeting("dr.patel@demo.clinic", "Jo Kim", topic="Speech therapy")
    percent = add_meeting("dr.lee@demo.clinic", "Sam Taylor", topic="Done 100% of homework")
    slash = add_meeting("dr.lee@demo.clinic", "Sam Taylor", topic="Session 1/2")

    def found(text: str) -> set[int]:
        return set(ids(MeetingFilters(search=text, page_size=100)))

    assert found("anxiety") == {by_topic}
    assert found("FOLLOW-UP") == {by_topic}
    assert found("Sleep Diary") == {by_description}
    assert found("jo kim") == {by_patient}
    assert found("  KIM  speech ") == {by_patient}  # every word, in any order
    assert found("rivera review") == {by_description}
    assert found("100%") == {percent}  # LIKE wildcards are taken literally
    assert found("_") == set()
    assert found("1/2") == {slash}  # and so is the escape character
    assert found("") == found("   ") == {by_topic, by_description, by_patient, percent, slash}


def test_patient_filter_and_its_choices(demo: str) -> None:
    alex = [add_meeting("dr.lee@demo.clinic", "Alex Rivera", start_at=MONDAY + timedelta(days=d)) for d in range(3)]
    add_meeting("dr.lee@demo.clinic", "Sam Taylor")
    add_meeting("dr.patel@demo.clinic", "Jo Kim")
    assert ids(MeetingFilters(client_id=client_id("Alex Rivera"))) == alex
    owner = principal("owner@demo.clinic")
    assert [name for _, name in patients_for_filter(owner, None)] == ["Alex Rivera", "Jo Kim", "Sam Taylor"]
    patel_id = principal("dr.patel@demo.clinic").user_id
    assert patients_for_filter(owner, patel_id) == [(client_id("Jo Kim"), "Jo Kim")]
    assert [name for _, name in patients_for_filter(principal("dr.lee@demo.clinic"), patel_id)] == [
        "Alex Rivera", "Sam Taylor"]


def test_pages_go_next_and_previous_by_keyset_without_counting(demo: str) -> None:
    made = [add_meeting("dr.lee@demo.clinic", "Alex Rivera", start_at=MONDAY + timedelta(hours=n)) for n in range(45)]
    owner = principal("owner@demo.clinic")
    first = list_meetings(owner, MeetingFilters())
    assert ([r.id for r in first.rows], first.has_previous, first.has_next, first.page_size) == (
        made[:20], False, True, 20)
    assert first.previous_cursor == "" and first.next_cursor
    second = list_meetings(owner, MeetingFilters(after=first.next_cursor))
    assert ([r.id for r in second.rows], second.has_previous, second.has_next) == (made[20:40], True, True)
    last = list_meetings(owner, MeetingFilters(after=second.next_cursor))
    assert ([r.id for r in last.rows], last.has_previous, last.has_next, last.next_cursor) == (
        made[40:], True, False, "")
    back = list_meetings(owner, MeetingFilters(before=last.previous_cursor))
    assert ([r.id for r in back.rows], back.has_previous, back.has_next) == (made[20:40], True, True)
    assert [r.id for r in list_meetings(owner, MeetingFilters(before=back.previous_cursor)).rows] == made[:20]
    exact = list_meetings(owner, MeetingFilters(page_size=15, after=list_meetings(
        owner, MeetingFilters(page_size=15, after=list_meetings(owner, MeetingFilters(page_size=15)).next_cursor)
    ).next_cursor))
    assert ([r.id for r in exact.rows], exact.has_next) == (made[30:], False)
    assert list_meetings(owner, MeetingFilters(page_size=0)).page_size == 1
    assert list_meetings(owner, MeetingFilters(page_size=1000)).page_size == 100
    none = list_meetings(owner, MeetingFilters(search="nothing like this"))
    assert (none.rows, none.has_previous, none.has_next) == ([], False, False)


def test_a_page_past_the_end_gives_the_last_page_and_a_foreign_cursor_the_first(demo: str) -> None:
    made = [add_meeting("dr.lee@demo.clinic", "Alex Rivera", start_at=MONDAY + timedelta(hours=n)) for n in range(25)]
    owner = principal("owner@demo.clinic")
    cursor = list_meetings(owner, MeetingFilters()).next_cursor
    with unit_of_work() as s:  # the rest of the list is deleted meanwhile
        for meeting_id in made[20:]:
            s.delete(s.get(Meeting, meeting_id))
    beyond = list_meetings(owner, MeetingFilters(after=cursor))
    assert ([r.id for r in beyond.rows], beyond.has_previous, beyond.has_next) == (made[:20], False, False)
    for junk in ("x", "12-", "-3", "1-2-3", "9" * 30 + "-1", "' OR 1=1 --"):
        assert [r.id for r in list_meetings(owner, MeetingFilters(after=junk, before=junk)).rows] == made[:20]


def test_keyset_paging_keeps_ties_and_the_newest_first_order(demo: str) -> None:
    # Several meetings at the same minute: the id breaks the tie, so none is skipped or repeated.
    made = [add_meeting("dr.lee@demo.clinic", "Alex Rivera", start_at=MONDAY + timedelta(hours=n // 3))
            for n in range(12)]
    owner = principal("owner@demo.clinic")
    for newest, expected in ((False, made), (True, made[::-1])):
        seen, cursor = [], ""
        while True:
            page = list_meetings(owner, MeetingFilters(page_size=5, after=cursor, newest_first=newest))
            seen += [r.id for r in page.rows]
            if not page.has_next:
                break
            cursor = page.next_cursor
        assert seen == expected
        back = list_meetings(owner, MeetingFilters(page_size=5, before=page.previous_cursor, newest_first=newest))
        assert [r.id for r in back.rows] == expected[5:10]


def test_oldest_first_by_default_newest_first_on_request_ties_broken_by_id(demo: str) -> None:
    later = add_meeting("dr.lee@demo.clinic", "Alex Rivera", start_at=MONDAY + timedelta(days=1))
    tie_a = add_meeting("dr.patel@demo.clinic", "Jo Kim", start_at=MONDAY)
    tie_b = add_meeting("dr.lee@demo.clinic", "Sam Taylor", start_at=MONDAY)
    earlier = add_meeting("dr.lee@demo.clinic", "Sam Taylor", start_at=MONDAY - timedelta(minutes=30))
    assert ids() == [earlier, tie_a, tie_b, later]
    assert ids(MeetingFilters(newest_first=True)) == [later, tie_b, tie_a, earlier]


def test_rows_carry_aware_utc_times_names_and_sync_details(demo: str) -> None:
    add_meeting("dr.patel@demo.clinic", "Jo Kim", topic="Speech therapy", description="Bring the workbook",
                start_at=datetime(2031, 3, 3, 9, 0, tzinfo=ZoneInfo("America/New_York")),
                status=AppointmentStatus.CANCELLED, cancel_reason="Client unwell",
                zoom_meeting_id=81234567890)
    add_meeting("dr.lee@demo.clinic", "Sam Taylor", start_at=MONDAY - timedelta(days=1),
                sync_state=SyncState.NEEDS_ATTENTION, last_sync_error="Zoom API 429")
    cancelled, stuck = list_meetings(principal("owner@demo.clinic"), MeetingFilters(newest_first=True)).rows
    assert cancelled.start_at == datetime(2031, 3, 3, 14, 0, tzinfo=UTC)
    assert cancelled.start_at.tzinfo == UTC
    assert (cancelled.practitioner_name, cancelled.patient_name, cancelled.topic, cancelled.description) == (
        "Dr. Priya Patel", "Jo Kim", "Speech therapy", "Bring the workbook")
    assert (cancelled.status, cancelled.cancel_reason, cancelled.has_zoom, cancelled.timezone) == (
        "cancelled", "Client unwell", True, "America/New_York")
    assert (stuck.status, stuck.sync_error, stuck.has_zoom, stuck.duration_minutes) == (
        "needs_attention", "Zoom API 429", False, 50)


def test_a_practitioner_sees_only_their_own_meetings_whatever_they_ask_for(demo: str) -> None:
    lee = add_meeting("dr.lee@demo.clinic", "Alex Rivera", topic="Initial assessment")
    patel = add_meeting("dr.patel@demo.clinic", "Jo Kim", topic="Initial assessment")
    patel_id = principal("dr.patel@demo.clinic").user_id
    for filters in (MeetingFilters(), MeetingFilters(practitioner_id=patel_id),
                    MeetingFilters(client_id=client_id("Jo Kim")), MeetingFilters(search="assessment")):
        assert set(ids(filters, who="dr.lee@demo.clinic")) <= {lee}, filters
    assert ids(MeetingFilters(practitioner_id=patel_id), who="dr.lee@demo.clinic") == [lee]
    assert ids(who="dr.patel@demo.clinic") == [patel]


def test_owners_and_managers_see_the_whole_practice_and_may_filter_by_practitioner(demo: str) -> None:
    lee = add_meeting("dr.lee@demo.clinic", "Alex Rivera")
    patel = add_meeting("dr.patel@demo.clinic", "Jo Kim", start_at=MONDAY + timedelta(hours=1))
    patel_id = principal("dr.patel@demo.clinic").user_id
    for who in ("owner@demo.clinic", "manager@demo.clinic"):
        assert ids(who=who) == [lee, patel]
        assert ids(MeetingFilters(practitioner_id=patel_id), who=who) == [patel]


@pytest.mark.parametrize("email", ["frontdesk@demo.clinic", "alex@demo.client"])
def test_staff_and_clients_may_not_list_meetings(demo: str, email: str) -> None:
    add_meeting("dr.lee@demo.clinic", "Alex Rivera")
    with pytest.raises(NotAllowed):
        list_meetings(principal(email), MeetingFilters())
    with pytest.raises(NotAllowed):
        patients_for_filter(principal(email), None)


def test_another_practices_meetings_never_appear(demo: str) -> None:
    ours = add_meeting("dr.lee@demo.clinic", "Alex Rivera", topic="Initial assessment")
    add_other_practice()
    other_doctor = principal("dr.else@else.clinic").user_id
    other_client = client_id("Alex Rivera Elsewhere")
    assert ids() == [ours]
    assert ids(MeetingFilters(search="alex rivera")) == [ours]
    assert ids(MeetingFilters(practitioner_id=other_doctor)) == []
    assert ids(MeetingFilters(client_id=other_client)) == []
    assert patients_for_filter(principal("owner@demo.clinic"), None) == [(client_id("Alex Rivera"), "Alex Rivera")]
    assert patients_for_filter(principal("owner@demo.clinic"), other_doctor) == []


def test_rare_statuses_page_search_and_stay_in_the_practice(demo: str) -> None:
    """Needs attention and Syncing are read from the few meetings in those sync states (not by walking
    every meeting): paging both ways, a search, a practitioner and another practice's stuck meetings."""
    stuck = [add_meeting("dr.lee@demo.clinic", "Alex Rivera", topic=f"Stuck {n}", start_at=MONDAY + timedelta(hours=n),
                         sync_state=SyncState.NEEDS_ATTENTION, status=AppointmentStatus.BOOKED if n % 2 else
                         AppointmentStatus.CANCELLED) for n in range(25)]
    syncing = add_meeting("dr.lee@demo.clinic", "Alex Rivera", start_at=MONDAY, sync_state=SyncState.PENDING_UPDATE)
    cancelled_syncing = add_meeting("dr.lee@demo.clinic", "Alex Rivera", start_at=MONDAY,
                                    status=AppointmentStatus.CANCELLED, sync_state=SyncState.PENDING_UPDATE)
    for n in range(30):
        add_meeting("dr.lee@demo.clinic", "Alex Rivera", start_at=MONDAY + timedelta(hours=n, minutes=30))
    add_other_practice()
    add_meeting("dr.else@else.clinic", "Alex Rivera Elsewhere", sync_state=SyncState.NEEDS_ATTENTION)
    owner = principal("owner@demo.clinic")

    first = list_meetings(owner, MeetingFilters(status="needs_attention"))
    assert ([r.id for r in first.rows], first.has_previous, first.has_next) == (stuck[:20], False, True)
    second = list_meetings(owner, MeetingFilters(status="needs_attention", after=first.next_cursor))
    assert ([r.id for r in second.rows], second.has_previous, second.has_next) == (stuck[20:], True, False)
    back = list_meetings(owner, MeetingFilters(status="needs_attention", before=second.previous_cursor))
    assert [r.id for r in back.rows] == stuck[:20]
    newest = list_meetings(owner, MeetingFilters(status="needs_attention", newest_first=True, page_size=3))
    assert [r.id for r in newest.rows] == stuck[::-1][:3]
    assert ids(MeetingFilters(status="needs_attention", search="stuck 1")) == [
        m for n, m in enumerate(stuck) if "1" in str(n)]  # every word appears: "Stuck 21" has a "1"
    assert ids(MeetingFilters(status="needs_attention", practitioner_id=principal("dr.patel@demo.clinic").user_id)) \
        == []
    assert ids(MeetingFilters(status="pending_sync")) == [syncing]  # a cancelled one is "Cancelled"
    assert cancelled_syncing in ids(MeetingFilters(status="cancelled"))
    assert ids(MeetingFilters(status="needs_attention", page_size=100), who="dr.lee@demo.clinic") == stuck


def test_the_benchmark_runs_quickly_and_prints_its_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_meeting_list.main(["--quick", "--no-results"]) == 0
    out = capsys.readouterr().out
    assert "p95 ms" in out
    assert "sqlite    practitioner: default view, page 1" in out
    assert "postgres  owner: search 'sleep'" in out


def test_the_benchmark_practice_pages_through_every_meeting_once(database: str) -> None:
    """The bulk-loaded practice stores times as the app writes them, so keyset pages over meetings
    sharing a start time (many do) lose none and repeat none."""
    engine = create_engine(database)
    practice = seed_meetings.seed(engine, meetings=2000, clients=100, practitioners=2)
    engine.dispose()
    owner = Principal(practice.owner_id, practice.practice_id, Role.OWNER, "owner@bench.clinic", "Olga Owner")
    rows, filters = [], MeetingFilters(page_size=10)
    while True:
        page = list_meetings(owner, filters)
        rows += page.rows
        if not page.has_next:
            break
        filters = replace(filters, after=page.next_cursor)
    assert len({r.start_at for r in rows}) < len(rows)  # ties to keep
    assert len(rows) == len({r.id for r in rows}) == 2000
    assert [(r.start_at, r.id) for r in rows] == sorted((r.start_at, r.id) for r in rows)
