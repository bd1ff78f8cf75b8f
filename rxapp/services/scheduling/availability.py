"""A practitioner's availability from the database: loads blocks, overrides, booking rules,
appointments and the telehealth state, and asks the pure slot engine (services.scheduling.slots).

`open_slots_for` and `slot_is_open` are what self-booking calls; both read in the caller's session
(so the booking path can call `slot_is_open` inside its own transaction, after taking its lock).
`open_slots_for_any` gives the open slots of several practitioners at once (a client who lets the
practice choose), loaded in the same four queries as one practitioner's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import BigInteger, cast, extract, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, col, select

from rxapp.clock import now
from rxapp.models import (
    Appointment,
    AppointmentStatus,
    AvailabilityBlock,
    AvailabilityOverride,
    BookingRule,
    Practice,
    PractitionerProfile,
    User,
    ZoomConnection,
)
from rxapp.services.scheduling.slots import (
    BookingRules,
    Busy,
    DateOverride,
    PracticeSlots,
    Schedule,
    Slot,
    SlotMode,
    SlotsResult,
    WeeklyBlock,
    Window,
    open_slots,
    open_slots_across,
    published_windows,
    why_not_open,
)
from rxapp.services.scheduling.zoom_follow import zoom_problem

__all__ = ["PracticeSlots", "Slot", "SlotMode", "SlotsResult", "load_schedule", "load_schedules", "open_slots_for",
           "open_slots_for_any", "published_hours", "rules_of", "slot_is_open"]

# Appointments that hold their time (and count towards the day's maximum). Completed ones count for
# the day too: a session that took place this morning was one of the day's bookings.
HOLDING_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.IN_PROGRESS, AppointmentStatus.COMPLETED)


def parse_lengths(text: str) -> tuple[int, ...]:
    """"30,50" -> (30, 50); ignores what is not a positive number (the editor validates)."""
    out = sorted({int(part) for part in text.replace(" ", "").split(",") if part.isdigit() and int(part) > 0})
    return tuple(out)


def rules_of(row: BookingRule | None) -> BookingRules:
    """The engine's rules from a stored row (defaults while none is stored)."""
    if row is None:
        return BookingRules()
    return BookingRules(
        lengths=parse_lengths(row.lengths), interval_minutes=row.interval_minutes,
        buffer_before_minutes=row.buffer_before_minutes, buffer_after_minutes=row.buffer_after_minutes,
        min_notice_hours=row.min_notice_hours, horizon_days=row.horizon_days, max_per_day=row.max_per_day,
        new_clients_may_self_book=row.new_clients_may_self_book)


def weekly_blocks(session: Session, practitioner_id: int) -> list[AvailabilityBlock]:
    return list(session.exec(
        select(AvailabilityBlock).where(AvailabilityBlock.practitioner_id == practitioner_id)
        .order_by(col(AvailabilityBlock.weekday), col(AvailabilityBlock.start_minute))).all())


def engine_blocks(rows: list[AvailabilityBlock]) -> tuple[WeeklyBlock, ...]:
    return tuple(WeeklyBlock(r.weekday, Window(r.start_minute, r.end_minute, SlotMode(r.mode))) for r in rows)


def engine_overrides(rows: list[AvailabilityOverride]) -> tuple[DateOverride, ...]:
    by_date: dict[date, list[Window]] = {}
    for r in rows:
        windows = by_date.setdefault(r.on_date, [])
        if not r.day_off:
            windows.append(Window(r.start_minute, r.end_minute, SlotMode(r.mode)))
    return tuple(DateOverride(day, tuple(windows)) for day, windows in by_date.items())


class _EpochSeconds(FunctionElement[int]):
    """A UTC timestamp column as whole seconds since 1970 (rounded down), computed by the database."""

    type = BigInteger()
    inherit_cache = True


