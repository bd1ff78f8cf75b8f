"""The owner's dashboard: how the practice did over a period, for owners and managers.

For a period of local dates (in the viewer's timezone) and the practice's practitioners (all, or a
chosen few) it gives, from SQL aggregates (one pass over the period's appointments, one over its new
clients, one over its SMS credit entries, whatever the length of the period):

- utilisation per practitioner per week: booked hours over published hours. Booked hours are the
  appointments that were not cancelled (a no-show still took the time); published hours are the
  weekly availability blocks with each date's overrides (today's blocks: the weekly hours are not
  versioned, so a past week is measured against the hours published now);
- sessions by mode per week: booked, under way or completed appointments, telehealth or in person;
- no-shows and late cancellations per month: a late cancellation is one made less than the practice's
  cancellation window before the start (or after it); the moment of the cancellation is the
  appointment's `updated_at`, which cancelling sets last (a cancelled appointment is never edited);
- new clients per month (`Client.created_at`; the whole practice, whoever the practitioners);
- self-booked against booked by the practice per month: self-booked means created through a client's
  portal account (`Client.user_id`: a client books only for themself), anything else (staff, an
  import) is the practice's; cancelled bookings count, they were booked;
- SMS credits spent per month: charges less refunds (the whole practice).

Appointments count in the week and month their start falls in; weeks start on Monday and are cut
to the period. Weeks and months are bounded by local midnights turned into UTC instants here (clock
changes included), and the database sorts rows into them with a balanced CASE on the stored UTC time,
so SQLite and PostgreSQL count alike. `tables` gives the numbers behind each chart (the page's text
alternative and its CSV).
"""

from __future__ import annotations

import csv
import io
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Connection, case, func, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Float
from sqlmodel import col

from rxapp.db import reading, reading_planned_for_values
from rxapp.models import (
    Appointment,
    AppointmentStatus,
    AvailabilityBlock,
    AvailabilityOverride,
    Client,
    CreditKind,
    Practice,
    PractitionerProfile,
    SmsCreditEntry,
    User,
)
from rxapp.models.types import UTCDateTime
from rxapp.services.permissions import Action, Principal, require
from rxapp.services.timezones import is_valid
from rxapp.text import spreadsheet_safe

# Owners and managers: the people who run the practice see its figures.
VIEW_DASHBOARD = Action.VIEW_AUDIT
PRESETS: dict[str, str] = {"this_month": "This month", "last_3_months": "Last 3 months",
                           "last_12_months": "Last 12 months", "custom": "Custom dates"}
MAX_DAYS = 366
SESSION_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.IN_PROGRESS, AppointmentStatus.COMPLETED)
# Each chart and the columns of the numbers behind it (`tables`), in the page's order.
COLUMNS: dict[str, list[str]] = {
    "utilisation": ["week", "practitioner", "booked hours", "published hours", "utilisation %"],
    "modes": ["week", "telehealth", "in person"],
    "attendance": ["month", "no-shows", "late cancellations"],
    "new_clients": ["month", "new clients"],
    "booked_by": ["month", "self-booked", "booked by the practice"],
    "sms": ["month", "SMS credits spent"],
}


class InvalidDashboardFilter(ValueError):
    """A period or practitioner choice the dashboard cannot show; the message says why."""


@dataclass(frozen=True)
class Period:
    first_day: date
    last_day: date  # inclusive


@dataclass(frozen=True)
class PractitionerChoice:
    id: int
    name: str


@dataclass(frozen=True)
class UtilisationWeek:
    week: date  # the Monday
    practitioner_id: int
    practitioner: str
    booked_minutes: int
    published_minutes: int

    @property
    def percent(self) -> float | None:
        """Booked over published hours in per cent; None when nothing was published."""
        return round(100 * self.booked_minutes / self.published_minutes, 1) if self.published_minutes else None


@dataclass(frozen=True)
class WeekFigures:
    week: date  # the Monday
    telehealth: int  # sessions
    in_person: int


