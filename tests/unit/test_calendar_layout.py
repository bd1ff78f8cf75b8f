"""The Calendar page lays appointments out at their local time and length, side by side when they
overlap, and every browser showing a practice's calendar hears of its changes."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest

from rxapp import live
from rxapp.services import changes
from rxapp.services.scheduling.calendar import CalendarAppointment, CalendarPractitioner, WeekView
from rxapp.state.calendar import CalendarState, _lanes, first_day
from tests.unit.test_live import _App, _record

LEE = CalendarPractitioner(id=3, name="Dr. Dana Lee", zoom="needs_reconnect", telehealth_enabled=True)
PATEL = CalendarPractitioner(id=4, name="Dr. Priya Patel", zoom="not_connected", telehealth_enabled=True)


def _appointment(id_: int, who: CalendarPractitioner, start: datetime, minutes: int = 50, telehealth: bool = False,
                 status: str = "booked", meeting: str = "") -> CalendarAppointment:
    return CalendarAppointment(id=id_, practitioner_id=who.id, client_id=1, client_name=f"Client {id_}",
                               start_at=start, duration_minutes=minutes, telehealth=telehealth, status=status,
                               meeting=meeting)


def _laid_out(*appointments: CalendarAppointment, days: int = 2) -> CalendarState:
    state = CalendarState()
    state.timezone = "America/New_York"
    state._lay_out(WeekView(tuple(date(2026, 12, 3 + n) for n in range(days)), "America/New_York", (LEE, PATEL),
                            appointments))
    return state


def test_an_appointment_is_drawn_in_its_local_day_and_practitioner_column_at_its_time_and_length() -> None:
    # 23:30 on Thursday 3 December in New York (04:30 UTC on Friday), Dr. Patel's column of Thursday.
    state = _laid_out(_appointment(1, PATEL, datetime(2026, 12, 4, 4, 30, tzinfo=UTC), minutes=30))
    assert [c["key"] for c in state.columns] == ["2026-12-03-3", "2026-12-03-4", "2026-12-04-3", "2026-12-04-4"]
    (block,) = state.blocks
    assert (block["top"], block["height"]) == ("1410px", "30px")
    assert block["left"] == "calc((1 + 0 / 1) * 100% / 4 + 2px)"
    assert block["aria"] == "Thursday 3 December 23:30-00:00, Dr. Priya Patel, Client 1, In person"
    assert state.columns[1]["busy"] == "|47|"
    assert [i["label"] for i in state.agenda] == ["Thursday 3 December", "23:30-00:00", "Friday 4 December",
                                                  "No appointments"]


def test_overlapping_appointments_stand_side_by_side_and_telehealth_ones_say_their_zoom_state() -> None:
    nine = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)  # 09:00 in New York
    state = _laid_out(_appointment(1, LEE, nine, telehealth=True, meeting="pending"),
                      _appointment(2, LEE, nine.replace(minute=30), telehealth=True, meeting="scheduled"),
                      _appointment(3, LEE, nine.replace(hour=16)))
    by_id = {b["id"]: b for b in state.blocks}
    assert by_id["1"]["width"] == by_id["2"]["width"] == "calc(100% / 4 / 2 - 4px)"
    assert by_id["2"]["left"] == "calc((0 + 1 / 2) * 100% / 4 + 2px)"
    assert by_id["3"]["width"] == "calc(100% / 4 / 1 - 4px)"
    assert by_id["1"]["mode"] == "Telehealth" and by_id["3"]["mode"] == "In person"
    assert by_id["1"]["zoom"] == "Zoom meeting pending: Dr. Dana Lee must reconnect Zoom"
    assert by_id["2"]["zoom"] == "Zoom meeting scheduled (Zoom needs reconnect)"


def test_cancelled_appointments_are_marked_and_free_their_slots() -> None:
    state = _laid_out(_appointment(1, LEE, datetime(2026, 12, 3, 14, 0, tzinfo=UTC), status="cancelled"))
    assert state.blocks[0]["cancelled"] == "1" and state.blocks[0]["aria"].endswith("cancelled")
    assert state.columns[0]["busy"] == "||"


def test_lanes_and_the_first_day_of_a_week() -> None:
    assert _lanes([(1, 0, 60), (2, 30, 90), (3, 60, 120), (4, 200, 230)]) == {
        1: (0, 2), 2: (1, 2), 3: (0, 2), 4: (0, 1)}
    assert first_day(date(2026, 12, 3), "week") == date(2026, 11, 30)
    assert first_day(date(2026, 12, 3), "day") == date(2026, 12, 3)


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> _App:
    fake = _App()
    monkeypatch.setattr(live, "_app", fake)
    monkeypatch.setattr(live, "_registry", live._MemoryRegistry())
    monkeypatch.setattr(live, "_handlers", {})
    return fake


class _CalendarPage:
    def __init__(self) -> None:
        self.seen: list[int] = []


def test_a_change_reaches_every_browser_showing_that_practices_calendar(app: _App) -> None:
    live.on_change("practice", _CalendarPage, _record)  # type: ignore[arg-type]

    async def scenario() -> None:
        await live.watch("practice:1", "desk-browser")
        await live.watch("practice:2", "other-practice-browser")
        await live._push(changes.AppointmentChanged(appointment_id=7, practice_id=1, practitioner_id=5, client_id=3))

    asyncio.run(scenario())
    assert app.states[("desk-browser", _CalendarPage)].seen == [7]
    assert ("other-practice-browser", _CalendarPage) not in app.states
