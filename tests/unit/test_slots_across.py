"""The slot engine's one pass and its practice-wide merge (services.scheduling.slots.open_slots_across),
checked against the rules applied the slow way: every candidate start against every appointment."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from rxapp.services.scheduling.slots import (
    BookingRules,
    Busy,
    DateOverride,
    Schedule,
    Slot,
    SlotMode,
    WeeklyBlock,
    Window,
    busy_between,
    offered_mode,
    open_slots,
    open_slots_across,
    to_utc,
    windows_on,
)

NY, LONDON, SYDNEY, LORD_HOWE = "America/New_York", "Europe/London", "Australia/Sydney", "Australia/Lord_Howe"
IN_PERSON, TELEHEALTH, BOTH = SlotMode.IN_PERSON, SlotMode.TELEHEALTH, SlotMode.BOTH
RULES = BookingRules(lengths=(60,), interval_minutes=60, min_notice_hours=0, horizon_days=400)
NOW = datetime(2027, 1, 1, tzinfo=UTC)
TUESDAY = date(2027, 3, 2)


def every_candidate(schedule: Schedule, start: datetime, end: datetime, now: datetime,
                    length: int | None = None) -> list[Slot]:
    """The module's rules with nothing clever: each window's every step, checked against every
    appointment widened by the larger buffer; sorted by start then length, ties as generated."""
    rules = schedule.rules
    lengths = rules.lengths if length is None else tuple(x for x in rules.lengths if x == length)
    zone = ZoneInfo(schedule.timezone)
    earliest = max(start, now + timedelta(hours=rules.min_notice_hours))
    latest = min(end, now + timedelta(days=rules.horizon_days))
    if not lengths or rules.interval_minutes <= 0 or earliest >= latest:
        return []
    gap = max(rules.buffer_before_minutes, rules.buffer_after_minutes) * 60
    per_day = Counter(datetime.fromtimestamp(begin, zone).date() for begin, _ in schedule.busy)
    found: list[Slot] = []
    day = earliest.astimezone(zone).date() - timedelta(days=1)
    while day <= latest.astimezone(zone).date() + timedelta(days=1):
        if rules.max_per_day is None or per_day[day] < rules.max_per_day:
            for window in windows_on(schedule, day):
                mode = offered_mode(window.mode, schedule.telehealth_ok)
                if mode is None:
                    continue
                begin = int(to_utc(day, window.start_minute, zone).timestamp())
                finish = int(to_utc(day, window.end_minute, zone).timestamp())
                for minutes in lengths:
                    span = minutes * 60
                    for at in range(begin, finish - span + 1, rules.interval_minutes * 60):
                        clear = all(at + span <= b - gap or at >= e + gap for b, e in schedule.busy)
                        if earliest.timestamp() <= at < latest.timestamp() and clear:
                            found.append(Slot(datetime.fromtimestamp(at, UTC), minutes, mode))
        day += timedelta(days=1)
    return sorted(found, key=lambda s: (s.start_at, s.length_minutes))


def union(schedules: dict[int, Schedule], start: datetime, end: datetime, now: datetime,
          length: int | None = None) -> list[tuple[int, Slot]]:
    """Each practitioner's `open_slots`, one after the other, then sorted (stably) by start and length."""
    pairs = [(pid, slot) for pid, schedule in schedules.items()
             for slot in open_slots(schedule, start, end, now, length)]
    return sorted(pairs, key=lambda pair: (pair[1].start_at, pair[1].length_minutes))


def random_schedule(rng: random.Random, around: datetime) -> Schedule:
    """Hours, overrides, rules and appointments of every kind the engine meets, near `around`."""
    zone = rng.choice((NY, LONDON, SYDNEY, LORD_HOWE))
    modes = list(SlotMode)
    blocks = tuple(WeeklyBlock(rng.randrange(7), Window(begin, min(1440, begin + rng.choice((30, 90, 180, 300))),
                                                        rng.choice(modes)))
                   for begin in (rng.randrange(0, 1380, 15) for _ in range(rng.randrange(0, 10))))
    first_day = around.date()
    overrides = tuple(DateOverride(first_day + timedelta(days=n), tuple(
        Window(begin, min(1440, begin + rng.choice((60, 120, 240))), rng.choice(modes))
        for begin in (rng.randrange(0, 1380, 30) for _ in range(rng.randrange(0, 3)))))
        for n in rng.sample(range(-2, 12), rng.randrange(0, 4)))
    rules = BookingRules(lengths=tuple(sorted(rng.sample((20, 30, 45, 50, 60, 90), rng.randrange(1, 3)))),
                         interval_minutes=rng.choice((10, 15, 20, 30, 60)),
                         buffer_before_minutes=rng.choice((0, 5, 10, 15)), buffer_after_minutes=rng.choice((0, 10, 30)),
                         min_notice_hours=rng.choice((0, 2, 24)), horizon_days=rng.choice((3, 8, 60)),
                         max_per_day=rng.choice((None, None, 1, 3)))
    busy: list[Busy] = []
    for _ in range(rng.randrange(0, 40)):
        begin = around + timedelta(minutes=rng.randrange(-2 * 1440, 12 * 1440, rng.choice((1, 5, 15))),
                                   microseconds=rng.choice((0, 0, 250_000)))
        busy.append(busy_between(begin, begin + timedelta(minutes=rng.choice((0, 15, 30, 50, 60, 120)))))
    return Schedule(zone, blocks, overrides, rules, tuple(busy), telehealth_ok=rng.random() < 0.7)