@dataclass(frozen=True)
class MonthFigures:
    month: date  # the first of the month
    no_shows: int
    late_cancellations: int
    new_clients: int
    self_booked: int
    by_practice: int
    credits_spent: int


@dataclass(frozen=True)
class Dashboard:
    period: Period
    timezone: str
    cancellation_window_hours: int
    practitioners: list[PractitionerChoice]  # those the figures are for
    utilisation: list[UtilisationWeek]  # by week, then practitioner name
    weeks: list[WeekFigures]
    months: list[MonthFigures]


@dataclass(frozen=True)
class Table:
    """The numbers behind one chart: the page's text alternative and its CSV."""

    columns: list[str]
    rows: list[list[str]]


def period_of(preset: str, today: date, date_from: str = "", date_to: str = "") -> Period:
    """The local dates of a preset (months up to the end of this one) or of custom ISO dates;
    raises `InvalidDashboardFilter` with a message for the page."""
    if preset in ("this_month", "last_3_months", "last_12_months"):
        months = {"this_month": 1, "last_3_months": 3, "last_12_months": 12}[preset]
        first = _add_months(today.replace(day=1), 1 - months)
        return Period(first, _add_months(today.replace(day=1), 1) - timedelta(days=1))
    if preset != "custom":
        raise InvalidDashboardFilter("Choose a period from the list.")
    if not date_from or not date_to:
        raise InvalidDashboardFilter("Enter both dates: the first and the last day of the period.")
    days = []
    for text, name in ((date_from, "first"), (date_to, "last")):
        try:
            days.append(date.fromisoformat(text))
        except ValueError:
            raise InvalidDashboardFilter(f"The {name} day is not a date (use the date picker).") from None
    first, last = days
    if first > last:
        raise InvalidDashboardFilter("The first day is after the last day.")
    if (last - first).days + 1 > MAX_DAYS:
        raise InvalidDashboardFilter(f"Choose a period of at most a year ({MAX_DAYS} days).")
    return Period(first, last)


def practitioners(principal: Principal) -> list[PractitionerChoice]:
    """The practice's practitioners (deactivated ones too: their past counts), by name. Raises
    `NotAllowed` for anyone but owners and managers."""
    require(principal, VIEW_DASHBOARD)
    with reading() as conn:
        return _practitioners(conn, principal.practice_id)


def _practitioners(conn: Connection, practice_id: int) -> list[PractitionerChoice]:
    rows = conn.execute(select(User.id, User.full_name)
                        .join(PractitionerProfile, col(PractitionerProfile.user_id) == User.id)
                        .where(col(User.practice_id) == practice_id)
                        .order_by(col(User.full_name), col(User.id))).all()
    return [PractitionerChoice(user_id, name) for user_id, name in rows]


