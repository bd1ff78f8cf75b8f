"""The slot engine (services.scheduling.slots): a pure function, tested without a database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from rxapp.services.scheduling.slots import (
    BookingRules,
    DateOverride,
    Schedule,
    Slot,
    SlotMode,
    WeeklyBlock,
    Window,
    busy_between,
    group_by_local_day,
    open_slots,
    why_not_open,
)

NY = "America/New_York"
NYZ = ZoneInfo(NY)
IN_PERSON, TELEHEALTH, BOTH = SlotMode.IN_PERSON, SlotMode.TELEHEALTH, SlotMode.BOTH
# Easy rules for the tests: 60-minute slots every hour, no notice, a long horizon.
RULES = BookingRules(lengths=(60,), interval_minutes=60, min_notice_hours=0, horizon_days=400)
NOW = datetime(2027, 1, 1, tzinfo=UTC)


def h(hour: int, minute: int = 0) -> int:
    return hour * 60 + minute


def block(weekday: int, start: int, end: int, mode: SlotMode = IN_PERSON) -> WeeklyBlock:
    return WeeklyBlock(weekday, Window(start, end, mode))


def every_day(start: int, end: int, mode: SlotMode = IN_PERSON) -> tuple[WeeklyBlock, ...]:
    return tuple(block(d, start, end, mode) for d in range(7))


def local(day: date, hour: int, minute: int = 0, zone: str = NY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(zone))


def day_slots(schedule: Schedule, day: date, now: datetime = NOW, length: int | None = None) -> list[Slot]:
    zone = ZoneInfo(schedule.timezone)
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    return open_slots(schedule, start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC), now, length)


def local_times(slots: list[Slot], zone: str = NY) -> list[str]:
    return [s.start_at.astimezone(ZoneInfo(zone)).strftime("%H:%M") for s in slots]


TUESDAY = date(2027, 3, 2)  # a Tuesday in winter


def test_a_block_gives_slots_on_its_weekday_only_in_utc_with_its_mode() -> None:
    schedule = Schedule(NY, (block(1, h(9), h(12), TELEHEALTH),), rules=RULES)
    slots = day_slots(schedule, TUESDAY)
    assert local_times(slots) == ["09:00", "10:00", "11:00"]
    assert all(s.start_at.tzinfo == UTC and s.mode == TELEHEALTH and s.length_minutes == 60 for s in slots)
    assert slots[0].start_at == datetime(2027, 3, 2, 14, 0, tzinfo=UTC)
    assert day_slots(schedule, TUESDAY + timedelta(days=1)) == []


def test_several_blocks_a_day_each_keep_their_mode() -> None:
    schedule = Schedule(NY, (block(1, h(9), h(11), TELEHEALTH), block(1, h(13), h(15), BOTH)), rules=RULES)
    slots = day_slots(schedule, TUESDAY)
    assert [(t, s.mode) for t, s in zip(local_times(slots), slots, strict=True)] == [
        ("09:00", TELEHEALTH), ("10:00", TELEHEALTH), ("13:00", BOTH), ("14:00", BOTH)]


def test_interval_and_several_lengths() -> None:
    rules = replace(RULES, lengths=(30, 50), interval_minutes=30)
    schedule = Schedule(NY, (block(1, h(9), h(10, 30)),), rules=rules)
    slots = day_slots(schedule, TUESDAY)
    assert [(t, s.length_minutes) for t, s in zip(local_times(slots), slots, strict=True)] == [
        ("09:00", 30), ("09:00", 50), ("09:30", 30), ("09:30", 50), ("10:00", 30)]
    assert local_times(day_slots(schedule, TUESDAY, length=50)) == ["09:00", "09:30"]
    assert day_slots(schedule, TUESDAY, length=45) == []


def test_a_day_off_override_removes_the_day_and_different_hours_replace_it() -> None:
    blocks = (block(1, h(9), h(12)),)
    off = Schedule(NY, blocks, overrides=(DateOverride(TUESDAY),), rules=RULES)
    assert day_slots(off, TUESDAY) == []
    assert local_times(day_slots(off, TUESDAY + timedelta(days=7))) == ["09:00", "10:00", "11:00"]
    other = Schedule(NY, blocks, overrides=(DateOverride(TUESDAY, (Window(h(14), h(16), TELEHEALTH),)),), rules=RULES)
    slots = day_slots(other, TUESDAY)
    assert local_times(slots) == ["14:00", "15:00"] and {s.mode for s in slots} == {TELEHEALTH}
    # An override can open a day that has no weekly block at all.
    wednesday = TUESDAY + timedelta(days=1)
    extra = Schedule(NY, blocks, overrides=(DateOverride(wednesday, (Window(h(8), h(9), IN_PERSON),)),), rules=RULES)
    assert local_times(day_slots(extra, wednesday)) == ["08:00"]


def test_appointments_take_their_time_and_buffers_keep_space_on_both_sides() -> None:
    appointment = busy_between(local(TUESDAY, 11), local(TUESDAY, 12))
    plain = Schedule(NY, (block(1, h(9), h(15)),), rules=replace(RULES, interval_minutes=30), busy=(appointment,))
    assert local_times(day_slots(plain, TUESDAY)) == [
        "09:00", "09:30", "10:00", "12:00", "12:30", "13:00", "13:30", "14:00"]
    buffered = replace(plain, rules=replace(plain.rules, buffer_before_minutes=15, buffer_after_minutes=30))
    # A slot must end 30 min (the larger buffer) before 11:00 and start 30 min after 12:00.
    assert local_times(day_slots(buffered, TUESDAY)) == ["09:00", "09:30", "12:30", "13:00", "13:30", "14:00"]


def test_buffers_do_not_trim_the_block_edges() -> None:
    rules = replace(RULES, buffer_before_minutes=30, buffer_after_minutes=30)
    schedule = Schedule(NY, (block(1, h(9), h(11)),), rules=rules)
    assert local_times(day_slots(schedule, TUESDAY)) == ["09:00", "10:00"]


def test_appointments_straddling_block_edges() -> None:
    schedule = Schedule(NY, (block(1, h(9), h(13)),), rules=replace(RULES, interval_minutes=30), busy=(
        busy_between(local(TUESDAY, 8, 30), local(TUESDAY, 9, 30)),   # starts before the block
        busy_between(local(TUESDAY, 12, 30), local(TUESDAY, 13, 30)),  # ends after it
    ))
    assert local_times(day_slots(schedule, TUESDAY)) == ["09:30", "10:00", "10:30", "11:00", "11:30"]
    # An appointment that started the evening before and runs past the block's start (UTC day boundary).
    late = Schedule(NY, (block(1, h(0), h(3)),), rules=RULES,
                    busy=(busy_between(local(TUESDAY - timedelta(days=1), 23), local(TUESDAY, 1, 30)),))
    assert local_times(day_slots(late, TUESDAY)) == ["02:00"]
    assert local_times(day_slots(replace(late, rules=replace(RULES, interval_minutes=30)), TUESDAY)) == [
        "01:30", "02:00"]


def test_minimum_notice_and_horizon() -> None:
    schedule = Schedule(NY, every_day(h(9), h(17)), rules=replace(RULES, min_notice_hours=24, horizon_days=3))
    now = local(TUESDAY, 10, 30)
    assert day_slots(schedule, TUESDAY, now) == []
    # Wednesday: from 10:30 the next day (24 h later), so 11:00 is the first full-hour slot.
    assert local_times(day_slots(schedule, TUESDAY + timedelta(days=1), now))[0] == "11:00"
    # Friday: slots must start before now + 3 days = Friday 10:30.
    assert local_times(day_slots(schedule, TUESDAY + timedelta(days=3), now)) == ["09:00", "10:00"]
    assert day_slots(schedule, TUESDAY + timedelta(days=4), now) == []
    assert why_not_open(schedule, local(TUESDAY, 15).astimezone(UTC), 60, IN_PERSON, now) == (
        "Sessions must be booked at least 24 hours ahead.")
    assert why_not_open(schedule, local(TUESDAY + timedelta(days=3), 11).astimezone(UTC), 60, IN_PERSON, now) == (
        "Sessions can be booked at most 3 days ahead.")


def test_maximum_bookings_per_local_day() -> None:
    rules = replace(RULES, max_per_day=2)
    busy = (busy_between(local(TUESDAY, 9), local(TUESDAY, 10)),)
    schedule = Schedule(NY, (block(1, h(9), h(17)),), rules=rules, busy=busy)
    assert len(day_slots(schedule, TUESDAY)) == 7
    # A second appointment at 20:00 New York is already the next day in UTC, but the same local day.
    full = replace(schedule, busy=(*busy, busy_between(local(TUESDAY, 20), local(TUESDAY, 21))))
    assert day_slots(full, TUESDAY) == []
    assert why_not_open(full, local(TUESDAY, 14).astimezone(UTC), 60, IN_PERSON, NOW) == "That day is fully booked."


def _dst_day(zone: str, day: date, expect_hours: float) -> None:
    schedule = Schedule(zone, every_day(h(9), h(17)), rules=RULES)
    slots = day_slots(schedule, day)
    assert local_times(slots, zone) == [f"{x:02d}:00" for x in range(9, 17)]
    first, last = slots[0].start_at, slots[-1].end_at
    assert (first.astimezone(ZoneInfo(zone)).hour, last.astimezone(ZoneInfo(zone)).hour) == (9, 17)
    # The day before is on the other offset: 09:00 local is a different UTC hour.
    before = day_slots(schedule, day - timedelta(days=1))[0].start_at
    assert before.astimezone(ZoneInfo(zone)).hour == 9
    assert before.hour != first.hour
    # The day is 23 or 25 hours long; a 09:00-17:00 block is 8 real hours either way.
    assert (last - first) == timedelta(hours=8)
    start = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone))
    next_start = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=ZoneInfo(zone))
    assert (next_start - start.astimezone(UTC)).total_seconds() / 3600 == expect_hours


def test_dst_spring_forward_new_york_keeps_nine_to_five() -> None:
    _dst_day(NY, date(2027, 3, 14), 23)


def test_dst_autumn_back_new_york_keeps_nine_to_five() -> None:
    _dst_day(NY, date(2027, 11, 7), 25)


def test_dst_southern_hemisphere_both_directions() -> None:
    # Sydney: clocks go back on the first Sunday of April, forward on the first Sunday of October.
    _dst_day("Australia/Sydney", date(2027, 4, 4), 25)
    _dst_day("Australia/Sydney", date(2027, 10, 3), 23)


def test_blocks_across_the_changing_hour_nonexistent_and_ambiguous_times() -> None:
    spring, autumn = date(2027, 3, 14), date(2027, 11, 7)
    schedule = Schedule(NY, every_day(h(1), h(4)), rules=RULES)
    # Spring: 02:00-03:00 does not exist; the block 01:00-04:00 is two real hours.
    assert local_times(day_slots(schedule, spring)) == ["01:00", "03:00"]
    # A block starting inside the gap (02:30) begins after it, at 03:30 EDT.
    gap = Schedule(NY, every_day(h(2, 30), h(5)), rules=RULES)
    assert local_times(day_slots(gap, spring)) == ["03:30"]
    # Autumn: 01:00-02:00 happens twice; the block 01:00-04:00 is four real hours, from the first 01:00.
    slots = day_slots(schedule, autumn)
    assert local_times(slots) == ["01:00", "01:00", "02:00", "03:00"]
    assert [s.start_at.hour for s in slots] == [5, 6, 7, 8]


def test_telehealth_unavailable_drops_telehealth_and_makes_both_in_person() -> None:
    schedule = Schedule(NY, (block(1, h(9), h(10), TELEHEALTH), block(1, h(10), h(11), BOTH),
                             block(1, h(11), h(12), IN_PERSON)), rules=RULES, telehealth_ok=False)
    slots = day_slots(schedule, TUESDAY)
    assert [(t, s.mode) for t, s in zip(local_times(slots), slots, strict=True)] == [
        ("10:00", IN_PERSON), ("11:00", IN_PERSON)]
    at = local(TUESDAY, 10).astimezone(UTC)
    assert why_not_open(schedule, at, 60, TELEHEALTH, NOW, "Dr. Lee must connect Zoom") == (
        "Telehealth cannot be booked: Dr. Lee must connect Zoom.")
    assert why_not_open(schedule, at, 60, IN_PERSON, NOW) == ""


def test_why_not_open_checks_mode_length_and_taken_times() -> None:
    schedule = Schedule(NY, (block(1, h(9), h(10), TELEHEALTH), block(1, h(10), h(12), BOTH)), rules=RULES,
                        busy=(busy_between(local(TUESDAY, 11), local(TUESDAY, 12)),))
    at9, at10, at11 = (local(TUESDAY, x).astimezone(UTC) for x in (9, 10, 11))
    assert why_not_open(schedule, at9, 60, TELEHEALTH, NOW) == ""
    assert why_not_open(schedule, at9, 60, IN_PERSON, NOW) == "That time is not offered in person."
    assert why_not_open(schedule, at10, 60, IN_PERSON, NOW) == ""
    assert why_not_open(schedule, at10, 60, TELEHEALTH, NOW) == ""
    assert why_not_open(schedule, at11, 60, IN_PERSON, NOW) == "That time is no longer open. Please choose another."
    assert why_not_open(schedule, at9 + timedelta(minutes=15), 60, TELEHEALTH, NOW) == (
        "That time is no longer open. Please choose another.")
    assert why_not_open(schedule, at9, 45, TELEHEALTH, NOW).startswith("45-minute sessions are not offered")


def test_client_in_another_timezone_gets_utc_slots_grouped_by_their_local_day() -> None:
    # A New York practitioner's 17:00-21:00 block is the next morning in Sydney (UTC+11 in March).
    schedule = Schedule(NY, (block(1, h(17), h(21), TELEHEALTH),), rules=RULES)
    slots = day_slots(schedule, TUESDAY)
    assert slots[0].start_at == datetime(2027, 3, 2, 22, 0, tzinfo=UTC)
    groups = group_by_local_day(slots, "Australia/Sydney")
    assert [day for day, _ in groups] == [date(2027, 3, 3)]
    assert local_times(groups[0][1], "Australia/Sydney") == ["09:00", "10:00", "11:00", "12:00"]
    # In Honolulu (UTC-10) the same slots are Tuesday midday.
    groups = group_by_local_day(slots, "Pacific/Honolulu")
    assert [day for day, _ in groups] == [TUESDAY]
    # Split across two client days: London sees 22:00-23:00 Tuesday and 00:00-01:00 Wednesday.
    london = group_by_local_day(slots, "Europe/London")
    assert [(day, len(items)) for day, items in london] == [(TUESDAY, 2), (TUESDAY + timedelta(days=1), 2)]


def test_a_range_returns_only_slots_starting_inside_it() -> None:
    schedule = Schedule(NY, every_day(h(9), h(17)), rules=RULES)
    start = local(TUESDAY, 12).astimezone(UTC)
    slots = open_slots(schedule, start, start + timedelta(days=2), NOW)
    assert slots[0].start_at == start and slots[-1].start_at < start + timedelta(days=2)
    assert len(slots) == 5 + 8 + 3
