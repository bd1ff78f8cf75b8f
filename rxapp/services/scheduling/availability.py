"""A practitioner's availability from the database: loads blocks, overrides, booking rules,
appointments and the telehealth state, and asks the pure slot engine (services.scheduling.slots).

`open_slots_for` and `slot_is_open` are what self-booking calls; both read in the caller's session
(so the booking path can call `slot_is_open` inside its own transaction, after taking its lock).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from rxapp.models import (
    Appointment,
    AppointmentStatus,
    AvailabilityBlock,
    AvailabilityOverride,
    BookingRule,
    PractitionerProfile,
)
from rxapp.services.clock import now
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
    why_not_open,
)
from rxapp.services.scheduling.zoom_follow import zoom_problem_for

__all__ = ["Slot", "SlotMode", "SlotsResult", "load_schedule", "open_slots_for", "rules_of", "slot_is_open"]

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


def overrides_between(session: Session, practitioner_id: int, first: date, last: date) -> list[AvailabilityOverride]:
    return list(session.exec(
        select(AvailabilityOverride).where(AvailabilityOverride.practitioner_id == practitioner_id,
                                           col(AvailabilityOverride.on_date) >= first,
                                           col(AvailabilityOverride.on_date) <= last)
        .order_by(col(AvailabilityOverride.on_date), col(AvailabilityOverride.start_minute))).all())


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
    offered ('' when it is). Appointments come in one query over ix_appointment_practitioner_start."""
    profile = session.get(PractitionerProfile, practitioner_id)
    timezone = profile.timezone if profile else "UTC"
    rules = rules_of(session.get(BookingRule, practitioner_id))
    telehealth_problem = "" if profile is None else zoom_problem_for(session, profile.practice_id, practitioner_id)
    if profile is None:
        telehealth_problem = "this person is not a practitioner"
    # Local dates may differ from UTC dates by up to a day either side.
    first, last = (start - timedelta(days=2)).date(), (end + timedelta(days=2)).date()
    # Reach far enough back for an appointment that is still running (or in its buffer) at `start`,
    # and for whole local days (the day's maximum).
    margin = timedelta(days=2)
    rows = session.exec(
        select(Appointment.id, Appointment.start_at, Appointment.duration_minutes)
        .where(Appointment.practitioner_id == practitioner_id,
               col(Appointment.start_at) >= start - margin, col(Appointment.start_at) < end + margin,
               col(Appointment.status).in_([s.value for s in HOLDING_STATUSES]))).all()
    busy = tuple(Busy(at, at + timedelta(minutes=minutes)) for appointment_id, at, minutes in rows
                 if appointment_id not in exclude_appointment_ids)
    schedule = Schedule(timezone=timezone, blocks=engine_blocks(weekly_blocks(session, practitioner_id)),
                        overrides=engine_overrides(overrides_between(session, practitioner_id, first, last)),
                        rules=rules, busy=busy, telehealth_ok=not telehealth_problem)
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
