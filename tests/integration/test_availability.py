"""Availability on SQLite and PostgreSQL: the editor's service (permissions, validation that keeps
nothing half-saved, audit) and open_slots_for / slot_is_open reading the stored rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from rxapp.clock import set_clock
from rxapp.db import unit_of_work
from rxapp.models import (
    Appointment,
    AppointmentStatus,
    AuditEvent,
    AvailabilityBlock,
    AvailabilityOverride,
    BookingRule,
    Client,
    PractitionerProfile,
    ZoomConnection,
)
from rxapp.services.permissions import NotAllowed
from rxapp.services.scheduling import availability_editor as editor
from rxapp.services.scheduling.availability import open_slots_for, slot_is_open
from rxapp.services.scheduling.availability_editor import AvailabilityInvalid, BlockInput, OverrideInput, RulesInput
from rxapp.services.scheduling.slots import SlotMode
from tests.integration.zoom_helpers import principal_of, user_id

LEE, PATEL, OWNER, FRONTDESK, ALEX = ("dr.lee@demo.clinic", "dr.patel@demo.clinic", "owner@demo.clinic",
                                      "frontdesk@demo.clinic", "alex@demo.client")
# Monday 1 March 2027, 12:00 UTC (07:00 in New York, Dr. Lee's zone).
NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
RULES = RulesInput(lengths="50", interval_minutes="60", min_notice_hours="0", horizon_days="60")


@pytest.fixture(autouse=True)
def frozen(demo: None):
    set_clock(lambda: NOW)
    yield
    set_clock(None)


def _week(mode: str = "in_person") -> list[BlockInput]:
    return [BlockInput("n1", 1, "09:00", "12:00", "telehealth"), BlockInput("n2", 2, "13:00", "17:00", mode)]


def _save(email: str, practitioner: str = LEE, blocks: list[BlockInput] | None = None,
          overrides: list[OverrideInput] | None = None, rules: RulesInput = RULES) -> editor.AvailabilityView:
    return editor.save_availability(principal_of(email), user_id(practitioner), _week() if blocks is None else blocks,
                                    overrides or [], rules)


def test_a_practitioner_saves_their_week_and_sees_it_again(database: str) -> None:
    view = _save(LEE, overrides=[OverrideInput("n3", "2027-03-09", True),
                                 OverrideInput("n4", "2027-03-10", False, "08:00", "10:00", "both")])
    assert [(b.weekday, b.start, b.end, b.mode) for b in view.blocks] == [
        (1, "09:00", "12:00", "telehealth"), (2, "13:00", "17:00", "in_person")]
    assert [(o.on_date, o.day_off, o.start, o.end, o.mode) for o in view.overrides] == [
        ("2027-03-09", True, "", "", "in_person"), ("2027-03-10", False, "08:00", "10:00", "both")]
    assert view.rules.interval_minutes == "60" and view.rules.max_per_day == ""
    again = editor.availability_view(principal_of(LEE), user_id(LEE))
    assert again.blocks == view.blocks and again.overrides == view.overrides
    with unit_of_work() as s:
        [event] = s.exec(select(AuditEvent).where(AuditEvent.action == "availability.saved")).all()
        detail = json.loads(event.detail)
        assert event.actor_user_id == user_id(LEE) and event.subject_id == str(user_id(LEE))
        assert detail["blocks"] == ["Tue 09:00-12:00 Telehealth", "Wed 13:00-17:00 In person"]
        assert detail["overrides"] == ["2027-03-09 off", "2027-03-10 08:00-10:00 Both"]


def test_front_desk_and_owner_edit_any_practitioner_a_practitioner_only_their_own(database: str) -> None:
    _save(FRONTDESK, practitioner=PATEL)
    _save(OWNER, practitioner=LEE)
    with pytest.raises(NotAllowed):
        _save(LEE, practitioner=PATEL)
    with pytest.raises(NotAllowed):
        editor.availability_view(principal_of(LEE), user_id(PATEL))
    with pytest.raises(NotAllowed):
        _save(ALEX, practitioner=LEE)
    with pytest.raises(NotAllowed):  # the owner is not a practitioner
        _save(OWNER, practitioner=OWNER)
    assert [name for _, name in editor.editable_practitioners(principal_of(LEE))] == ["Dr. Dana Lee"]
    assert [name for _, name in editor.editable_practitioners(principal_of(FRONTDESK))] == [
        "Dr. Dana Lee", "Dr. Priya Patel"]


@pytest.mark.parametrize(("blocks", "overrides", "rules", "errors"), [
    ([BlockInput("n1", 1, "12:00", "09:00", "in_person")], [], RULES, {"n1.end": "The end must be after the start."}),
    ([BlockInput("n1", 1, "9am", "25:00", "in_person")], [], RULES,
     {"n1.start": "Enter a start time like 09:00.", "n1.end": "Enter an end time like 17:00 (24:00 for midnight)."}),
    ([BlockInput("n1", 1, "09:00", "17:00", "in_person"), BlockInput("n2", 1, "10:00", "11:00", "both"),
      BlockInput("n3", 1, "12:00", "13:00", "both"), BlockInput("n4", 2, "10:00", "11:00", "both")], [], RULES,
     {"n2.start": "Overlaps 09:00 to 17:00 on Tuesday. Blocks of a day must not overlap.",
      "n3.start": "Overlaps 09:00 to 17:00 on Tuesday. Blocks of a day must not overlap."}),
    ([], [OverrideInput("n5", "2027-02-28", True)], RULES,
     {"n5.date": "That date has passed. Choose today or a later date."}),
    ([], [OverrideInput("n5", "soon", True)], RULES, {"n5.date": "Enter a date like 2027-03-02."}),
    ([], [OverrideInput("n5", "9999-12-31", True)], RULES,  # the appointments' 2-year limit holds here too
     {"n5.date": "Choose a date within 2 years, on or before 01 Mar 2029."}),
    ([], [OverrideInput("n5", "2027-03-09", True), OverrideInput("n6", "2027-03-09", False, "09:00", "10:00", "both")],
     RULES, {"n6.date": "2027-03-09 is also marked as a day off: keep one or the other."}),
    ([], [], RulesInput(lengths="0, 50", interval_minutes="3", min_notice_hours="-1", horizon_days="400",
                        max_per_day="x"),
     {"lengths": "Lengths must be positive whole minutes from 5 to 480, separated by commas (e.g. 30, 50).",
      "interval_minutes": "The slot interval must be a whole number from 5 to 240.",
      "min_notice_hours": "The minimum notice (hours) must be a whole number from 0 to 720.",
      "horizon_days": "How far ahead (days) must be a whole number from 1 to 365.",
      "max_per_day": "The maximum per day (or blank for no limit) must be a whole number from 1 to 50."}),
])
def test_bad_input_is_refused_field_by_field_and_nothing_is_saved(
        database: str, blocks: list[BlockInput], overrides: list[OverrideInput], rules: RulesInput,
        errors: dict[str, str]) -> None:
    _save(LEE)  # something stored that a refused save must leave alone
    with pytest.raises(AvailabilityInvalid) as refused:
        _save(LEE, blocks=blocks, overrides=overrides, rules=rules)
    assert refused.value.errors == errors
    view = editor.availability_view(principal_of(LEE), user_id(LEE))
    assert [b.start for b in view.blocks] == ["09:00", "13:00"] and view.rules.interval_minutes == "60"
    with unit_of_work() as s:
        assert len(s.exec(select(AuditEvent).where(AuditEvent.action == "availability.saved")).all()) == 1


def test_a_save_keeps_past_overrides_as_history(database: str) -> None:
    _save(LEE, overrides=[OverrideInput("n1", "2027-03-02", True)])
    set_clock(lambda: NOW + timedelta(days=3))
    assert editor.availability_view(principal_of(LEE), user_id(LEE)).overrides == []
    _save(LEE, overrides=[])
    with unit_of_work() as s:
        assert [o.on_date.isoformat() for o in s.exec(select(AvailabilityOverride)).all()] == ["2027-03-02"]


def _book(practitioner: str, start_at: datetime, minutes: int = 50,
          status: AppointmentStatus = AppointmentStatus.BOOKED) -> int:
    with unit_of_work() as s:
        client = s.exec(select(Client).where(Client.email == ALEX)).one()
        appointment = Appointment(practice_id=client.practice_id, practitioner_id=user_id(practitioner),
                                  client_id=client.id or 0, start_at=start_at, duration_minutes=minutes,
                                  status=status)
        s.add(appointment)
        s.flush()
        return appointment.id or 0


def _local_hours(slots: list) -> list[str]:
    from zoneinfo import ZoneInfo

    return [s.start_at.astimezone(ZoneInfo("America/New_York")).strftime("%a %H:%M") for s in slots]


def _connect_zoom(practitioner: str) -> None:
    """A stored working connection (the Zoom side itself is tested in test_zoom_connection)."""
    from rxapp.models import Practice

    with unit_of_work() as s:
        s.exec(select(Practice)).one().allow_zoom = True
        s.get(PractitionerProfile, user_id(practitioner)).telehealth_enabled = True
        s.add(ZoomConnection(practitioner_id=user_id(practitioner), practice_id=s.get(
            PractitionerProfile, user_id(practitioner)).practice_id, zoom_user_id="z-lee", zoom_account_id="acc",
            access_token_encrypted="x", refresh_token_encrypted="x", access_expires_at=NOW + timedelta(hours=1)))


def test_open_slots_for_reads_blocks_overrides_appointments_and_zoom(database: str) -> None:
    _save(LEE, blocks=[BlockInput("n1", 1, "09:00", "12:00", "telehealth"),
                       BlockInput("n2", 2, "09:00", "12:00", "both")],
          overrides=[OverrideInput("n3", "2027-03-09", True)])
    week = (NOW, NOW + timedelta(days=7))
    with unit_of_work() as s:
        result = open_slots_for(s, user_id(LEE), *week)
    # No Zoom: the telehealth block is gone, the Both block is in person, and it says why.
    assert "connect Zoom" in result.telehealth_unavailable or "not allowed" in result.telehealth_unavailable
    assert _local_hours(result.slots) == ["Wed 09:00", "Wed 10:00", "Wed 11:00"]
    assert {s.mode for s in result.slots} == {SlotMode.IN_PERSON}
    _connect_zoom(LEE)
    moved = _book(LEE, datetime(2027, 3, 3, 15, 0, tzinfo=UTC))  # Wed 10:00 New York
    _book(LEE, datetime(2027, 3, 2, 14, 0, tzinfo=UTC), status=AppointmentStatus.CANCELLED)  # frees its time
    with unit_of_work() as s:
        result = open_slots_for(s, user_id(LEE), *week)
        assert result.telehealth_unavailable == ""
        assert [(h, m.value) for h, m in zip(_local_hours(result.slots), [x.mode for x in result.slots],
                                              strict=True)] == [
            ("Tue 09:00", "telehealth"), ("Tue 10:00", "telehealth"), ("Tue 11:00", "telehealth"),
            ("Wed 09:00", "both"), ("Wed 11:00", "both")]
        # Rescheduling the 10:00 appointment does not collide with itself.
        again = open_slots_for(s, user_id(LEE), *week, exclude_appointment_ids=frozenset({moved}))
        assert "Wed 10:00" in _local_hours(again.slots)
        # Next Tuesday is a day off.
        later = open_slots_for(s, user_id(LEE), NOW + timedelta(days=7), NOW + timedelta(days=10))
        assert _local_hours(later.slots) == ["Wed 09:00", "Wed 10:00", "Wed 11:00"]
        wed10 = datetime(2027, 3, 3, 15, 0, tzinfo=UTC)
        assert slot_is_open(s, user_id(LEE), wed10, 50, SlotMode.IN_PERSON) == (
            "That time is no longer open. Please choose another.")
        assert slot_is_open(s, user_id(LEE), wed10, 50, SlotMode.TELEHEALTH, frozenset({moved})) == ""
        assert slot_is_open(s, user_id(LEE), datetime(2027, 3, 2, 14, 0, tzinfo=UTC), 50,
                            SlotMode.IN_PERSON) == "That time is not offered in person."
    # Patel has no availability at all.
    with unit_of_work() as s:
        assert open_slots_for(s, user_id(PATEL), *week).slots == []
        assert s.exec(select(BookingRule).where(col(BookingRule.practitioner_id) == user_id(PATEL))).first() is None
        assert s.exec(select(AvailabilityBlock).where(
            col(AvailabilityBlock.practitioner_id) == user_id(PATEL))).first() is None


def test_the_calendar_week_carries_published_hours_and_the_page_draws_them_as_bands(database: str) -> None:
    from datetime import date

    from rxapp.services.scheduling import calendar
    from tests.integration.page_states import run
    from tests.integration.test_calendar_states import _calendar

    lee, patel = user_id(LEE), user_id(PATEL)
    _save(LEE, overrides=[OverrideInput("n3", "2027-03-03", False, "08:00", "09:00", "both")])
    # Patel (London) works 09:00-10:00 London on Mondays: 04:00-05:00 in New York.
    _save(PATEL, PATEL, blocks=[BlockInput("n1", 0, "09:00", "10:00", "in_person")])
    desk = principal_of(FRONTDESK)
    week = calendar.week_view(desk, date(2027, 3, 1), 7, [lee, patel], "America/New_York")
    assert [(a.practitioner_id, a.start_at, a.end_at, a.mode) for a in week.availability] == [
        (lee, datetime(2027, 3, 2, 14, tzinfo=UTC), datetime(2027, 3, 2, 17, tzinfo=UTC), "telehealth"),
        (lee, datetime(2027, 3, 3, 13, tzinfo=UTC), datetime(2027, 3, 3, 14, tzinfo=UTC), "both"),  # override
        (patel, datetime(2027, 3, 1, 9, tzinfo=UTC), datetime(2027, 3, 1, 10, tzinfo=UTC), "in_person")]

    state = _calendar(FRONTDESK, {"date": "2027-03-01", "view": "week", "p": f"{lee},{patel}"})
    run(state.load())
    columns = {c["key"]: n for n, c in enumerate(state.columns)}
    assert [(b["left"], b["top"], b["height"], b["mode"], b["label"]) for b in state.bands] == [
        (f"calc({columns[f'2027-03-02-{lee}']} * 100% / 14)", "540px", "180px", "telehealth",
         "Telehealth hours 09:00-12:00, Dr. Dana Lee"),
        (f"calc({columns[f'2027-03-03-{lee}']} * 100% / 14)", "480px", "60px", "both",
         "In-person or telehealth hours 08:00-09:00, Dr. Dana Lee"),
        (f"calc({columns[f'2027-03-01-{patel}']} * 100% / 14)", "240px", "60px", "in_person",
         "In-person hours 04:00-05:00, Dr. Priya Patel")]


def _editor_page(email: str, query: dict[str, str]):
    from rxapp.state.availability import AvailabilityState
    from tests.integration.page_states import page_state

    return page_state(AvailabilityState, "/availability", email, query=query)


def test_the_editor_page_keeps_what_was_typed_and_refuses_a_forged_practitioner(database: str) -> None:
    from tests.integration.page_states import run

    lee, patel = user_id(LEE), user_id(PATEL)
    page = _editor_page(LEE, {})
    run(page.load())
    assert (page.practitioner_id, page.practitioner_name, page.blocks) == (lee, "Dr. Dana Lee", [])
    page.add_block(1)
    page.add_block(1)  # the second starts where the first ends
    assert [(b["weekday"], b["start"], b["end"]) for b in page.blocks] == [("1", "09:00", "17:00"),
                                                                           ("1", "17:00", "18:00")]
    first, second = (b["key"] for b in page.blocks)
    page.set_block(second, "start", "16:00")
    page.set_rule("min_notice_hours", "0")
    run(page.save())
    assert page.errors == {f"{second}.start": "Overlaps 09:00 to 17:00 on Tuesday. Blocks of a day must not "
                                              "overlap."}
    assert [b["start"] for b in page.blocks] == ["09:00", "16:00"] and page.min_notice_hours == "0"
    page.remove_block(second)
    assert page.errors == {}
    run(page.save())
    assert page.saved_message.startswith("Saved.") and [b["key"] for b in page.blocks] != [first]
    assert [(b.start, b.end) for b in editor.availability_view(principal_of(LEE), lee).blocks] == [("09:00", "17:00")]

    # Lee opening (or saving for) Patel by a forged id: refused, nothing shown or written.
    forged = _editor_page(LEE, {"p": str(patel)})
    run(forged.load())
    assert forged.practitioner_id == 0 and forged.load_error.startswith("You may not edit")
    page.practitioner_id = patel
    run(page.save())
    with unit_of_work() as s:
        assert s.exec(select(AvailabilityBlock).where(AvailabilityBlock.practitioner_id == patel)).first() is None
    # The front desk picks anyone's.
    desk = _editor_page(FRONTDESK, {"p": str(patel)})
    run(desk.load())
    assert desk.practitioner_name == "Dr. Priya Patel" and len(desk.practitioner_options) == 2
