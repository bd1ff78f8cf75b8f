"""Editing a practitioner's availability: weekly blocks, date overrides and booking rules.

A practitioner edits their own; owner, manager and front desk edit any practitioner's of the
practice. Every function takes the practitioner's id and the principal and re-checks both. A save
takes the editor's text as typed, checks it all and writes all of it or nothing (`AvailabilityInvalid`
maps each bad field to a message, keyed like the editor's fields, so nothing typed is lost).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, delete, select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import AvailabilityBlock, AvailabilityOverride, BookingRule, PractitionerProfile, Role, User
from rxapp.services.audit import trail
from rxapp.services.permissions import Action, NotAllowed, Principal, require
from rxapp.services.scheduling import waitlist
from rxapp.services.scheduling.availability import parse_lengths, weekly_blocks
from rxapp.services.scheduling.slots import MODE_LABELS, SlotMode
from rxapp.services.scheduling.zoom_follow import zoom_problem_for
from rxapp.services.telehealth.meetings.schedule import YEARS_AHEAD, latest_day

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
INTERVAL_RANGE = (5, 240)
LENGTH_RANGE = (5, 480)
BUFFER_RANGE = (0, 240)
NOTICE_RANGE = (0, 720)  # hours: up to 30 days
HORIZON_RANGE = (1, 365)
MAX_PER_DAY_RANGE = (1, 50)
MAX_ROWS = 200
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


class AvailabilityInvalid(Exception):
    """Some values are wrong; `errors` maps an editor field key to its message. Nothing was saved."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class BlockInput:
    """A weekly block as the editor holds it. `key` names the row in the editor (and its errors)."""

    key: str
    weekday: int
    start: str  # "HH:MM" local
    end: str  # "HH:MM" local; "24:00" is midnight at the end of the day
    mode: str


@dataclass(frozen=True)
class OverrideInput:
    key: str
    on_date: str  # "YYYY-MM-DD"
    day_off: bool
    start: str = ""
    end: str = ""
    mode: str = SlotMode.IN_PERSON.value


@dataclass(frozen=True)
class RulesInput:
    lengths: str = "50"
    interval_minutes: str = "30"
    buffer_before_minutes: str = "0"
    buffer_after_minutes: str = "0"
    min_notice_hours: str = "24"
    horizon_days: str = "60"
    max_per_day: str = ""  # blank: no limit
    new_clients_may_self_book: bool = True


@dataclass(frozen=True)
class AvailabilityView:
    practitioner_id: int
    practitioner_name: str
    timezone: str
    blocks: list[BlockInput]
    overrides: list[OverrideInput]  # today (practitioner's zone) and later
    rules: RulesInput
    telehealth_unavailable: str  # "" or why telehealth slots are not offered


def hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def parse_time(text: str) -> int | None:
    """"09:30" -> 570; "24:00" -> 1440; None when it is not a time of day."""
    match = _TIME.match(text.strip())
    if not match:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        return None
    return hours * 60 + minutes


def _practitioner(session: Session, principal: Principal, practitioner_id: int) -> tuple[User, PractitionerProfile]:
    """The practitioner when `principal` may edit their availability; `NotAllowed` otherwise."""
    require(principal, Action.MANAGE_APPOINTMENTS)
    if Role(principal.role) == Role.PRACTITIONER and practitioner_id != principal.user_id:
        raise NotAllowed("edit another practitioner's availability")
    user, profile = session.get(User, practitioner_id), session.get(PractitionerProfile, practitioner_id)
    if user is None or profile is None or user.practice_id != principal.practice_id or not user.is_active:
        raise NotAllowed("not a practitioner of this practice")
    return user, profile


