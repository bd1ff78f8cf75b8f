"""Client self-booking on SQLite and PostgreSQL, with Dr. Lee's Zoom connected to the real sandbox:
a client books, moves and cancels their own session in a practitioner's open slots; every bad input
is refused with a clear message and writes nothing; concurrent bookings of one slot never collide
(the per-practitioner booking lock, services.scheduling.booking_lock)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func
from sqlmodel import delete, select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import (
    Appointment,
    AuditEvent,
    AvailabilityBlock,
    AvailabilityOverride,
    BookingRule,
    Client,
    Meeting,
    Notification,
    Practice,
    PractitionerProfile,
    Role,
    TrustedPractitioner,
    User,
)
from rxapp.services.permissions import Principal
from rxapp.services.scheduling import availability, booking_lock, self_booking
from rxapp.services.scheduling.appointments import AppointmentDraft, OverlapWarning, book_appointments
from rxapp.services.scheduling.self_booking import SelfBookingRefused, SlotTaken
from tests.integration.conftest import ZoomSandbox
from tests.integration.zoom_helpers import SignedIn, principal_of, sign_in, user_id

NY = ZoneInfo("America/New_York")
CHICAGO = ZoneInfo("America/Chicago")


def _next(weekday: int, at_least_days: int = 3) -> date:
    """The first `weekday` (Monday 0) at least `at_least_days` ahead in New York."""
    day = now().astimezone(NY).date() + timedelta(days=at_least_days)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NY).astimezone(UTC)


def _publish(practitioner_email: str = "dr.lee@demo.clinic") -> None:
    """Tuesday telehealth 9-12 and Wednesday in person 13-17, Thursday both 9-12 (New York)."""
    pid = user_id(practitioner_email)
    with unit_of_work() as s:
        practice_id = s.exec(select(Practice)).one().id or 0
        for weekday, start, end, mode in ((1, 9, 12, "telehealth"), (2, 13, 17, "in_person"), (3, 9, 12, "both")):
            s.add(AvailabilityBlock(practice_id=practice_id, practitioner_id=pid, weekday=weekday,
                                    start_minute=start * 60, end_minute=end * 60, mode=mode))


def _practice(**values: object) -> None:
    with unit_of_work() as s:
        practice = s.exec(select(Practice)).one()
        for name, value in values.items():
            setattr(practice, name, value)


def _counts() -> tuple[int, int, int, int]:
    """Appointments, meetings, outbox and audit rows: what a refused request must not change."""
    with unit_of_work() as s:
        return tuple(s.exec(select(func.count()).select_from(m)).one()  # type: ignore[return-value]
                     for m in (Appointment, Meeting, Notification, AuditEvent))


def _refused(call: Callable[[], object], expected: str, error: type[Exception] = SelfBookingRefused) -> None:
    before = _counts()
    with pytest.raises(error) as caught:
        call()
    assert expected in str(caught.value)
    assert _counts() == before


def _booked(client_email: str = "alex@demo.client") -> list[Appointment]:
    with unit_of_work() as s:
        client = s.exec(select(Client).where(Client.email == client_email)).one()
        return list(s.exec(select(Appointment).where(Appointment.client_id == client.id,
                                                     Appointment.status == "booked")).all())


@pytest.fixture
def alex(lee: SignedIn) -> Principal:
    """Dr. Lee (Zoom connected) has published hours; Alex, who trusts her, is signed in to the portal."""
    _publish()
    return sign_in("alex@demo.client").principal


def _client_principals(count: int) -> list[Principal]:
    """`count` portal clients of the demo practice who all trust Dr. Lee."""
    lee_id = user_id("dr.lee@demo.clinic")
    made = []
    with unit_of_work() as s:
        practice_id = s.exec(select(Practice)).one().id or 0
        for i in range(count):
            user = User(practice_id=practice_id, email=f"racer{i}@demo.client", full_name=f"Racer {i}",
                        role=Role.CLIENT)
            s.add(user)
            s.flush()
            client = Client(practice_id=practice_id, full_name=f"Racer {i}", email=f"racer{i}@demo.client",
                            timezone="America/New_York", user_id=user.id)
            s.add(client)
            s.flush()
            s.add(TrustedPractitioner(practice_id=practice_id, client_id=client.id or 0, practitioner_id=lee_id))
            made.append(Principal(user.id or 0, practice_id, Role.CLIENT, user.email, user.full_name))
    return made


# -- reading --------------------------------------------------------------------------------------

def test_the_week_shows_open_slots_by_the_clients_local_day_with_their_modes(alex: Principal) -> None:
    [lee] = self_booking.bookable_practitioners(alex)
    assert lee.name.startswith("Dr. Dana Lee")
    monday = _next(0)
    week = self_booking.week_of_slots(alex, lee.practitioner_id, monday)
    assert week.timezone == "America/Chicago" and week.length_minutes == 50 and week.telehealth_unavailable == ""
    tuesday = dict(week.days)[monday + timedelta(days=1)]
    # 9:00-12:00 New York is 8:00-11:00 in Chicago: 50-minute slots every 30 minutes.
    assert [s.start_at.astimezone(CHICAGO).strftime("%H:%M") for s in tuesday] == ["08:00", "08:30", "09:00",
                                                                                    "09:30", "10:00"]
    assert {s.mode for s in tuesday} == {"telehealth"}
    assert {s.mode for s in dict(week.days)[monday + timedelta(days=2)]} == {"in_person"}
    assert {s.mode for s in dict(week.days)[monday + timedelta(days=3)]} == {"both"}


def test_the_booking_page_opens_on_the_first_week_with_an_open_slot(alex: Principal) -> None:
    """Weeks without a free time are skipped, in whole weeks from the one asked for; with nothing open
    before the horizon the week asked for stays."""
    lee_id = user_id("dr.lee@demo.clinic")
    this_monday = now().astimezone(CHICAGO).date() - timedelta(days=now().astimezone(CHICAGO).weekday())
    with unit_of_work() as s:  # only one open time, in the fourth week from now
        s.exec(delete(AvailabilityBlock))  # type: ignore[call-overload]
        practice_id = s.exec(select(Practice)).one().id or 0
        s.add(AvailabilityOverride(practice_id=practice_id, practitioner_id=lee_id,
                                   on_date=this_monday + timedelta(weeks=3, days=2),
                                   start_minute=9 * 60, end_minute=10 * 60, mode="telehealth"))
    week = self_booking.week_of_slots(alex, lee_id, this_monday, first_open=True)
    assert week.first_day == this_monday + timedelta(weeks=3)
    assert [day for day, slots in week.days if slots] == [this_monday + timedelta(weeks=3, days=2)]
    assert self_booking.week_of_slots(alex, lee_id, this_monday).first_day == this_monday  # as asked
    with unit_of_work() as s:
        s.exec(delete(AvailabilityOverride))  # type: ignore[call-overload]
    empty = self_booking.week_of_slots(alex, lee_id, this_monday, first_open=True)
    assert empty.first_day == this_monday and not any(slots for _, slots in empty.days)


def test_only_trusted_practitioners_unless_the_practice_allows_any(alex: Principal) -> None:
    assert [p.name.split(",")[0] for p in self_booking.bookable_practitioners(alex)] == ["Dr. Dana Lee"]
    _practice(self_booking_any_practitioner=True)
    assert {p.name.split(",")[0] for p in self_booking.bookable_practitioners(alex)} == {"Dr. Dana Lee",
                                                                                        "Dr. Priya Patel"}


# -- booking, moving, cancelling --------------------------------------------------------------------

def test_a_client_books_a_telehealth_slot_the_usual_way(alex: Principal, zoom: ZoomSandbox,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from rxapp.services import changes

    announced: list[int] = []
    monkeypatch.setattr(changes, "appointment_changed", lambda a, *_: announced.append(a))
    start = _at(_next(1), 10)
    saved = self_booking.book_slot(alex, user_id("dr.lee@demo.clinic"), start, 50, "telehealth")
    [appointment] = _booked()
    assert saved.ids == [appointment.id] and announced == [appointment.id]
    assert (appointment.start_at, appointment.duration_minutes, appointment.telehealth) == (start, 50, True)
    assert appointment.created_by_user_id == alex.user_id and appointment.timezone == "America/New_York"
    with unit_of_work() as s:
        assert s.get(Meeting, appointment.id) is not None  # the Zoom meeting is queued the usual way
        [mail] = s.exec(select(Notification).where(Notification.to_address == "alex@demo.client")).all()
    assert "Dr. Dana Lee" in mail.body_text
    # The slot is gone from the week.
    week = self_booking.week_of_slots(alex, user_id("dr.lee@demo.clinic"), _next(0))
    assert start not in [s.start_at for _, slots in week.days for s in slots]


def test_a_both_slot_needs_the_clients_choice_and_books_in_person(alex: Principal) -> None:
    lee_id, start = user_id("dr.lee@demo.clinic"), _at(_next(3), 9)
    _refused(lambda: self_booking.book_slot(alex, lee_id, start, 50, "both"), "choose one")
    self_booking.book_slot(alex, lee_id, start, 50, "in_person")
    [appointment] = _booked()
    assert not appointment.telehealth and appointment.pos_code == "11"


def test_a_client_moves_their_appointment_to_another_open_slot_overlapping_its_old_time(alex: Principal) -> None:
    lee_id = user_id("dr.lee@demo.clinic")
    tuesday = _next(1)
    self_booking.book_slot(alex, lee_id, _at(tuesday, 9), 50, "telehealth")
    [appointment] = _booked()
    # 9:30 overlaps the appointment's own 9:00-9:50: its own time does not count as taken. The week
    # asked for is the one that holds the booking (its Monday), whatever day the test runs.
    week = self_booking.week_of_slots(alex, lee_id, tuesday - timedelta(days=tuesday.weekday()),
                                      moving_appointment_id=appointment.id)
    assert _at(tuesday, 9, 30) in [s.start_at for _, slots in week.days for s in slots]
    self_booking.reschedule_own(alex, appointment.id or 0, _at(tuesday, 9, 30), 50, "telehealth")
    [moved] = _booked()
    assert moved.id == appointment.id and moved.start_at == _at(tuesday, 9, 30)
    with unit_of_work() as s:
        subjects = [n.subject for n in s.exec(select(Notification)).all()]
    assert any("changed" in subject.lower() for subject in subjects)


def test_a_client_cancels_outside_the_window_and_is_refused_inside_it(alex: Principal) -> None:
    lee_id = user_id("dr.lee@demo.clinic")
    self_booking.book_slot(alex, lee_id, _at(_next(1), 9), 50, "telehealth")
    [appointment] = _booked()
    _practice(cancellation_window_hours=24 * 30, cancellation_message="Please call the practice on 555-0100.")
    expected = "starts within 720 hours, so it cannot be cancelled online. Please call the practice on 555-0100."
    _refused(lambda: self_booking.cancel_own(alex, appointment.id or 0), expected)
    _refused(lambda: self_booking.reschedule_own(alex, appointment.id or 0, _at(_next(1), 10), 50, "telehealth"),
             "cannot be moved online. Please call the practice on 555-0100.")
    _practice(cancellation_window_hours=24)
    self_booking.cancel_own(alex, appointment.id or 0)
    with unit_of_work() as s:
        row = s.get(Appointment, appointment.id)
        assert row is not None and (row.status, row.cancel_reason) == ("cancelled", self_booking.CLIENT_CANCEL_REASON)


def test_a_client_may_say_why_they_cancel(alex: Principal) -> None:
    lee_id = user_id("dr.lee@demo.clinic")
    self_booking.book_slot(alex, lee_id, _at(_next(1), 9), 50, "telehealth")
    [appointment] = _booked()
    self_booking.cancel_own(alex, appointment.id or 0, "  My car broke\n down  ")
    with unit_of_work() as s:
        row = s.get(Appointment, appointment.id)
        told = s.exec(select(Notification).where(Notification.idempotency_key == f"meeting-cancelled:{row.id}")).one()
    assert row.cancel_reason == "Cancelled by you in your portal. Reason given: My car broke down"
    assert "Reason given: My car broke down" in told.body_text
    assert len(self_booking.client_cancel_reason("x" * 1000)) == len(self_booking.CLIENT_CANCEL_REASON) + 300 + 15


# -- bad input: a clear message, nothing written ----------------------------------------------------

def test_a_slot_no_longer_open_is_refused_as_just_taken(alex: Principal) -> None:
    lee_id, start = user_id("dr.lee@demo.clinic"), _at(_next(1), 9)
    self_booking.book_slot(sign_in("sam@demo.client").principal, lee_id, start, 50, "telehealth")
    _refused(lambda: self_booking.book_slot(alex, lee_id, start, 50, "telehealth"), "That time was just taken",
             SlotTaken)
    # Inside the first one's time, too.
    _refused(lambda: self_booking.book_slot(alex, lee_id, start + timedelta(minutes=30), 50, "telehealth"),
             "That time was just taken", SlotTaken)


def test_times_outside_the_published_hours_notice_and_horizon_are_refused(alex: Principal) -> None:
    lee_id = user_id("dr.lee@demo.clinic")
    _refused(lambda: self_booking.book_slot(alex, lee_id, _at(_next(1), 14), 50, "telehealth"), "no longer open")
    _refused(lambda: self_booking.book_slot(alex, lee_id, _at(_next(2), 14), 50, "telehealth"),
             "not offered telehealth")
    _refused(lambda: self_booking.book_slot(alex, lee_id, _at(_next(1), 9, 10), 50, "telehealth"), "no longer open")
    _refused(lambda: self_booking.book_slot(alex, lee_id, _at(_next(1), 9), 45, "telehealth"), "not offered")
    soon = now() + timedelta(hours=2)
    _refused(lambda: self_booking.book_slot(alex, lee_id, soon, 50, "telehealth"), "at least 24 hours ahead")
    far = _at(_next(1, at_least_days=70), 9)
    _refused(lambda: self_booking.book_slot(alex, lee_id, far, 50, "telehealth"), "at most 60 days ahead")
    _refused(lambda: self_booking.book_slot(alex, lee_id, _at(_next(1), 9).replace(tzinfo=None), 50, "telehealth"),
             "Choose a time from the list")
    _refused(lambda: self_booking.book_slot(alex, lee_id, _at(_next(1), 9), 50, "video"), "in person or telehealth")


def test_an_archived_client_cannot_book(alex: Principal) -> None:
    with unit_of_work() as s:
        s.exec(select(Client).where(Client.email == "alex@demo.client")).one().archived_at = now()
    _refused(lambda: self_booking.book_slot(alex, user_id("dr.lee@demo.clinic"), _at(_next(1), 9), 50,
                                            "telehealth"), "archived")


def test_a_practitioner_the_client_does_not_trust_cannot_be_booked(alex: Principal) -> None:
    _publish("dr.patel@demo.clinic")
    patel = user_id("dr.patel@demo.clinic")
    _refused(lambda: self_booking.book_slot(alex, patel, _at(_next(2), 13), 50, "in_person"),
             "only your trusted practitioners")
    _refused(lambda: self_booking.week_of_slots(alex, patel, _next(0)), "only your trusted practitioners")
    _refused(lambda: self_booking.book_slot(alex, user_id("frontdesk@demo.clinic"), _at(_next(2), 13), 50,
                                            "in_person"), "only your trusted practitioners")


def test_a_practitioner_who_takes_no_new_clients_online_refuses_a_new_client(alex: Principal) -> None:
    lee_id = user_id("dr.lee@demo.clinic")
    with unit_of_work() as s:
        s.add(BookingRule(practitioner_id=lee_id, practice_id=s.exec(select(Practice)).one().id or 0,
                          new_clients_may_self_book=False))
    _refused(lambda: self_booking.book_slot(alex, lee_id, _at(_next(1), 9), 50, "telehealth"),
             "does not take new clients online")


def test_a_practice_without_self_booking_refuses_every_portal_booking(alex: Principal) -> None:
    _practice(self_booking_enabled=False)
    _refused(lambda: self_booking.book_slot(alex, user_id("dr.lee@demo.clinic"), _at(_next(1), 9), 50,
                                            "telehealth"), "does not take bookings in the portal")
    _refused(lambda: self_booking.bookable_practitioners(alex), "does not take bookings in the portal")


def test_a_client_cannot_move_or_cancel_someone_elses_appointment(alex: Principal) -> None:
    lee_id = user_id("dr.lee@demo.clinic")
    self_booking.book_slot(sign_in("sam@demo.client").principal, lee_id, _at(_next(1), 9), 50, "telehealth")
    [sams] = _booked("sam@demo.client")
    _refused(lambda: self_booking.cancel_own(alex, sams.id or 0), "not one of your appointments")
    _refused(lambda: self_booking.reschedule_own(alex, sams.id or 0, _at(_next(1), 11), 50, "telehealth"),
             "not one of your appointments")


# -- no double booking, ever -------------------------------------------------------------------------

def _race(calls: list[Callable[[], object]], widen: pytest.MonkeyPatch) -> list[object]:
    """Run the calls at the same moment, each in its own thread and transaction. The checks pause
    a moment after reading, so without the lock every racer would pass them before anyone commits."""
    from rxapp.services.scheduling import appointments

    def slow(check: Callable[..., object], pause: float) -> Callable[..., object]:
        def checked_then_paused(*args: object, **kwargs: object) -> object:
            found = check(*args, **kwargs)
            time.sleep(pause)
            return found
        return checked_then_paused

    widen.setattr(availability, "slot_is_open", slow(availability.slot_is_open, 0.05))  # the client's check
    widen.setattr(appointments, "overlapping", slow(appointments.overlapping, 0.15))  # the front desk's
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except Exception as exc:  # collected for the asserts
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def test_twenty_clients_taking_one_slot_at_once_make_exactly_one_appointment(
        alex: Principal, monkeypatch: pytest.MonkeyPatch) -> None:
    lee_id, start = user_id("dr.lee@demo.clinic"), _at(_next(2), 14)  # in person: no Zoom traffic
    racers = _client_principals(20)
    results = _race([lambda p=p: self_booking.book_slot(p, lee_id, start, 50, "in_person") for p in racers],
                    monkeypatch)
    with unit_of_work() as s:
        rows = s.exec(select(Appointment).where(Appointment.practitioner_id == lee_id,
                                                Appointment.status == "booked")).all()
    assert len(rows) == 1 and rows[0].start_at == start
    taken = [r for r in results if isinstance(r, SlotTaken)]
    assert len(taken) == 19, results
    assert all(str(r) == "That time was just taken. Please choose another time." for r in taken)


def test_a_client_and_the_front_desk_racing_for_one_time_make_exactly_one_appointment(
        alex: Principal, monkeypatch: pytest.MonkeyPatch) -> None:
    lee_id, start = user_id("dr.lee@demo.clinic"), _at(_next(2), 14)
    desk = principal_of("frontdesk@demo.clinic")
    with unit_of_work() as s:
        sam = s.exec(select(Client).where(Client.email == "sam@demo.client")).one().id
    local = start.astimezone(NY)
    draft = AppointmentDraft(client_id=sam, practitioner_id=lee_id, date=local.date().isoformat(),
                             hour=local.strftime("%H:%M"), duration_minutes=50, telehealth=False,
                             timezone="America/New_York")
    results = _race([lambda: self_booking.book_slot(alex, lee_id, start, 50, "in_person"),
                     lambda: book_appointments(desk, draft)], monkeypatch)
    with unit_of_work() as s:
        rows = s.exec(select(Appointment).where(Appointment.practitioner_id == lee_id,
                                                Appointment.status == "booked")).all()
    assert len(rows) == 1
    assert sorted(type(r).__name__ for r in results if isinstance(r, Exception)) in (["SlotTaken"],
                                                                                     ["OverlapWarning"])


def test_the_front_desks_deliberate_overlap_stays_allowed(alex: Principal) -> None:
    lee_id, start = user_id("dr.lee@demo.clinic"), _at(_next(2), 14)
    self_booking.book_slot(alex, lee_id, start, 50, "in_person")
    desk = principal_of("frontdesk@demo.clinic")
    with unit_of_work() as s:
        sam = s.exec(select(Client).where(Client.email == "sam@demo.client")).one().id
    draft = AppointmentDraft(client_id=sam, practitioner_id=lee_id, date=start.astimezone(NY).date().isoformat(),
                             hour="14:00", duration_minutes=50, telehealth=False, timezone="America/New_York")
    with pytest.raises(OverlapWarning):
        book_appointments(desk, draft)
    assert len(book_appointments(desk, AppointmentDraft(**{**draft.__dict__, "allow_overlap": True})).ids) == 1


def test_the_booking_lock_refuses_to_be_taken_after_a_read(alex: Principal) -> None:
    with unit_of_work() as s:
        s.exec(select(Practice)).one()
        with pytest.raises(RuntimeError, match="first statement"):
            booking_lock.lock_practitioner(s, user_id("dr.lee@demo.clinic"))


def test_a_sqlite_write_lock_held_past_the_busy_timeout_is_a_message_not_a_crash(sqlite_database: str) -> None:
    """SQLITE_BUSY is handled on purpose: the booking waits in SQLite's busy handler, and if the
    other writer keeps the lock past the timeout the caller gets `BookingBusy`, nothing written."""
    import sqlite3

    from sqlalchemy import event
    from sqlmodel import Session

    from rxapp.db import make_engine

    engine = make_engine(sqlite_database)

    @event.listens_for(engine, "connect")
    def _short_wait(dbapi_conn, _record) -> None:  # after db.py's 30 s: this test waits 0.2 s
        dbapi_conn.execute("PRAGMA busy_timeout=200")

    other = sqlite3.connect(sqlite_database.removeprefix("sqlite:///"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another booking holds the write lock
    try:
        with Session(engine) as session, pytest.raises(booking_lock.BookingBusy, match="Please try again"):
            booking_lock.lock_practitioner(session, 1)
    finally:
        other.execute("ROLLBACK")
        other.close()
        engine.dispose()


# -- no hoarding, no double-booking oneself (issue 24.3) ------------------------------------------------

def _patel_beside_lee() -> None:
    """Dr. Patel (anyone may be booked) with Dr. Lee's hours, in New York time like hers."""
    _practice(self_booking_any_practitioner=True, self_booking_max_per_day=5)
    _publish("dr.patel@demo.clinic")
    with unit_of_work() as s:
        profile = s.get(PractitionerProfile, user_id("dr.patel@demo.clinic"))
        assert profile is not None
        profile.timezone = "America/New_York"