def dashboard(principal: Principal, period: Period, practitioner_ids: Sequence[int] | None,
              timezone: str) -> Dashboard:
    """The figures of `period` (local dates in `timezone`) for the practitioners chosen (None: all).
    Raises `NotAllowed` for anyone but owners and managers, `InvalidDashboardFilter` for a period
    longer than `MAX_DAYS` or a practitioner who is not one of the practice's (whoever else they are)."""
    require(principal, VIEW_DASHBOARD)
    if period.first_day > period.last_day or (period.last_day - period.first_day).days + 1 > MAX_DAYS:
        raise InvalidDashboardFilter(f"Choose a period of at most a year ({MAX_DAYS} days).")
    zone = ZoneInfo(timezone if is_valid(timezone) else "UTC")
    weeks, months = _weeks(period, zone), _months(period, zone)
    with reading_planned_for_values(parallel=False) as conn:
        known = _practitioners(conn, principal.practice_id)
        if practitioner_ids is None:
            chosen, only = known, None
        else:
            by_id = {p.id: p for p in known}
            if not practitioner_ids or any(i not in by_id for i in practitioner_ids):
                raise InvalidDashboardFilter("Choose practitioners from the list.")
            chosen = [p for p in known if p.id in set(practitioner_ids)]
            only = [p.id for p in chosen]
        window = conn.execute(select(Practice.cancellation_window_hours)
                              .where(col(Practice.id) == principal.practice_id)).scalar() or 0
        visits = _visits(conn, principal.practice_id, weeks, months, only, window)
        new_clients = _per_month(conn, months, col(Client.created_at), literal(1),
                                 col(Client.practice_id) == principal.practice_id)
        spent = _per_month(conn, months, col(SmsCreditEntry.created_at), -col(SmsCreditEntry.amount),
                           col(SmsCreditEntry.practice_id) == principal.practice_id,
                           col(SmsCreditEntry.kind).in_((CreditKind.CHARGE.value, CreditKind.REFUND.value)))
        published = _published_minutes(conn, principal.practice_id, [p.id for p in chosen], weeks)
    return Dashboard(
        period=period, timezone=zone.key, cancellation_window_hours=window, practitioners=chosen,
        utilisation=[UtilisationWeek(week, p.id, p.name, visits.booked.get((n, p.id), 0), published.get((n, p.id), 0))
                     for n, week in enumerate(weeks.labels) for p in chosen],
        weeks=[WeekFigures(week, visits.telehealth.get(n, 0), visits.in_person.get(n, 0))
               for n, week in enumerate(weeks.labels)],
        months=[MonthFigures(month, visits.no_shows.get(n, 0), visits.late.get(n, 0), new_clients.get(n, 0),
                             visits.self_booked.get(n, 0), visits.by_practice.get(n, 0), spent.get(n, 0))
                for n, month in enumerate(months.labels)])


def tables(figures: Dashboard) -> dict[str, Table]:
    """The numbers behind each chart (keys of `COLUMNS`), as the page lists them and the CSV holds them."""
    rows: dict[str, list[list[str]]] = {
        "utilisation": [[u.week.isoformat(), u.practitioner, _hours(u.booked_minutes), _hours(u.published_minutes),
                         "" if u.percent is None else f"{u.percent:.1f}"] for u in figures.utilisation],
        "modes": [[w.week.isoformat(), str(w.telehealth), str(w.in_person)] for w in figures.weeks],
        "attendance": [[_month(m.month), str(m.no_shows), str(m.late_cancellations)] for m in figures.months],
        "new_clients": [[_month(m.month), str(m.new_clients)] for m in figures.months],
        "booked_by": [[_month(m.month), str(m.self_booked), str(m.by_practice)] for m in figures.months],
        "sms": [[_month(m.month), str(m.credits_spent)] for m in figures.months],
    }
    return {chart: Table(COLUMNS[chart], rows[chart]) for chart in COLUMNS}