def editable_practitioners(principal: Principal) -> list[tuple[int, str]]:
    """(id, name) of the practitioners whose availability `principal` may edit, by name."""
    require(principal, Action.MANAGE_APPOINTMENTS)
    with unit_of_work() as session:
        query = (select(User.id, User.full_name).join(PractitionerProfile, col(PractitionerProfile.user_id) == User.id)
                 .where(User.practice_id == principal.practice_id, col(User.is_active).is_(True))
                 .order_by(col(User.full_name)))
        if Role(principal.role) == Role.PRACTITIONER:
            query = query.where(User.id == principal.user_id)
        return [(int(pid or 0), name) for pid, name in session.exec(query).all()]


def _local_today(profile: PractitionerProfile) -> date:
    return now().astimezone(ZoneInfo(profile.timezone)).date()


def _rules_input(row: BookingRule | None) -> RulesInput:
    if row is None:
        return RulesInput()
    return RulesInput(lengths=", ".join(str(x) for x in parse_lengths(row.lengths)),
                      interval_minutes=str(row.interval_minutes), buffer_before_minutes=str(row.buffer_before_minutes),
                      buffer_after_minutes=str(row.buffer_after_minutes), min_notice_hours=str(row.min_notice_hours),
                      horizon_days=str(row.horizon_days),
                      max_per_day="" if row.max_per_day is None else str(row.max_per_day),
                      new_clients_may_self_book=row.new_clients_may_self_book)


def availability_view(principal: Principal, practitioner_id: int) -> AvailabilityView:
    """What the editor shows for one practitioner. Raises `NotAllowed`."""
    with unit_of_work() as session:
        user, profile = _practitioner(session, principal, practitioner_id)
        today = _local_today(profile)
        blocks = [BlockInput(f"b{b.id}", b.weekday, hhmm(b.start_minute), hhmm(b.end_minute), b.mode)
                  for b in weekly_blocks(session, practitioner_id)]
        rows = session.exec(select(AvailabilityOverride).where(
            AvailabilityOverride.practitioner_id == practitioner_id, col(AvailabilityOverride.on_date) >= today)
            .order_by(col(AvailabilityOverride.on_date), col(AvailabilityOverride.start_minute))).all()
        overrides = [OverrideInput(f"o{o.id}", o.on_date.isoformat(), o.day_off,
                                   "" if o.day_off else hhmm(o.start_minute), "" if o.day_off else hhmm(o.end_minute),
                                   o.mode) for o in rows]
        return AvailabilityView(practitioner_id=practitioner_id, practitioner_name=user.full_name,
                                timezone=profile.timezone, blocks=blocks, overrides=overrides,
                                rules=_rules_input(session.get(BookingRule, practitioner_id)),
                                telehealth_unavailable=zoom_problem_for(session, profile.practice_id, practitioner_id))


def _window(errors: dict[str, str], key: str, start: str, end: str, mode: str) -> tuple[int, int, str] | None:
    """Check one window's start, end and mode; errors go under '<key>.start' etc."""
    begin, finish = parse_time(start), parse_time(end)
    ok = True
    if begin is None or begin >= 1440:
        errors[f"{key}.start"] = "Enter a start time like 09:00."
        ok = False
    if finish is None:
        errors[f"{key}.end"] = "Enter an end time like 17:00 (24:00 for midnight)."
        ok = False
    if mode not in {m.value for m in SlotMode}:
        errors[f"{key}.mode"] = "Choose In person, Telehealth or Both."
        ok = False
    if ok and finish is not None and begin is not None and finish <= begin:
        errors[f"{key}.end"] = "The end must be after the start."
        ok = False
    return (begin, finish, mode) if ok and begin is not None and finish is not None else None


def _overlaps(errors: dict[str, str], windows: list[tuple[str, int, int]], where: str) -> None:
    """Flag each window that overlaps an earlier one of the same day."""
    ordered = sorted(windows, key=lambda w: (w[1], w[2]))
    latest: tuple[int, int] | None = None  # the earlier window reaching furthest
    for key, start, end in ordered:
        if latest is not None and start < latest[1]:
            errors.setdefault(f"{key}.start", f"Overlaps {hhmm(latest[0])} to {hhmm(latest[1])} on {where}. "
                                              "Blocks of a day must not overlap.")
        if latest is None or end > latest[1]:
            latest = (start, end)


