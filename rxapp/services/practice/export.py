"""The owner takes the practice's data out: one ZIP, streamed as it is written (never whole in memory).

Inside: clients.csv, appointments.csv (status, mode, practitioner, series), availability.csv (weekly
blocks and date overrides), reminders.csv, sms_ledger.csv, team.csv, audit.csv, and calendars/ with
one .ics per practitioner. Never a secret: no password hash, Zoom token, join URL, passcode, sign-in
or link token is read. Every cell a spreadsheet would run as a formula is made text
(rxapp.text.spreadsheet_safe). Tables are read in keyset batches, so a large practice streams too.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from sqlmodel import SQLModel, col, select

from rxapp.db import unit_of_work
from rxapp.models import (
    Appointment,
    AvailabilityBlock,
    AvailabilityOverride,
    Client,
    PractitionerProfile,
    Reminder,
    Role,
    SmsCreditEntry,
    User,
)
from rxapp.services.audit import entries, trail
from rxapp.services.permissions import Action, NotAllowed, Principal, require
from rxapp.services.telehealth.meetings import emails
from rxapp.text import spreadsheet_safe

BATCH = 1000
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return spreadsheet_safe(str(value))


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class _Pipe(io.RawIOBase):
    """A write-only, unseekable stream whose bytes are taken out as they come (zipfile streams into it)."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out, self.chunks = b"".join(self.chunks), []
        return out


def _batches(model: type[SQLModel], practice_id: int, *conditions: Any) -> Iterator[SQLModel]:
    """Every row of `model` of the practice, by id, a batch per transaction."""
    last = 0
    while True:
        with unit_of_work() as session:
            rows = session.exec(select(model).where(col(model.practice_id) == practice_id,  # type: ignore[attr-defined]
                                                    col(model.id) > last, *conditions)  # type: ignore[attr-defined]
                                .order_by(col(model.id)).limit(BATCH)).all()  # type: ignore[attr-defined]
        yield from rows
        if len(rows) < BATCH:
            return
        last = rows[-1].id  # type: ignore[attr-defined]


def _names(practice_id: int) -> tuple[dict[int, str], dict[int, str]]:
    with unit_of_work() as session:
        people = {u.id or 0: u.full_name for u in session.exec(select(User).where(User.practice_id == practice_id))}
        clients = {i or 0: name for i, name in session.exec(
            select(Client.id, Client.full_name).where(Client.practice_id == practice_id)).all()}
    return people, clients


def _clients(pid: int) -> Iterator[list[str]]:
    yield ["id", "first_name", "last_name", "preferred_name", "full_name", "email", "mobile", "timezone",
           "date_of_birth", "notes", "archived_at", "sms_opted_out", "email_reminders_opt_out", "created_at"]
    for c in _batches(Client, pid):
        assert isinstance(c, Client)
        yield [_text(v) for v in (c.id, c.first_name, c.last_name, c.preferred_name, c.full_name, c.email, c.phone,
                                  c.timezone, c.date_of_birth, c.notes, c.archived_at, c.sms_opted_out,
                                  c.email_reminders_opt_out, c.created_at)]


def _appointments(pid: int, people: dict[int, str], clients: dict[int, str]) -> Iterator[list[str]]:
    yield ["id", "start_utc", "end_utc", "timezone", "minutes", "practitioner", "client_id", "client", "mode",
           "status", "cancel_reason", "series_id", "topic", "notes", "place_of_service", "confirmed_at",
           "booked_by", "created_at"]
    for a in _batches(Appointment, pid):
        assert isinstance(a, Appointment)
        yield [_text(v) for v in (
            a.id, a.start_at, a.end_at, a.timezone, a.duration_minutes, people.get(a.practitioner_id, ""),
            a.client_id, clients.get(a.client_id, ""), "telehealth" if a.telehealth else "in person", a.status,
            a.cancel_reason, a.series_id, a.topic, a.notes, a.pos_code, a.confirmed_at,
            people.get(a.created_by_user_id or 0, ""), a.created_at)]


def _availability(pid: int, people: dict[int, str]) -> Iterator[list[str]]:
    yield ["practitioner", "kind", "weekday_or_date", "day_off", "start", "end", "mode"]
    for b in _batches(AvailabilityBlock, pid):
        assert isinstance(b, AvailabilityBlock)
        yield [_text(v) for v in (people.get(b.practitioner_id, ""), "weekly", _WEEKDAYS[b.weekday], False,
                                  _hhmm(b.start_minute), _hhmm(b.end_minute), b.mode)]
    for o in _batches(AvailabilityOverride, pid):
        assert isinstance(o, AvailabilityOverride)
        yield [_text(v) for v in (people.get(o.practitioner_id, ""), "date", o.on_date.isoformat(), o.day_off,
                                  "" if o.day_off else _hhmm(o.start_minute), "" if o.day_off else _hhmm(o.end_minute),
                                  "" if o.day_off else o.mode)]