def csv_text(table: Table) -> str:
    """A table as CSV; a cell a spreadsheet would run as a formula is quoted (names come from people)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.columns)
    writer.writerows([cell if _is_number(cell) else spreadsheet_safe(cell) for cell in row] for row in table.rows)
    return out.getvalue()


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _hours(minutes: int) -> str:
    return f"{minutes / 60:.2f}".rstrip("0").rstrip(".")


def _month(first: date) -> str:
    return first.strftime("%Y-%m")


# --- buckets: local weeks and months as UTC instants -------------------------------------------------


@dataclass(frozen=True)
class _Buckets:
    labels: list[date]  # each bucket's name: the Monday of its week, the first of its month
    utc: list[datetime]  # len(labels) + 1 boundaries: bucket n is [utc[n], utc[n + 1])
    epoch: list[int]  # the same boundaries in seconds


def _weeks(period: Period, zone: ZoneInfo) -> _Buckets:
    monday = period.first_day - timedelta(days=period.first_day.weekday())
    labels = [monday + timedelta(weeks=n) for n in range((period.last_day - monday).days // 7 + 1)]
    return _bounded(labels, period, zone)


def _months(period: Period, zone: ZoneInfo) -> _Buckets:
    first = period.first_day.replace(day=1)
    last = period.last_day.replace(day=1)
    labels = [_add_months(first, n) for n in range((last.year - first.year) * 12 + last.month - first.month + 1)]
    return _bounded(labels, period, zone)


def _bounded(labels: list[date], period: Period, zone: ZoneInfo) -> _Buckets:
    """Buckets named `labels` (ascending starts), the first starting and the last ending with the period."""
    days = [period.first_day, *labels[1:], period.last_day + timedelta(days=1)]
    utc = [datetime.combine(d, time(0), zone).astimezone(UTC) for d in days]
    return _Buckets(labels, utc, [int(u.timestamp()) for u in utc])


def _add_months(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _bucket(column: ColumnElement[datetime], bounds: list[datetime], low: int = 0,
            high: int | None = None) -> ColumnElement[int]:
    """The bucket a time falls in, for times inside the buckets: a balanced tree of CASEs, so each
    row is compared with log2(buckets) boundaries, on SQLite and PostgreSQL alike."""
    high = len(bounds) - 1 if high is None else high
    if high - low == 1:
        return literal(low)
    middle = (low + high) // 2
    return case((column < literal(bounds[middle], UTCDateTime), _bucket(column, bounds, low, middle)),
                else_=_bucket(column, bounds, middle, high))


def _within(column: ColumnElement[datetime], buckets: _Buckets) -> list[ColumnElement[bool]]:
    return [column >= buckets.utc[0], column < buckets.utc[-1]]


# --- the aggregates ------------------------------------------------------------------------------------


class _SecondsBefore(FunctionElement[float]):
    """How many seconds the first time is before the second (negative when after), in the database."""

    type = Float()
    inherit_cache = True


@compiles(_SecondsBefore, "sqlite")
def _seconds_before_sqlite(element: _SecondsBefore, compiler: SQLCompiler, **kw: Any) -> str:
    earlier, later = element.clauses
    return f"((julianday({compiler.process(later, **kw)}) - julianday({compiler.process(earlier, **kw)})) * 86400.0)"


@compiles(_SecondsBefore, "postgresql")
def _seconds_before_postgresql(element: _SecondsBefore, compiler: SQLCompiler, **kw: Any) -> str:
    earlier, later = element.clauses
    return f"EXTRACT(EPOCH FROM ({compiler.process(later, **kw)} - {compiler.process(earlier, **kw)}))"


@dataclass
class _Visits:
    """The appointments' figures by week and by month."""

    booked: dict[tuple[int, int], int] = field(default_factory=dict)  # (week, practitioner) -> minutes
    telehealth: dict[int, int] = field(default_factory=dict)  # week -> sessions
    in_person: dict[int, int] = field(default_factory=dict)
    no_shows: dict[int, int] = field(default_factory=dict)  # month -> count
    late: dict[int, int] = field(default_factory=dict)
    self_booked: dict[int, int] = field(default_factory=dict)
    by_practice: dict[int, int] = field(default_factory=dict)


