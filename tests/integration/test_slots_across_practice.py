"""'Any practitioner' slots on SQLite and PostgreSQL (services.scheduling.availability.open_slots_for_any):
the practice's four weeks load in the same few queries whatever the number of practitioners, and
give exactly each practitioner's own open slots (open_slots_for), merged."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event
from sqlmodel import Session

from rxapp.clock import set_clock
from rxapp.db import get_engine, unit_of_work
from rxapp.models import (
    Appointment,
    AppointmentStatus,
    AvailabilityBlock,
    AvailabilityOverride,
    BookingRule,
    Client,
    Practice,
    PractitionerProfile,
    Role,
    User,
    ZoomConnection,
)
from rxapp.models.types import ZoomConnectionStatus
from rxapp.services.scheduling.availability import Slot, SlotMode, open_slots_for, open_slots_for_any

# Monday 8 March 2027, 15:00 UTC. The four weeks from here hold New York's spring forward (14 March),
# London's (28 March) and Sydney's autumn back (4 April).
NOW = datetime(2027, 3, 8, 15, 0, tzinfo=UTC)
START, END = NOW, NOW + timedelta(days=28)
NY, LONDON, SYDNEY = "America/New_York", "Europe/London", "Australia/Sydney"


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    set_clock(lambda: NOW)
    yield
    set_clock(None)


def at(zone: str, day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(zone)).astimezone(UTC)


class Practitioners:
    """Adds practitioners to one practice, each with whatever the test gives them."""

    def __init__(self, session: Session) -> None:
        self.session = session
        practice = Practice(name="Any Practitioner Practice", timezone=NY, allow_zoom=True)
        session.add(practice)
        session.flush()
        self.practice_id = practice.id or 0
        client = Client(practice_id=self.practice_id, full_name="Robin Client")
        session.add(client)
        session.flush()
        self.client_id = client.id or 0

    def add(self, name: str, zone: str, *, telehealth: bool = True, zoom: str | None = ZoomConnectionStatus.CONNECTED,
            rule: BookingRule | None = None, blocks: tuple[tuple[int, int, int, str], ...] = (),
            overrides: tuple[tuple[date, bool, int, int, str], ...] = (),
            appointments: tuple[tuple[datetime, int, AppointmentStatus], ...] = ()) -> int:
        user = User(practice_id=self.practice_id, email=f"{name.lower()}@any.clinic", full_name=f"Dr. {name}",
                    role=Role.PRACTITIONER)
        self.session.add(user)
        self.session.flush()
        pid = user.id or 0
        self.session.add(PractitionerProfile(user_id=pid, practice_id=self.practice_id, timezone=zone,
                                             telehealth_enabled=telehealth))
        if zoom is not None:
            self.session.add(ZoomConnection(
                practice_id=self.practice_id, practitioner_id=pid, access_token_encrypted="x",
                refresh_token_encrypted="x", access_expires_at=NOW + timedelta(hours=1), zoom_user_id=f"z{pid}",
                zoom_account_id="a", status=zoom))
        if rule is not None:
            rule.practitioner_id, rule.practice_id = pid, self.practice_id
            self.session.add(rule)
        for weekday, begin, finish, mode in blocks:
            self.session.add(AvailabilityBlock(practice_id=self.practice_id, practitioner_id=pid, weekday=weekday,
                                               start_minute=begin * 60, end_minute=finish * 60, mode=mode))
        for on, off, begin, finish, mode in overrides:
            self.session.add(AvailabilityOverride(practice_id=self.practice_id, practitioner_id=pid, on_date=on,
                                                  day_off=off, start_minute=begin * 60, end_minute=finish * 60,
                                                  mode=mode))
        for start_at, minutes, status in appointments:
            self.session.add(Appointment(practice_id=self.practice_id, practitioner_id=pid, client_id=self.client_id,
                                         start_at=start_at, duration_minutes=minutes, status=status))
        self.session.flush()
        return pid


def weekdays(begin: int, finish: int, mode: str) -> tuple[tuple[int, int, int, str], ...]:
    return tuple((day, begin, finish, mode) for day in range(5))


def per_practitioner(ids: list[int], length: int | None = None) -> tuple[list[tuple[int, Slot]], dict[int, str]]:
    """Each practitioner's own open slots, one after the other, sorted (stably) by start and length:
    what the practice-wide list must be."""
    with unit_of_work() as s:
        each = {pid: open_slots_for(s, pid, START, END, length=length) for pid in ids}
    pairs = [(pid, slot) for pid in dict.fromkeys(ids) for slot in each[pid].slots]
    return (sorted(pairs, key=lambda pair: (pair[1].start_at, pair[1].length_minutes)),
            {pid: result.telehealth_unavailable for pid, result in each.items()})


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL statements sent inside the block."""
    sent: list[str] = []

    def count(*args: Any) -> None:
        sent.append(args[2])

    event.listen(get_engine(), "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(get_engine(), "before_cursor_execute", count)


def a_busy_practitioner(practitioners: Practitioners, n: int) -> int:
    monday = date(2027, 3, 8)
    return practitioners.add(
        f"Number{n}", NY,
        rule=BookingRule(lengths="30,50", interval_minutes=15, buffer_before_minutes=10, buffer_after_minutes=10,
                         max_per_day=6),
        blocks=(*weekdays(8, 11, "in_person"), *weekdays(12, 15, "telehealth"), *weekdays(16, 19, "both")),
        overrides=((monday + timedelta(days=3), True, 0, 0, "both"),
                   (monday + timedelta(days=9), False, 10, 14, "both")),
        appointments=tuple((at(NY, monday + timedelta(days=day), 9 + (day + n) % 9), 50, AppointmentStatus.BOOKED)
                           for day in range(28)))


def test_any_practitioner_slots_take_the_same_queries_for_two_or_twenty_practitioners(database: str) -> None:
    with unit_of_work() as s:
        practitioners = Practitioners(s)
        ids = [a_busy_practitioner(practitioners, n) for n in range(20)]
    found: dict[int, int] = {}
    for some in (ids[:2], ids, ids[:2]):  # the first run also opens the connection
        with statements() as sent, unit_of_work() as s:
            result = open_slots_for_any(s, some, START, END)
        found[len(some)] = len(sent)
        assert set(result.practitioner_ids) == set(some)
    assert found[2] == found[20] == 4
    with statements() as sent, unit_of_work() as s:
        open_slots_for(s, ids[0], START, END)
    assert len(sent) == 4  # one practitioner's slots: the same four


def test_any_practitioner_slots_are_each_practitioners_own_merged(database: str) -> None:
    monday = date(2027, 3, 8)
    with unit_of_work() as s:
        practitioners = Practitioners(s)
        lee = practitioners.add(
            "Lee", NY,
            rule=BookingRule(lengths="30,50", interval_minutes=15, buffer_before_minutes=10, buffer_after_minutes=5,
                             min_notice_hours=24, horizon_days=60, max_per_day=3),
            # Sunday 01:00-04:00 holds the hour New York skips on 14 March.
            blocks=(*weekdays(9, 12, "both"), *weekdays(13, 17, "telehealth"), (6, 1, 4, "in_person")),
            overrides=((monday + timedelta(days=2), True, 0, 0, "both"),
                       (monday + timedelta(days=15), False, 7, 10, "telehealth")),
            appointments=(
                (at(NY, monday + timedelta(days=1), 11), 50, AppointmentStatus.BOOKED),
                (at(NY, monday + timedelta(days=1), 14), 50, AppointmentStatus.CANCELLED),  # frees its time
                (at(NY, monday + timedelta(days=7), 9), 60, AppointmentStatus.COMPLETED),
                *((at(NY, monday + timedelta(days=8), hour), 30, AppointmentStatus.BOOKED) for hour in (9, 11, 15)),
                (at(NY, monday + timedelta(days=9), 9, 30), 50, AppointmentStatus.NO_SHOW)))
        # Overlapping blocks; telehealth enabled but Zoom never connected, so Both is in person only.
        patel = practitioners.add(
            "Patel", LONDON, zoom=None,
            rule=BookingRule(lengths="50", interval_minutes=30, min_notice_hours=2, horizon_days=10),
            blocks=((0, 9, 12, "in_person"), (0, 11, 14, "both"), (2, 9, 17, "telehealth"), (6, 0, 3, "both")),
            appointments=((at(LONDON, monday + timedelta(days=7), 11), 50, AppointmentStatus.BOOKED),))
        # Telehealth off, a Zoom connection needing a reconnect, and no new clients online: the engine
        # still offers the in-person hours (the self-booking checks refuse new clients).
        kim = practitioners.add(
            "Kim", SYDNEY, telehealth=False, zoom=ZoomConnectionStatus.NEEDS_RECONNECT,
            rule=BookingRule(lengths="60", interval_minutes=60, new_clients_may_self_book=False),
            blocks=(*weekdays(8, 12, "both"), (6, 1, 4, "telehealth")))
        # No booking rules stored (the defaults) and no weekly hours: only one date's override.
        rivera = practitioners.add("Rivera", NY, overrides=((monday + timedelta(days=4), False, 9, 12, "in_person"),))
        # Hours like Lee's, so the two share start times.
        shaw = practitioners.add("Shaw", NY, rule=BookingRule(lengths="30,50", interval_minutes=15),
                                 blocks=weekdays(9, 12, "both"))
        nobody = practitioners.add("Nobody", NY)  # a practitioner with no hours at all
        owner = User(practice_id=practitioners.practice_id, email="owner@any.clinic", full_name="Owner",
                     role=Role.OWNER)
        s.add(owner)
        s.flush()
        not_a_practitioner = owner.id or 0
    ids = [shaw, lee, patel, kim, rivera, nobody, not_a_practitioner, lee]
    for length in (None, 50, 30):
        expected, why_not = per_practitioner(ids, length)
        with unit_of_work() as s:
            practice = open_slots_for_any(s, ids, START, END, length=length)
        assert list(practice.pairs()) == expected
        assert practice.telehealth_unavailable == why_not
    expected, _ = per_practitioner(ids)

    def offered(pid: int, when: datetime, length: int) -> bool:
        return any(p == pid and slot.start_at == when and slot.length_minutes == length for p, slot in expected)

    # The cases above are not empty: each rule shows in the merged list.
    assert offered(lee, at(NY, monday + timedelta(days=1), 14), 50)  # cancelled: open again
    assert not offered(lee, at(NY, monday + timedelta(days=1), 11), 50)  # booked
    assert not offered(lee, at(NY, monday + timedelta(days=8), 13), 30)  # a day at its maximum of three
    assert offered(lee, at(NY, date(2027, 3, 14), 3), 30)  # 03:00 EDT on the spring-forward Sunday
    assert offered(patel, at(LONDON, monday + timedelta(days=7), 9), 50)
    assert not offered(patel, at(LONDON, monday + timedelta(days=14), 9), 50)  # beyond its 10-day horizon
    assert offered(kim, at(SYDNEY, date(2027, 4, 5), 8), 60)  # after Sydney's clocks went back
    assert offered(rivera, at(NY, monday + timedelta(days=4), 9), 50)
    assert {slot.mode for p, slot in expected if p in (patel, kim)} == {SlotMode.IN_PERSON}
    shared = at(NY, monday + timedelta(days=3), 9)
    assert [p for p, slot in expected if slot.start_at == shared and slot.length_minutes == 30][:2] == [shaw, lee]
    assert all(p not in (nobody, not_a_practitioner) for p, _ in expected)


def test_any_practitioner_slots_for_nobody_are_empty(database: str) -> None:
    with statements() as sent, unit_of_work() as s:
        result = open_slots_for_any(s, [], START, END)
    assert (result.practitioner_ids, result.slots, result.telehealth_unavailable, sent) == ([], [], {}, [])
