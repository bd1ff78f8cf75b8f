"""A practitioner's availability from the database: loads blocks, overrides, booking rules,
appointments and the telehealth state, and asks the pure slot engine (services.scheduling.slots).

`open_slots_for` and `slot_is_open` are what self-booking calls; both read in the caller's session
(so the booking path can call `slot_is_open` inside its own transaction, after taking its lock).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

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
    Schedule,
    Slot,
    SlotMode,
    SlotsResult,
    WeeklyBlock,
    Window,
    open_slots,
    published_windows,
    why_not_open,
)
from rxapp.services.scheduling.zoom_follow import zoom_problem

__all__ = ["Slot", "SlotMode", "SlotsResult", "load_schedule", "open_slots_for", "published_hours", "rules_of",
           "slot_is_open"]

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


def load_schedule(session: Session, practitioner_id: int, start: datetime, end: datetime, *,
                  exclude_appointment_ids: frozenset[int] = frozenset()) -> tuple[Schedule, str]:
    """Everything the engine needs for slots starting in [start, end), and why telehealth is not
    offered ('' when it is). Four queries: the practitioner's settings (profile, practice, Zoom
    connection, booking rules in one), blocks, overrides, and appointments over
    ix_appointment_practitioner_start; none per day."""
    settings = session.exec(
        select(PractitionerProfile.timezone, PractitionerProfile.telehealth_enabled, Practice.allow_zoom,
               User.full_name, ZoomConnection.status, BookingRule)
        .join(User, col(User.id) == PractitionerProfile.user_id)
        .join(Practice, col(Practice.id) == PractitionerProfile.practice_id)
        .outerjoin(ZoomConnection, col(ZoomConnection.practitioner_id) == PractitionerProfile.user_id)
        .outerjoin(BookingRule, col(BookingRule.practitioner_id) == PractitionerProfile.user_id)
        .where(PractitionerProfile.user_id == practitioner_id)).first()
    if settings is None:
        return Schedule(timezone="UTC", blocks=()), "this person is not a practitioner"
    timezone, enabled, allow_zoom, name, zoom_status, rule = settings
    telehealth_problem = zoom_problem(allow_zoom=bool(allow_zoom), telehealth_enabled=bool(enabled), name=name,
                                      connection_status=zoom_status)
    # Local dates may differ from UTC dates by up to a day either side.
    first, last = (start - timedelta(days=2)).date(), (end + timedelta(days=2)).date()
    blocks = session.exec(
        select(AvailabilityBlock.weekday, AvailabilityBlock.start_minute, AvailabilityBlock.end_minute,
               AvailabilityBlock.mode).where(AvailabilityBlock.practitioner_id == practitioner_id)).all()
    override_rows = session.exec(
        select(AvailabilityOverride.on_date, AvailabilityOverride.day_off, AvailabilityOverride.start_minute,
               AvailabilityOverride.end_minute, AvailabilityOverride.mode)
        .where(AvailabilityOverride.practitioner_id == practitioner_id, col(AvailabilityOverride.on_date) >= first,
               col(AvailabilityOverride.on_date) <= last)).all()
    # Reach far enough back for an appointment that is still running (or in its buffer) at `start`,
    # and for whole local days (the day's maximum). The status is filtered here, not in SQL: a status
    # condition let SQLite pick the status index and read every appointment of the practice.
    margin = timedelta(days=2)
    rows = session.exec(
        select(Appointment.id, Appointment.start_at, Appointment.duration_minutes, Appointment.status)
        .where(Appointment.practitioner_id == practitioner_id,
               col(Appointment.start_at) >= start - margin, col(Appointment.start_at) < end + margin)).all()
    holding = {s.value for s in HOLDING_STATUSES}
    busy = tuple(Busy(at, at + timedelta(minutes=minutes)) for appointment_id, at, minutes, status in rows
                 if status in holding and appointment_id not in exclude_appointment_ids)
    overrides: dict[date, list[Window]] = {}
    for on, off, begin, finish, mode in override_rows:
        windows = overrides.setdefault(on, [])
        if not off:
            windows.append(Window(begin, finish, SlotMode(mode)))
    schedule = Schedule(
        timezone=timezone,
        blocks=tuple(WeeklyBlock(day, Window(begin, finish, SlotMode(mode))) for day, begin, finish, mode in blocks),
        overrides=tuple(DateOverride(on, tuple(w)) for on, w in overrides.items()),
        rules=rules_of(rule), busy=busy, telehealth_ok=not telehealth_problem)
    return schedule, telehealth_problem


def open_slots_for(session: Session, practitioner_id: int, start: datetime, end: datetime, *,
                   length: int | None = None,
                   exclude_appointment_ids: frozenset[int] = frozenset()) -> SlotsResult:
    """Open slots of a practitioner starting in [start, end) (aware), sorted; `length` None gives
    every length offered. `telehealth_unavailable` says why telehealth is not offered ('' when it is);
    Both blocks then give in-person slots."""
    schedule, problem = load_schedule(session, practitioner_id, start, end,
                                      exclude_appointment_ids=exclude_appointment_ids)
    return SlotsResult(slots=open_slots(schedule, start, end, now(), length), telehealth_unavailable=problem)


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