def test_a_client_cannot_book_themselves_twice_at_one_time_even_with_two_practitioners(alex: Principal) -> None:
    _patel_beside_lee()
    wednesday = _next(2)
    self_booking.book_slot(alex, user_id("dr.lee@demo.clinic"), _at(wednesday, 13), 50, "in_person")
    _refused(lambda: self_booking.book_slot(alex, user_id("dr.patel@demo.clinic"), _at(wednesday, 13, 30), 50,
                                            "in_person"), "You already have an appointment then")
    assert len(_booked()) == 1
    # Moving onto one's own other visit is refused the same way.
    self_booking.book_slot(alex, user_id("dr.patel@demo.clinic"), _at(wednesday, 15), 50, "in_person")
    lees = next(a for a in _booked() if a.practitioner_id == user_id("dr.lee@demo.clinic"))
    _refused(lambda: self_booking.reschedule_own(alex, lees.id or 0, _at(wednesday, 14, 30), 50, "in_person"),
             "You already have an appointment then")


def test_the_practices_limits_stop_a_client_hoarding_slots_and_the_front_desk_is_not_limited(
        alex: Principal) -> None:
    lee_id, wednesday = user_id("dr.lee@demo.clinic"), _next(2)
    self_booking.book_slot(alex, lee_id, _at(wednesday, 13), 50, "in_person")
    _refused(lambda: self_booking.book_slot(alex, lee_id, _at(wednesday, 14), 50, "in_person"),
             "You can book 1 visit a day online")
    _practice(self_booking_max_per_day=6, self_booking_max_upcoming=2)
    self_booking.book_slot(alex, lee_id, _at(wednesday, 14), 50, "in_person")
    _refused(lambda: self_booking.book_slot(alex, lee_id, _at(wednesday, 15), 50, "in_person"),
             "You already have 2 visits booked online, the most the practice allows")
    # Moving one of them is not a new booking.
    [first, _] = sorted(_booked(), key=lambda a: a.start_at)
    self_booking.reschedule_own(alex, first.id or 0, _at(wednesday, 16), 50, "in_person")
    # The front desk books Alex on that day as often as the practice needs.
    desk = principal_of("frontdesk@demo.clinic")
    for hour in ("09:00", "10:00"):
        book_appointments(desk, AppointmentDraft(client_id=_booked()[0].client_id, practitioner_id=lee_id,
                                                 date=wednesday.isoformat(), hour=hour, duration_minutes=50,
                                                 telehealth=False, timezone="America/New_York"))
    assert len(_booked()) == 4


def test_two_tabs_of_one_client_booking_two_practitioners_at_one_time_make_one_appointment(
        alex: Principal, monkeypatch: pytest.MonkeyPatch) -> None:
    _patel_beside_lee()
    start = _at(_next(2), 13)
    results = _race([lambda: self_booking.book_slot(alex, user_id("dr.lee@demo.clinic"), start, 50, "in_person"),
                     lambda: self_booking.book_slot(alex, user_id("dr.patel@demo.clinic"), start, 50, "in_person")],
                    monkeypatch)
    assert len(_booked()) == 1, results
    [refusal] = [r for r in results if isinstance(r, Exception)]
    assert isinstance(refusal, SelfBookingRefused) and "already have an appointment then" in str(refusal)