# Days around clock changes: New York's spring and autumn, London's spring, Sydney's and Lord Howe's
# (half an hour) autumn and spring; and an ordinary week.
AROUND = [datetime(2027, 3, 12, tzinfo=UTC), datetime(2027, 11, 5, tzinfo=UTC), datetime(2027, 3, 26, tzinfo=UTC),
          datetime(2027, 4, 2, tzinfo=UTC), datetime(2027, 10, 1, tzinfo=UTC), datetime(2027, 6, 7, tzinfo=UTC)]


@pytest.mark.parametrize("around", AROUND, ids=lambda d: d.date().isoformat())
def test_one_pass_gives_what_checking_every_candidate_gives(around: datetime) -> None:
    rng = random.Random(around.toordinal())
    offered = 0
    for _ in range(60):
        schedule = random_schedule(rng, around)
        now = around + timedelta(hours=rng.randrange(-72, 24), seconds=rng.randrange(3600), microseconds=123_456)
        start = around + timedelta(hours=rng.randrange(-24, 24), seconds=rng.choice((0, 1, 1799)))
        end = start + timedelta(days=rng.choice((1, 4, 9)))
        length = rng.choice((None, None, 30, 60))
        expected = every_candidate(schedule, start, end, now, length)
        assert open_slots(schedule, start, end, now, length) == expected
        offered += len(expected)
    assert offered > 100  # the cases offer slots, not only empty weeks


def test_practice_wide_slots_are_each_practitioners_merged_in_the_given_order() -> None:
    monday_9 = to_utc(TUESDAY - timedelta(days=1), 9 * 60, ZoneInfo(NY))
    hours = (WeeklyBlock(0, Window(9 * 60, 12 * 60, BOTH)),)
    first = Schedule(NY, hours, rules=RULES, busy=(busy_between(monday_9 + timedelta(hours=1),
                                                                monday_9 + timedelta(hours=2)),))
    # The same hours twice over (overlapping blocks), and no telehealth: Both gives in person.
    second = Schedule(NY, (*hours, WeeklyBlock(0, Window(10 * 60, 11 * 60, TELEHEALTH)),
                           WeeklyBlock(0, Window(10 * 60, 11 * 60, IN_PERSON))), rules=RULES, telehealth_ok=False)
    start, end = monday_9 - timedelta(hours=9), monday_9 + timedelta(days=1)
    merged = list(open_slots_across({7: first, 3: second}, start, end, NOW).pairs())
    assert [(pid, slot.start_at.astimezone(ZoneInfo(NY)).hour, slot.mode) for pid, slot in merged] == [
        (7, 9, BOTH), (3, 9, IN_PERSON), (3, 10, IN_PERSON), (3, 10, IN_PERSON), (7, 11, BOTH), (3, 11, IN_PERSON)]
    assert merged == union({7: first, 3: second}, start, end, NOW)
    # The order asked for decides ties.
    assert open_slots_across({3: second, 7: first}, start, end, NOW).practitioner_ids[:2] == [3, 7]


def test_practice_wide_slots_equal_the_union_for_many_practitioners_lengths_and_clock_changes() -> None:
    rng = random.Random(26)
    for around in AROUND:
        schedules = {pid: random_schedule(rng, around) for pid in rng.sample(range(1, 100), 12)}
        start, end = around - timedelta(days=1), around + timedelta(days=9)
        for length in (None, 30, 60):
            merged = open_slots_across(schedules, start, end, around, length)
            assert list(merged.pairs()) == union(schedules, start, end, around, length)
    nobody = open_slots_across({}, NOW, NOW + timedelta(days=7), NOW)
    assert (nobody.practitioner_ids, nobody.slots) == ([], [])



def test_notice_and_range_bounds_hold_to_the_microsecond() -> None:
    schedule = Schedule(NY, (WeeklyBlock(1, Window(9 * 60, 12 * 60, IN_PERSON)),),
                        rules=BookingRules(lengths=(60,), interval_minutes=60, min_notice_hours=1, horizon_days=400))
    nine = to_utc(TUESDAY, 9 * 60, ZoneInfo(NY))
    day_start, hour, tick = nine - timedelta(hours=9), timedelta(hours=1), timedelta(microseconds=1)

    def starts(now: datetime, end: datetime) -> list[int]:
        found = open_slots(schedule, day_start, end, now)
        assert found == every_candidate(schedule, day_start, end, now)
        return [slot.start_at.astimezone(ZoneInfo(NY)).hour for slot in found]

    assert starts(nine - hour, nine + 3 * hour) == [9, 10, 11]  # the notice ends at 09:00 itself
    assert starts(nine - hour + tick, nine + 3 * hour) == [10, 11]  # a microsecond later: 09:00 is too soon
    assert starts(nine - hour, nine + 2 * hour) == [9, 10]  # a slot starting at the end is outside
    assert starts(nine - hour, nine + 2 * hour + tick) == [9, 10, 11]