@compiles(_EpochSeconds, "sqlite")
def _epoch_seconds_sqlite(element: _EpochSeconds, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite stores UTC text (models.types.UTCDateTime); strftime('%s') reads it as UTC.
    return compiler.process(cast(func.strftime("%s", *element.clauses), BigInteger), **kw)


@compiles(_EpochSeconds, "postgresql")
def _epoch_seconds_postgresql(element: _EpochSeconds, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(cast(func.floor(extract("epoch", *element.clauses)), BigInteger), **kw)


@lru_cache(maxsize=4096)
def _window(begin: int, finish: int, mode: str) -> Window:
    """One object per distinct window: they are values, and colleagues keep the same hours (a practice's
    read would otherwise make hundreds of equal ones for the garbage collector to follow)."""
    return Window(begin, finish, SlotMode(mode))


@lru_cache(maxsize=4096)
def _weekly_block(weekday: int, begin: int, finish: int, mode: str) -> WeeklyBlock:
    return WeeklyBlock(weekday, _window(begin, finish, mode))


_NOT_A_PRACTITIONER = (Schedule(timezone="UTC", blocks=()), "this person is not a practitioner")


def load_schedules(session: Session, practitioner_ids: Sequence[int], start: datetime, end: datetime, *,
                   exclude_appointment_ids: frozenset[int] = frozenset()) -> dict[int, tuple[Schedule, str]]:
    """For each practitioner (in the order given, once each), everything the engine needs for slots
    starting in [start, end), and why telehealth is not offered ('' when it is); someone who is not a
    practitioner gets no hours and says so. Four queries whatever the number of practitioners: the
    settings (profile, practice, Zoom connection, booking rules in one), blocks, overrides, and
    appointments over ix_appointment_practitioner_start; none per practitioner or per day."""
    ids = list(dict.fromkeys(practitioner_ids))
    if not ids:
        return {}
    settings = session.exec(
        select(PractitionerProfile.user_id, PractitionerProfile.timezone, PractitionerProfile.telehealth_enabled,
               Practice.allow_zoom, User.full_name, ZoomConnection.status, BookingRule)
        .join(User, col(User.id) == PractitionerProfile.user_id)
        .join(Practice, col(Practice.id) == PractitionerProfile.practice_id)
        .outerjoin(ZoomConnection, col(ZoomConnection.practitioner_id) == PractitionerProfile.user_id)
        .outerjoin(BookingRule, col(BookingRule.practitioner_id) == PractitionerProfile.user_id)
        .where(col(PractitionerProfile.user_id).in_(ids))).all()
    # Local dates may differ from UTC dates by up to a day either side. Blocks and overrides come in
    # the order they were saved (a day's windows are tried in that order).
    first, last = (start - timedelta(days=2)).date(), (end + timedelta(days=2)).date()
    blocks: dict[int, list[WeeklyBlock]] = {}
    for pid, day, begin, finish, mode in session.exec(
            select(AvailabilityBlock.practitioner_id, AvailabilityBlock.weekday, AvailabilityBlock.start_minute,
                   AvailabilityBlock.end_minute, AvailabilityBlock.mode)
            .where(col(AvailabilityBlock.practitioner_id).in_(ids))
            .order_by(col(AvailabilityBlock.practitioner_id), col(AvailabilityBlock.id))).all():
        blocks.setdefault(pid, []).append(_weekly_block(day, begin, finish, mode))
    overrides: dict[int, dict[date, list[Window]]] = {}
    for pid, on, off, begin, finish, mode in session.exec(
            select(AvailabilityOverride.practitioner_id, AvailabilityOverride.on_date, AvailabilityOverride.day_off,
                   AvailabilityOverride.start_minute, AvailabilityOverride.end_minute, AvailabilityOverride.mode)
            .where(col(AvailabilityOverride.practitioner_id).in_(ids), col(AvailabilityOverride.on_date) >= first,
                   col(AvailabilityOverride.on_date) <= last)
            .order_by(col(AvailabilityOverride.practitioner_id), col(AvailabilityOverride.on_date),
                      col(AvailabilityOverride.id))).all():
        windows = overrides.setdefault(pid, {}).setdefault(on, [])
        if not off:
            windows.append(_window(begin, finish, mode))
    # Reach far enough back for an appointment that is still running (or in its buffer) at `start`,
    # and for whole local days (the day's maximum). The status is filtered here, not in SQL: a status
    # condition let SQLite pick the status index and read every appointment of the practice.
    margin = timedelta(days=2)
    holding = {s.value for s in HOLDING_STATUSES}
    # A practice's month is thousands of rows: the start comes as whole UTC seconds (the engine's unit,
    # no datetime built), over the session's connection (the queries above flushed it) and in batches
    # (thousands of rows alive at once would set off the garbage collector's full passes).
    appointments = (
        select(Appointment.practitioner_id, _EpochSeconds(Appointment.start_at), Appointment.duration_minutes,
               Appointment.status)
        .where(col(Appointment.practitioner_id).in_(ids), col(Appointment.start_at) >= start - margin,
               col(Appointment.start_at) < end + margin))
    if exclude_appointment_ids:
        appointments = appointments.where(col(Appointment.id).not_in(exclude_appointment_ids))
    busy: dict[int, list[Busy]] = {pid: [] for pid in ids}
    for rows in session.connection().execute(appointments).partitions(100):
        for pid, at, minutes, status in rows:
            if status in holding:
                busy[pid].append((at, at + minutes * 60))
    found: dict[int, tuple[Schedule, str]] = {}
    for pid, timezone, enabled, allow_zoom, name, zoom_status, rule in settings:
        problem = zoom_problem(allow_zoom=bool(allow_zoom), telehealth_enabled=bool(enabled), name=name,
                               connection_status=zoom_status)
        found[pid] = (Schedule(
            timezone=timezone, blocks=tuple(blocks.get(pid, ())),
            overrides=tuple(DateOverride(on, tuple(w)) for on, w in overrides.get(pid, {}).items()),
            rules=rules_of(rule), busy=tuple(busy[pid]), telehealth_ok=not problem), problem)
    return {pid: found.get(pid, _NOT_A_PRACTITIONER) for pid in ids}


def load_schedule(session: Session, practitioner_id: int, start: datetime, end: datetime, *,
                  exclude_appointment_ids: frozenset[int] = frozenset()) -> tuple[Schedule, str]:
    """`load_schedules` for one practitioner."""
    return load_schedules(session, [practitioner_id], start, end,
                          exclude_appointment_ids=exclude_appointment_ids)[practitioner_id]


def open_slots_for(session: Session, practitioner_id: int, start: datetime, end: datetime, *,
                   length: int | None = None,
                   exclude_appointment_ids: frozenset[int] = frozenset()) -> SlotsResult:
    """Open slots of a practitioner starting in [start, end) (aware), sorted; `length` None gives
    every length offered. `telehealth_unavailable` says why telehealth is not offered ('' when it is);
    Both blocks then give in-person slots."""
    schedule, problem = load_schedule(session, practitioner_id, start, end,
                                      exclude_appointment_ids=exclude_appointment_ids)
    return SlotsResult(slots=open_slots(schedule, start, end, now(), length), telehealth_unavailable=problem)


def open_slots_for_any(session: Session, practitioner_ids: Sequence[int], start: datetime, end: datetime, *,
                      length: int | None = None) -> PracticeSlots:
    """Every open slot starting in [start, end) of any of these practitioners (a client who lets the
    practice choose): what `open_slots_for` gives each of them, merged, and why each one offers no
    telehealth ('' when they do). Four queries whatever the number of practitioners."""
    loaded = load_schedules(session, practitioner_ids, start, end)
    merged = open_slots_across({pid: schedule for pid, (schedule, _) in loaded.items()}, start, end, now(), length)
    return replace(merged, telehealth_unavailable={pid: problem for pid, (_, problem) in loaded.items()})


def slot_is_open(session: Session, practitioner_id: int, start_at: datetime, length: int, mode: SlotMode,
                 exclude_appointment_ids: frozenset[int] = frozenset()) -> str:
    """'' when a client may book `start_at` for `length` minutes in `mode` now, else a sentence
    saying why not (not offered, inside minimum notice, beyond the horizon, day full, taken...)."""
    schedule, problem = load_schedule(session, practitioner_id, start_at, start_at + timedelta(minutes=length),
                                      exclude_appointment_ids=exclude_appointment_ids)
    return why_not_open(schedule, start_at, length, SlotMode(mode), now(), problem)


def published_hours(session: Session, practitioner_ids: Sequence[int], start: datetime, end: datetime,
                    ) -> dict[int, list[tuple[datetime, datetime, SlotMode]]]:
    """Each practitioner's published hours overlapping [start, end) (UTC start, end, mode), overrides
    applied; for the calendar's background band. Three queries whatever the number of practitioners."""
    ids = list(dict.fromkeys(practitioner_ids))
    if not ids:
        return {}
    zones = {p.user_id: p.timezone for p in session.exec(
        select(PractitionerProfile).where(col(PractitionerProfile.user_id).in_(ids))).all()}
    blocks: dict[int, list[AvailabilityBlock]] = {}
    for row in session.exec(select(AvailabilityBlock).where(col(AvailabilityBlock.practitioner_id).in_(ids))).all():
        blocks.setdefault(row.practitioner_id, []).append(row)
    overrides: dict[int, list[AvailabilityOverride]] = {}
    first, last = (start - timedelta(days=2)).date(), (end + timedelta(days=2)).date()
    for o in session.exec(select(AvailabilityOverride).where(
            col(AvailabilityOverride.practitioner_id).in_(ids), col(AvailabilityOverride.on_date) >= first,
            col(AvailabilityOverride.on_date) <= last)).all():
        overrides.setdefault(o.practitioner_id, []).append(o)
    return {pid: published_windows(zones[pid], engine_blocks(blocks.get(pid, [])),
                                   engine_overrides(overrides.get(pid, [])), start, end)
            for pid in ids if pid in zones and (pid in blocks or pid in overrides)}
