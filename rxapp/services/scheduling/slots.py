"""The slot engine: which times a client may book with a practitioner. A pure function over plain
values (stdlib + zoneinfo only; no database, no UI) so every rule is unit-testable;
services.scheduling.availability loads the rows and calls it.

Open slots = the practitioner's weekly blocks (or a date's override instead) minus existing
appointments (with buffers), minimum notice, horizon and the day's maximum of bookings, found in one
pass: each window minus the appointments merged into sorted spans. `open_slots_across` does it for
several practitioners and merges their slots into one list (a client who lets the practice choose).

Time rules, decided once here:
- Blocks and overrides are local wall-clock times in the practitioner's time zone; a 09:00-17:00
  block is 09:00-17:00 local on every day, including the days clocks change. Slots are aware UTC;
  showing them in the client's zone is the caller's (`group_by_local_day` helps the portal).
- A block is the real time between its local start and its local end; its slots step in real
  minutes from the block's start. A local time that does not exist (the spring-forward gap, e.g.
  02:30 in New York) is read with the offset in force before the change, so it lands after the gap
  (02:30 -> 03:30 EDT); a local time that happens twice (the autumn hour) means its first occurrence
  (zoneinfo's fold=0). So a block 01:00-04:00 on the spring day is two real hours long and on the
  autumn day four; blocks inside ordinary hours are untouched.
- Buffers keep time free around appointments: a slot's own buffers must not cover an appointment and
  an appointment's buffers must not cover the slot (so a slot and an appointment are at least
  max(before, after) minutes apart). Buffers never trim a block's edges.
- Minimum notice: a slot starts at least `min_notice_hours` after now. Horizon: it starts before
  now + `horizon_days`.
- Maximum per day: a local day (practitioner's zone) that already holds `max_per_day` appointments
  offers nothing more.
- Telehealth: without telehealth (not enabled, or no working Zoom connection) a Telehealth block offers
  nothing and a Both block offers in-person slots only.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 24 * 60


class SlotMode(StrEnum):
    IN_PERSON = "in_person"
    TELEHEALTH = "telehealth"
    BOTH = "both"


MODE_LABELS = {SlotMode.IN_PERSON: "In person", SlotMode.TELEHEALTH: "Telehealth", SlotMode.BOTH: "Both"}


@dataclass(frozen=True)
class Slot:
    """A bookable time: `start_at` aware UTC, for `length_minutes`, in the block's mode."""

    start_at: datetime
    length_minutes: int
    mode: SlotMode

    @property
    def end_at(self) -> datetime:
        return self.start_at + timedelta(minutes=self.length_minutes)


@dataclass(frozen=True)
class SlotsResult:
    slots: list[Slot]
    telehealth_unavailable: str  # "" when telehealth slots are offered, else why not


@dataclass(frozen=True)
class PracticeSlots:
    """Open slots of several practitioners: `slots[i]` is offered by `practitioner_ids[i]`, sorted by
    start then length, equal ones in the order the practitioners were given. Two lists rather than
    a list of pairs: a practice's month holds thousands, and as many pairs would be as many more
    objects for the garbage collector to follow."""

    practitioner_ids: list[int]
    slots: list[Slot]
    telehealth_unavailable: dict[int, str] = field(default_factory=dict)  # by practitioner: "" or why not

    def pairs(self) -> Iterator[tuple[int, Slot]]:
        """(practitioner id, slot), in order."""
        return zip(self.practitioner_ids, self.slots, strict=True)


@dataclass(frozen=True)
class Window:
    """Local wall-clock minutes after midnight, [start_minute, end_minute); end may be 1440."""

    start_minute: int
    end_minute: int
    mode: SlotMode


@dataclass(frozen=True)
class WeeklyBlock:
    weekday: int  # Monday 0 ... Sunday 6
    window: Window


@dataclass(frozen=True)
class DateOverride:
    """One date's hours instead of its weekly blocks; no windows means a day off."""

    on: date
    windows: tuple[Window, ...] = ()