def _reminders(pid: int) -> Iterator[list[str]]:
    yield ["appointment_id", "kind", "due_at", "status", "sent_at", "email_outcome", "sms_outcome"]
    for r in _batches(Reminder, pid):
        assert isinstance(r, Reminder)
        yield [_text(v) for v in (r.appointment_id, r.kind, r.due_at, r.status, r.sent_at, r.email_outcome,
                                  r.sms_outcome)]


def _ledger(pid: int, people: dict[int, str]) -> Iterator[list[str]]:
    yield ["at", "kind", "credits", "note", "by"]
    for e in _batches(SmsCreditEntry, pid):
        assert isinstance(e, SmsCreditEntry)
        yield [_text(v) for v in (e.created_at, e.kind, e.amount, e.note, people.get(e.created_by_user_id or 0, ""))]


def _team(pid: int) -> Iterator[list[str]]:
    yield ["id", "name", "email", "role", "active", "joined", "two_step_sign_in", "created_at"]
    for u in _batches(User, pid, User.role != Role.CLIENT):
        assert isinstance(u, User)
        yield [_text(v) for v in (u.id, u.full_name, u.email, u.role, u.is_active, u.password_hash is not None,
                                  u.mfa_enabled_at is not None, u.created_at)]


def _calendar(pid: int, practitioner_id: int, name: str, clients: dict[int, str]) -> bytes:
    calendar = emails.calendar_of("export", name)
    for a in _batches(Appointment, pid, Appointment.practitioner_id == practitioner_id):
        assert isinstance(a, Appointment)
        mode = "telehealth" if a.telehealth else "in person"
        calendar.add_component(emails.appointment_event(a, f"{clients.get(a.client_id, 'Client')} ({mode})"))
    return calendar.to_ical()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")[:60] or "practitioner"


def _csv_into(archive: zipfile.ZipFile, pipe: _Pipe, name: str, rows: Iterable[list[str]]) -> Iterator[bytes]:
    with archive.open(name, "w", force_zip64=True) as member, io.TextIOWrapper(member, "utf-8", newline="") as out:
        writer = csv.writer(out)
        for n, row in enumerate(rows, 1):
            writer.writerow(row)
            if n % BATCH == 0:
                out.flush()
                yield pipe.take()
    yield pipe.take()


def export_archive(principal: Principal) -> Iterator[bytes]:
    """The practice's data as ZIP bytes, chunk by chunk. Only the owner (raises `NotAllowed` before any
    byte); audited."""
    require(principal, Action.PRACTICE_SETTINGS)
    if Role(principal.role) != Role.OWNER:
        raise NotAllowed("only the owner exports the practice's data")
    pid = principal.practice_id
    with unit_of_work() as session:
        trail.record(session, practice_id=pid, actor_user_id=principal.user_id, action="practice.exported",
                     subject_type="practice", subject_id=pid)
        practitioners = session.exec(select(User.id, User.full_name).join(
            PractitionerProfile, col(PractitionerProfile.user_id) == User.id).where(User.practice_id == pid)).all()
    people, clients = _names(pid)
    audit = entries.export_rows(principal, entries.AuditFilters(timezone="UTC"))
    files: list[tuple[str, Callable[[], Iterable[list[str]]]]] = [
        ("clients.csv", lambda: _clients(pid)), ("appointments.csv", lambda: _appointments(pid, people, clients)),
        ("availability.csv", lambda: _availability(pid, people)), ("reminders.csv", lambda: _reminders(pid)),
        ("sms_ledger.csv", lambda: _ledger(pid, people)), ("team.csv", lambda: _team(pid)),
        ("audit.csv", lambda: audit)]

    def stream() -> Iterator[bytes]:
        pipe = _Pipe()
        with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED) as archive:  # type: ignore[arg-type]
            for name, rows in files:
                yield from _csv_into(archive, pipe, name, rows())
            for practitioner_id, name in practitioners:
                archive.writestr(f"calendars/{practitioner_id}-{_slug(name)}.ics",
                                 _calendar(pid, practitioner_id or 0, name, clients))
                yield pipe.take()
        yield pipe.take()

    return stream()