def _visits(conn: Connection, practice_id: int, weeks: _Buckets, months: _Buckets, only: list[int] | None,
            window_hours: int) -> _Visits:
    """One pass over the period's appointments, grouped by piece of week cut at month ends (so each
    piece lies in one week and one month), practitioner and mode."""
    pieces = sorted(set(weeks.utc) | set(months.utc))
    # Created by a client's portal account: a client books only for themself (self-booking).
    portal = select(Client.user_id).where(col(Client.practice_id) == practice_id, col(Client.user_id).is_not(None))
    conditions = [col(Appointment.practice_id) == practice_id, col(Appointment.start_at) >= pieces[0],
                  col(Appointment.start_at) < pieces[-1]]
    if only is not None:
        conditions.append(col(Appointment.practitioner_id).in_(only))
    rows = select(_bucket(col(Appointment.start_at), pieces).label("piece"), Appointment.practitioner_id,
                  Appointment.telehealth, Appointment.status, Appointment.duration_minutes, Appointment.start_at,
                  Appointment.updated_at, Appointment.created_by_user_id).where(*conditions).subquery()
    status = rows.c.status
    session = status.in_([s.value for s in SESSION_STATUSES])
    late = (status == AppointmentStatus.CANCELLED.value) & \
        (_SecondsBefore(rows.c.updated_at, rows.c.start_at) < window_hours * 3600)
    query = (select(rows.c.piece, rows.c.practitioner_id,
                    func.sum(rows.c.duration_minutes).filter(status != AppointmentStatus.CANCELLED.value),
                    func.count().filter(session & rows.c.telehealth), func.count().filter(session & ~rows.c.telehealth),
                    func.count().filter(status == AppointmentStatus.NO_SHOW.value), func.count().filter(late),
                    func.count().filter(rows.c.created_by_user_id.in_(portal)), func.count())
             .group_by(rows.c.piece, rows.c.practitioner_id))
    found = _Visits()
    places = [(bisect_right(weeks.utc, at) - 1, bisect_right(months.utc, at) - 1) for at in pieces[:-1]]
    for piece, practitioner_id, booked, telehealth, in_person, no_shows, late_ones, own, total in conn.execute(query):
        week, month = places[piece]
        for counts, key, value in ((found.booked, (week, practitioner_id), booked),
                                   (found.telehealth, week, telehealth), (found.in_person, week, in_person),
                                   (found.no_shows, month, no_shows), (found.late, month, late_ones),
                                   (found.self_booked, month, own), (found.by_practice, month, total - own)):
            if value:
                counts[key] = counts.get(key, 0) + value
    return found


def _per_month(conn: Connection, months: _Buckets, at: ColumnElement[datetime], value: ColumnElement[int],
               *conditions: ColumnElement[bool]) -> dict[int, int]:
    """month -> the sum of `value` over the rows whose `at` falls in it."""
    rows = select(_bucket(at, months.utc).label("bucket"), value.label("value")
                  ).where(*conditions, *_within(at, months)).subquery()
    query = select(rows.c.bucket, func.sum(rows.c.value)).group_by(rows.c.bucket)
    return {int(month): int(total or 0) for month, total in conn.execute(query)}


# --- published hours ---------------------------------------------------------------------------------------