@dataclass(frozen=True)
class BookingRules:
    lengths: tuple[int, ...] = (50,)
    interval_minutes: int = 30
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    min_notice_hours: int = 24
    horizon_days: int = 60
    max_per_day: int | None = None  # None: no limit
    new_clients_may_self_book: bool = True


# An existing appointment of the practitioner: (start, end) in whole UTC seconds, [start, end). Plain
# numbers because a practice's month holds thousands of them (`busy_between` takes aware datetimes).
Busy = tuple[int, int]


def busy_between(start_at: datetime, end_at: datetime) -> Busy:
    return int(start_at.timestamp()), int(end_at.timestamp())


@dataclass(frozen=True)
class Schedule:
    """Everything the engine needs about one practitioner."""

    timezone: str
    blocks: tuple[WeeklyBlock, ...]
    overrides: tuple[DateOverride, ...] = ()
    rules: BookingRules = field(default_factory=BookingRules)
    busy: tuple[Busy, ...] = ()
    telehealth_ok: bool = True


def to_utc(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """Local wall-clock `minute` of `day` in `zone` as aware UTC (see the module's time rules:
    nonexistent times land after the gap, ambiguous ones mean the first occurrence)."""
    local = datetime.combine(day, time()) + timedelta(minutes=minute)  # naive; 1440 is next midnight
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def windows_on(schedule: Schedule, day: date) -> tuple[Window, ...]:
    """The windows of one local date: its override's if it has one, else its weekday's blocks."""
    for override in schedule.overrides:
        if override.on == day:
            return override.windows
    weekday = day.weekday()
    return tuple(block.window for block in schedule.blocks if block.weekday == weekday)


def offered_mode(mode: SlotMode, telehealth_ok: bool) -> SlotMode | None:
    """The mode a block offers once telehealth availability is known (None: nothing)."""
    if telehealth_ok:
        return mode
    return None if mode == SlotMode.TELEHEALTH else SlotMode.IN_PERSON


class _BusyIndex:
    """Appointments widened by the buffer gap and merged, in whole UTC seconds. The merged spans are
    disjoint and sorted (so their ends ascend too): a window's free time is the window minus them,
    found with one bisection and a walk over the spans inside the window."""

    def __init__(self, busy: Iterable[Busy], gap: timedelta) -> None:
        pad = int(gap.total_seconds())
        starts: list[int] = []
        ends: list[int] = []
        for begin, finish in sorted(busy):
            begin, finish = begin - pad, finish + pad
            if ends and begin < ends[-1]:
                ends[-1] = max(ends[-1], finish)
            else:
                starts.append(begin)
                ends.append(finish)
        self.starts, self.ends = starts, ends

    def free_within(self, begin: int, end: int) -> list[tuple[int, int]]:
        """The stretches of [begin, end) clear of every span, in order (a slot fits one of them
        when it keeps clear of every appointment and its buffers)."""
        starts, ends = self.starts, self.ends
        stretches: list[tuple[int, int]] = []
        i = bisect.bisect_right(ends, begin)  # the first span still running at `begin`
        free_from = begin
        while i < len(starts) and starts[i] < end:
            if starts[i] > free_from:
                stretches.append((free_from, starts[i]))
            free_from = ends[i]
            i += 1
        if free_from < end:
            stretches.append((free_from, end))
        return stretches


def _count_by_local_day(busy: Iterable[Busy], timezone: str) -> dict[date, int]:
    counts: dict[date, int] = {}
    for begin, _ in busy:
        day = _local_day(begin, timezone)
        counts[day] = counts.get(day, 0) + 1
    return counts


@lru_cache(maxsize=8192)
def _local_day(seconds: int, timezone: str) -> date:
    """The local date of a UTC instant; remembered, as appointments start at the same few times."""
    return datetime.fromtimestamp(seconds, ZoneInfo(timezone)).date()


@lru_cache(maxsize=8192)
def _utc_seconds(day: date, minute: int, timezone: str) -> int:
    """`to_utc` in whole UTC seconds; remembered, as every practitioner of a zone shares the same
    window edges."""
    return int(to_utc(day, minute, ZoneInfo(timezone)).timestamp())


# An open slot while they are collected: (start in UTC seconds, length, practitioner's rank, window's
# number, mode's position in _MODES, practitioner id). The first four never repeat, so a plain sort
# orders slots by start and length, then by the practitioners' order, then by each one's windows as
# generated. Numbers only: the garbage collector stops following such tuples, and a practice's month
# makes thousands of them.
_Found = tuple[int, int, int, int, int, int]
_MODES = tuple(SlotMode)


def _collect(schedule: Schedule, start: datetime, end: datetime, now: datetime, length: int | None,
             found: list[_Found], rank: int = 0, practitioner_id: int = 0) -> None:
    """Add the schedule's open slots to `found`, unsorted. One pass: each day's windows, each minus
    the merged appointments."""
    rules = schedule.rules
    lengths = rules.lengths if length is None else tuple(x for x in rules.lengths if x == length)
    if not lengths or rules.interval_minutes <= 0:
        return
    zone = ZoneInfo(schedule.timezone)
    earliest = max(start, now + timedelta(hours=rules.min_notice_hours))
    latest = min(end, now + timedelta(days=rules.horizon_days))
    if earliest >= latest:
        return
    # The buffer rule: a slot's own buffers must not cover an appointment, nor an appointment's the
    # slot, so each appointment is widened by the larger buffer.
    gap = timedelta(minutes=max(rules.buffer_before_minutes, rules.buffer_after_minutes))
    index = _BusyIndex(schedule.busy, gap)
    per_day = _count_by_local_day(schedule.busy, schedule.timezone) if rules.max_per_day is not None else {}
    step = rules.interval_minutes * 60
    spans = [(minutes, minutes * 60) for minutes in lengths]
    # Whole seconds: an integer start is >= earliest (< latest) exactly when it is >= (<) the ceiling.
    lo, hi = math.ceil(earliest.timestamp()), math.ceil(latest.timestamp())
    add = found.append
    window_number = 0
    # One local day either side: a window of a local day may start before `start` in UTC terms.
    day = earliest.astimezone(zone).date() - timedelta(days=1)
    last_day = latest.astimezone(zone).date() + timedelta(days=1)
    while day <= last_day:
        if rules.max_per_day is not None and per_day.get(day, 0) >= rules.max_per_day:
            day += timedelta(days=1)
            continue
        for window in windows_on(schedule, day):
            mode = offered_mode(window.mode, schedule.telehealth_ok)
            if mode is None:
                continue
            mode_number = _MODES.index(mode)
            window_number += 1
            window_start = _utc_seconds(day, window.start_minute, schedule.timezone)
            window_end = _utc_seconds(day, window.end_minute, schedule.timezone)
            if window_start >= hi or window_end <= lo:
                continue
            for free_from, free_to in index.free_within(window_start, window_end):
                # Starts step from the window's start: the first at or after the stretch's (and `lo`),
                # the last leaving room for the slot (and before `hi`).
                first = window_start - (window_start - max(free_from, lo)) // step * step
                for minutes, span in spans:
                    at, last = first, min(free_to - span, hi - 1)
                    while at <= last:
                        add((at, minutes, rank, window_number, mode_number, practitioner_id))
                        at += step
        day += timedelta(days=1)


def open_slots(schedule: Schedule, start: datetime, end: datetime, now: datetime,
               length: int | None = None) -> list[Slot]:
    """Open slots starting in [start, end) (aware), sorted by start then length. `length` None
    means every length the practitioner offers; a length not offered gives no slots."""
    found: list[_Found] = []
    _collect(schedule, start, end, now, length, found)
    found.sort()
    return [Slot(datetime.fromtimestamp(at, UTC), minutes, _MODES[mode]) for at, minutes, _, _, mode, _ in found]


def open_slots_across(schedules: Mapping[int, Schedule], start: datetime, end: datetime, now: datetime,
                      length: int | None = None) -> PracticeSlots:
    """Every practitioner's open slots starting in [start, end), as `open_slots` gives them, merged
    (sorted by start then length; equal ones in the order of `schedules`, practitioner id ->
    schedule, each practitioner's own in their `open_slots` order)."""
    found: list[_Found] = []
    for rank, (practitioner_id, schedule) in enumerate(schedules.items()):
        _collect(schedule, start, end, now, length, found, rank, practitioner_id)
    found.sort()
    # Practitioners share most of their times: one Slot per distinct value (Slots are immutable).
    made: dict[tuple[int, int, int], Slot] = {}
    slots: list[Slot] = []
    practitioner_ids: list[int] = []
    for at, minutes, _, _, mode, practitioner_id in found:
        slot = made.get((at, minutes, mode))
        if slot is None:
            slot = made[(at, minutes, mode)] = Slot(datetime.fromtimestamp(at, UTC), minutes, _MODES[mode])
        slots.append(slot)
        practitioner_ids.append(practitioner_id)
    return PracticeSlots(practitioner_ids=practitioner_ids, slots=slots)


def why_not_open(schedule: Schedule, start_at: datetime, length: int, mode: SlotMode, now: datetime,
                 telehealth_problem: str = "") -> str:
    """Why a client may not book `start_at` for `length` minutes in `mode` ('' when they may).
    `mode` is what the client chose: in person or telehealth (Both asks for a slot that offers both)."""
    rules = schedule.rules
    if length not in rules.lengths:
        offered = ", ".join(str(x) for x in rules.lengths) or "none"
        return f"{length}-minute sessions are not offered (lengths offered: {offered} minutes)."
    if start_at < now + timedelta(hours=rules.min_notice_hours):
        return f"Sessions must be booked at least {rules.min_notice_hours} hours ahead."
    if start_at >= now + timedelta(days=rules.horizon_days):
        return f"Sessions can be booked at most {rules.horizon_days} days ahead."
    if mode != SlotMode.IN_PERSON and not schedule.telehealth_ok:
        return f"Telehealth cannot be booked: {telehealth_problem or 'not available'}."
    zone = ZoneInfo(schedule.timezone)
    day = start_at.astimezone(zone).date()
    day_count = _count_by_local_day(schedule.busy, schedule.timezone).get(day, 0)
    if rules.max_per_day is not None and day_count >= rules.max_per_day:
        return "That day is fully booked."
    candidates = open_slots(schedule, start_at, start_at + timedelta(minutes=1), now, length)
    for slot in candidates:
        if slot.start_at == start_at and (slot.mode == mode or slot.mode == SlotMode.BOTH):
            return ""
    if candidates:
        return f"That time is not offered {MODE_LABELS[mode].lower()}."
    return "That time is no longer open. Please choose another."


def published_windows(timezone: str, blocks: Sequence[WeeklyBlock], overrides: Sequence[DateOverride],
                      start: datetime, end: datetime) -> list[tuple[datetime, datetime, SlotMode]]:
    """The published hours (blocks, or a date's override) overlapping [start, end), as aware UTC
    (start, end, mode) by start; what the calendar shades. Telehealth and bookings are not applied."""
    zone = ZoneInfo(timezone)
    schedule = Schedule(timezone, tuple(blocks), tuple(overrides))
    out: list[tuple[datetime, datetime, SlotMode]] = []
    day = start.astimezone(zone).date() - timedelta(days=1)
    while day <= end.astimezone(zone).date():
        for window in windows_on(schedule, day):
            begin, finish = to_utc(day, window.start_minute, zone), to_utc(day, window.end_minute, zone)
            if begin < end and finish > start and begin < finish:
                out.append((begin, finish, window.mode))
        day += timedelta(days=1)
    return sorted(out, key=lambda w: (w[0], w[1]))


def group_by_local_day(slots: Sequence[Slot], timezone: str) -> list[tuple[date, list[Slot]]]:
    """Slots grouped by the local date they start on in `timezone` (the client's), in order."""
    zone = ZoneInfo(timezone)
    groups: dict[date, list[Slot]] = {}
    for slot in sorted(slots, key=lambda s: (s.start_at, s.length_minutes)):
        groups.setdefault(slot.start_at.astimezone(zone).date(), []).append(slot)
    return list(groups.items())