def _number(errors: dict[str, str], key: str, text: str, low: int, high: int, what: str) -> int:
    value = text.strip()
    if not value.isdigit() or not low <= int(value) <= high:
        errors[key] = f"{what} must be a whole number from {low} to {high}."
        return low
    return int(value)


def _checked_rules(errors: dict[str, str], rules: RulesInput) -> BookingRule:
    parts = [p.strip() for p in rules.lengths.split(",") if p.strip()]
    low, high = LENGTH_RANGE
    if not parts:
        errors["lengths"] = "Enter at least one length in minutes, e.g. 50 or 30, 50."
    elif not all(p.isdigit() and low <= int(p) <= high for p in parts):
        errors["lengths"] = (f"Lengths must be positive whole minutes from {low} to {high}, separated by commas "
                             "(e.g. 30, 50).")
    max_text = rules.max_per_day.strip()
    max_per_day = None if not max_text else _number(errors, "max_per_day", max_text, *MAX_PER_DAY_RANGE,
                                                    "The maximum per day (or blank for no limit)")
    return BookingRule(
        practitioner_id=0, practice_id=0,
        lengths=",".join(str(x) for x in parse_lengths(",".join(parts))) if "lengths" not in errors else "50",
        interval_minutes=_number(errors, "interval_minutes", rules.interval_minutes, *INTERVAL_RANGE,
                                 "The slot interval"),
        buffer_before_minutes=_number(errors, "buffer_before_minutes", rules.buffer_before_minutes, *BUFFER_RANGE,
                                      "The buffer before"),
        buffer_after_minutes=_number(errors, "buffer_after_minutes", rules.buffer_after_minutes, *BUFFER_RANGE,
                                     "The buffer after"),
        min_notice_hours=_number(errors, "min_notice_hours", rules.min_notice_hours, *NOTICE_RANGE,
                                 "The minimum notice (hours)"),
        horizon_days=_number(errors, "horizon_days", rules.horizon_days, *HORIZON_RANGE,
                             "How far ahead (days)"),
        max_per_day=max_per_day, new_clients_may_self_book=bool(rules.new_clients_may_self_book))


def _checked(blocks: list[BlockInput], overrides: list[OverrideInput], rules: RulesInput, today: date,
             ) -> tuple[list[tuple[int, int, int, str]], list[tuple[date, bool, int, int, str]], BookingRule]:
    errors: dict[str, str] = {}
    if len(blocks) > MAX_ROWS or len(overrides) > MAX_ROWS:
        raise AvailabilityInvalid({"form": f"At most {MAX_ROWS} blocks and {MAX_ROWS} date overrides."})
    good_blocks: list[tuple[int, int, int, str]] = []
    per_day: dict[int, list[tuple[str, int, int]]] = {}
    for b in blocks:
        if not 0 <= b.weekday <= 6:
            errors[f"{b.key}.start"] = "Choose a weekday."
            continue
        window = _window(errors, b.key, b.start, b.end, b.mode)
        if window:
            good_blocks.append((b.weekday, *window))
            per_day.setdefault(b.weekday, []).append((b.key, window[0], window[1]))
    for weekday, windows in per_day.items():
        _overlaps(errors, windows, WEEKDAYS[weekday])
    good_overrides: list[tuple[date, bool, int, int, str]] = []
    per_date: dict[date, list[tuple[str, int, int]]] = {}
    day_off: dict[date, str] = {}
    for o in overrides:
        try:
            on = date.fromisoformat(o.on_date.strip())
        except ValueError:
            errors[f"{o.key}.date"] = "Enter a date like 2027-03-02."
            continue
        if on < today:
            errors[f"{o.key}.date"] = "That date has passed. Choose today or a later date."
            continue
        if on > latest_day(today):  # the same limit as appointments: a later date is a typo (or 9999-12-31)
            errors[f"{o.key}.date"] = (f"Choose a date within {YEARS_AHEAD} years, on or before "
                                       f"{latest_day(today):%d %b %Y}.")
            continue
        if o.day_off:
            day_off[on] = o.key
            good_overrides.append((on, True, 0, 0, SlotMode.IN_PERSON.value))
            continue
        window = _window(errors, o.key, o.start, o.end, o.mode)
        if window:
            good_overrides.append((on, False, *window))
            per_date.setdefault(on, []).append((o.key, window[0], window[1]))
    for on, windows in per_date.items():
        _overlaps(errors, windows, on.isoformat())
        if on in day_off:
            errors.setdefault(f"{windows[0][0]}.date", f"{on.isoformat()} is also marked as a day off: keep one "
                                                       "or the other.")
    rule = _checked_rules(errors, rules)
    if errors:
        raise AvailabilityInvalid(errors)
    return good_blocks, good_overrides, rule