def _published_minutes(conn: Connection, practice_id: int, practitioner_ids: list[int],
                       weeks: _Buckets) -> dict[tuple[int, int], int]:
    """(week, practitioner) -> minutes of published hours inside the period: each local date's
    override windows, else its weekday's blocks, in the practitioner's zone, split at week boundaries."""
    if not practitioner_ids:
        return {}
    zones = dict(conn.execute(select(PractitionerProfile.user_id, PractitionerProfile.timezone)
                              .where(col(PractitionerProfile.practice_id) == practice_id,
                                     col(PractitionerProfile.user_id).in_(practitioner_ids))).all())
    blocks: dict[int, list[list[tuple[int, int]]]] = {pid: [[] for _ in range(7)] for pid in practitioner_ids}
    for pid, weekday, begin, end in conn.execute(
            select(AvailabilityBlock.practitioner_id, AvailabilityBlock.weekday, AvailabilityBlock.start_minute,
                   AvailabilityBlock.end_minute).where(col(AvailabilityBlock.practice_id) == practice_id,
                                                       col(AvailabilityBlock.practitioner_id).in_(practitioner_ids))):
        blocks[pid][weekday].append((begin, end))
    first = (weeks.utc[0] - timedelta(days=2)).date()
    last = (weeks.utc[-1] + timedelta(days=2)).date()
    overrides: dict[int, dict[date, list[tuple[int, int]]]] = {pid: {} for pid in practitioner_ids}
    for pid, on, day_off, begin, end in conn.execute(
            select(AvailabilityOverride.practitioner_id, AvailabilityOverride.on_date, AvailabilityOverride.day_off,
                   AvailabilityOverride.start_minute, AvailabilityOverride.end_minute)
            .where(col(AvailabilityOverride.practice_id) == practice_id,
                   col(AvailabilityOverride.practitioner_id).in_(practitioner_ids),
                   col(AvailabilityOverride.on_date) >= first, col(AvailabilityOverride.on_date) <= last)):
        windows = overrides[pid].setdefault(on, [])
        if not day_off:
            windows.append((begin, end))
    calendars: dict[str, _LocalDays] = {}
    found: dict[tuple[int, int], int] = {}
    for pid in practitioner_ids:
        zone = ZoneInfo(zones[pid] if is_valid(zones.get(pid, "")) else "UTC")
        if zone.key not in calendars:
            calendars[zone.key] = _local_days(zone, first, last, weeks.epoch)
        days = calendars[zone.key]
        weekly = [sum(end - begin for begin, end in windows) * 60 for windows in blocks[pid]]
        open_days = [(weekday, hours) for weekday, hours in enumerate(weekly) if hours]
        # Whole days count their weekday's hours; a date with an override counts its own instead.
        seconds = [sum(counts[weekday] * hours for weekday, hours in open_days) for counts in days.weekdays]
        for day, windows in overrides[pid].items():
            if (index := days.whole.get(day)) is not None:
                seconds[index] += sum(end - begin for begin, end in windows) * 60 - weekly[day.weekday()]
        for day in days.cut:
            for begin, end in overrides[pid].get(day, blocks[pid][day.weekday()]):
                _split(seconds, weeks.epoch, _epoch(day, begin, zone), _epoch(day, end, zone))
        found.update({(n, pid): total // 60 for n, total in enumerate(seconds) if total})
    return found


def _split(seconds: list[int], bounds: list[int], begin: int, end: int) -> None:
    """Add the seconds of [begin, end) to the buckets it overlaps."""
    begin, end = max(begin, bounds[0]), min(end, bounds[-1])
    index = bisect_right(bounds, begin) - 1
    while begin < end:
        piece_end = min(end, bounds[index + 1])
        seconds[index] += piece_end - begin
        begin, index = piece_end, index + 1


@dataclass(frozen=True)
class _LocalDays:
    """A zone's local dates against the buckets (epoch seconds)."""

    weekdays: list[list[int]]  # per bucket, how many whole days of each weekday (Monday 0) lie in it
    whole: dict[date, int]  # a date lying wholly in one bucket -> that bucket
    cut: list[date]  # dates with a clock change, or across a boundary: their windows are placed one by one


def _local_days(zone: ZoneInfo, first: date, last: date, bounds: list[int]) -> _LocalDays:
    found = _LocalDays([[0] * 7 for _ in bounds[1:]], {}, [])
    day, midnight = first, _epoch(first, 0, zone)
    while day <= last:
        following = _epoch(day + timedelta(days=1), 0, zone)
        if following > bounds[0] and midnight < bounds[-1]:
            index = bisect_right(bounds, midnight) - 1
            if following - midnight == 86400 and 0 <= index < len(bounds) - 1 and following <= bounds[index + 1]:
                found.weekdays[index][day.weekday()] += 1
                found.whole[day] = index
            else:
                found.cut.append(day)
        day, midnight = day + timedelta(days=1), following
    return found


def _epoch(day: date, minute: int, zone: ZoneInfo) -> int:
    """Local wall-clock `minute` of `day` (1440: the next midnight) as epoch seconds; nonexistent
    times land after the gap, ambiguous ones mean the first occurrence (as the slot engine reads them)."""
    local = datetime.combine(day, time()) + timedelta(minutes=minute)
    return int(local.replace(tzinfo=zone, fold=0).timestamp())