def save_availability(principal: Principal, practitioner_id: int, blocks: list[BlockInput],
                      overrides: list[OverrideInput], rules: RulesInput) -> AvailabilityView:
    """Replace the practitioner's weekly blocks, their overrides from today on (past ones stay as
    history) and their booking rules, in one transaction; audit-recorded. Raises `AvailabilityInvalid`
    (nothing saved) or `NotAllowed`."""
    with unit_of_work() as session:
        _, profile = _practitioner(session, principal, practitioner_id)
        good_blocks, good_overrides, rule = _checked(blocks, overrides, rules, _local_today(profile))
        practice_id = profile.practice_id
        session.exec(delete(AvailabilityBlock).where(col(AvailabilityBlock.practitioner_id) == practitioner_id))
        session.exec(delete(AvailabilityOverride).where(col(AvailabilityOverride.practitioner_id) == practitioner_id,
                                                        col(AvailabilityOverride.on_date) >= _local_today(profile)))
        for weekday, start, end, mode in sorted(good_blocks):
            session.add(AvailabilityBlock(practice_id=practice_id, practitioner_id=practitioner_id, weekday=weekday,
                                          start_minute=start, end_minute=end, mode=mode))
        for on, off, start, end, mode in sorted(good_overrides):
            session.add(AvailabilityOverride(practice_id=practice_id, practitioner_id=practitioner_id, on_date=on,
                                             day_off=off, start_minute=start, end_minute=end, mode=mode))
        stored = session.get(BookingRule, practitioner_id)
        if stored is None:
            stored = BookingRule(practitioner_id=practitioner_id, practice_id=practice_id)
            session.add(stored)
        for name in ("lengths", "interval_minutes", "buffer_before_minutes", "buffer_after_minutes",
                     "min_notice_hours", "horizon_days", "max_per_day", "new_clients_may_self_book"):
            setattr(stored, name, getattr(rule, name))
        stored.updated_at = now()
        trail.record(session, practice_id=practice_id, actor_user_id=principal.user_id, action="availability.saved",
                     subject_type="user", subject_id=practitioner_id,
                     blocks=[f"{WEEKDAYS[d][:3]} {hhmm(s)}-{hhmm(e)} {MODE_LABELS[SlotMode(m)]}"
                             for d, s, e, m in sorted(good_blocks)],
                     overrides=[f"{on.isoformat()} off" if off else
                                f"{on.isoformat()} {hhmm(s)}-{hhmm(e)} {MODE_LABELS[SlotMode(m)]}"
                                for on, off, s, e, m in sorted(good_overrides)],
                     lengths=rule.lengths, interval=rule.interval_minutes, buffer_before=rule.buffer_before_minutes,
                     buffer_after=rule.buffer_after_minutes, notice_hours=rule.min_notice_hours,
                     horizon_days=rule.horizon_days, max_per_day=rule.max_per_day,
                     new_clients_may_self_book=rule.new_clients_may_self_book)
    waitlist.slot_freed(principal.practice_id)  # new hours may fit clients waiting for a time
    return availability_view(principal, practitioner_id)
