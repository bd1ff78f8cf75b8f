"""Planning reminders, in the transaction that books, moves, re-assigns or cancels an appointment.

Rules (DESIGN.md, Notifications):
- a booked appointment has a standard reminder (N days before, local calendar days in the
  appointment's zone: see `timing`) and, when telehealth, a telehealth reminder (M minutes before);
- moving re-plans: `due_at` follows the new start; a reminder already sent for the old time goes
  out again only when the new time's reminder is still ahead;
- a reminder whose time has already passed when it is planned (booked, moved or turned telehealth
  inside the reminder window) is skipped: the booking or change email just told the client the
  time, and a text tells a client who has texts on (the SMS the reminder would have sent);
- cancelling (or any status other than booked, or leaving telehealth) cancels what is not sent.
The content is built when the reminder is sent, so a re-assignment needs no re-planning.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session, col, select

from rxapp.clock import now
from rxapp.models import (
    Appointment,
    AppointmentStatus,
    Client,
    Practice,
    Reminder,
    ReminderKind,
    ReminderStatus,
    User,
)
from rxapp.services.notify.outbox import queue_sms
from rxapp.services.notify.reminders.timing import standard_due, telehealth_due
from rxapp.services.timezones import format_local
from rxapp.settings import get_settings

_OPEN = (ReminderStatus.PENDING, ReminderStatus.SENDING)


def wanted(appointment: Appointment, practice: Practice) -> dict[ReminderKind, datetime]:
    """The reminders a booked appointment should have, with their due times."""
    if AppointmentStatus(appointment.status) != AppointmentStatus.BOOKED:
        return {}
    due = {ReminderKind.STANDARD: standard_due(appointment.start_at, practice.standard_reminder_days,
                                               appointment.timezone or practice.timezone)}
    if appointment.telehealth:
        due[ReminderKind.TELEHEALTH] = telehealth_due(appointment.start_at, practice.telehealth_reminder_minutes)
    return due


def plan(session: Session, appointment: Appointment) -> None:
    """Create, re-time or cancel the appointment's reminders in the caller's transaction.
    Call it after every change of the appointment's time, mode or status (flushed: it needs an id)."""
    practice = session.get(Practice, appointment.practice_id)
    assert practice is not None and appointment.id is not None
    at = now()
    due_times = wanted(appointment, practice)
    existing = {ReminderKind(r.kind): r for r in session.exec(
        select(Reminder).where(Reminder.appointment_id == appointment.id))}
    new_time = not existing or any(r.planned_start_at != appointment.start_at for r in existing.values())
    asked = False
    if due_times and new_time and practice.ask_clients_to_confirm and appointment.start_at > at:
        asked = _ask_to_confirm_by_sms(session, appointment, practice)
    skipped = False
    for kind in ReminderKind:
        row, due = existing.get(kind), due_times.get(kind)
        if due is None:
            if row is not None and ReminderStatus(row.status) in _OPEN:
                row.status, row.claimed_until, row.updated_at = ReminderStatus.CANCELLED, None, at
                state = AppointmentStatus(appointment.status)
                row.note = "no longer telehealth" if state == AppointmentStatus.BOOKED else \
                    f"appointment {state.value.replace('_', ' ')}"
            continue
        if row is None:
            row = Reminder(practice_id=appointment.practice_id, appointment_id=appointment.id, kind=kind,
                           due_at=due, planned_start_at=appointment.start_at)
            session.add(row)
        skipped = _arm(row, appointment.start_at, due, at) or skipped
    if skipped and not asked and appointment.start_at > at:
        _tell_by_sms_inside_the_window(session, appointment, practice, changed=bool(existing))


def _ask_to_confirm_by_sms(session: Session, appointment: Appointment, practice: Practice) -> bool:
    """Booked or moved, and the practice asks for confirmations: a text "Reply YES to confirm"
    (the email's Confirm link goes with the booking/change email). Only for the client's next
    appointment, as a YES confirms the next one (a weekly series gets one text, not one each).
    True when the text was queued (it tells the time too)."""
    if appointment.confirmed_at is not None:
        return False
    session.flush()  # the appointment's new time must be visible to the query below
    earlier = session.exec(select(Appointment.id).where(
        Appointment.client_id == appointment.client_id, Appointment.status == AppointmentStatus.BOOKED,
        col(Appointment.start_at) > now(), col(Appointment.start_at) < appointment.start_at)).first()
    if earlier is not None:
        return False
    return _text_the_client(session, appointment, "confirm-request", telehealth=False, words=lambda who, when: (
        f"{practice.name}: your appointment with {who} on {when} is booked. Reply YES to confirm."))


def _tell_by_sms_inside_the_window(session: Session, appointment: Appointment, practice: Practice,
                                   changed: bool) -> None:
    """A reminder was skipped (booked or moved inside its window): the booking or change email
    tells the time, and this text does for a client with texts on (opted-out clients and numbers
    that cannot take texts are recorded as skipped by the outbox). A telehealth visit's text says
    how to join: from the waiting room of the client portal."""
    kind = "video session" if appointment.telehealth else "appointment"
    join = f" Join from your portal's waiting room: {get_settings().portal_url}" if appointment.telehealth else ""
    _text_the_client(session, appointment, "inside-window", telehealth=appointment.telehealth, words=lambda who, when: (
        f"{practice.name}: your {kind} with {who} {'is now' if changed else 'is booked for'} {when}.{join}"))


def _text_the_client(session: Session, appointment: Appointment, purpose: str, *, telehealth: bool,
                     words: Callable[[str, str], str]) -> bool:
    """Queue a text about the appointment to its client, once per purpose and start time; its body is
    `words(practitioner's name, local time)`. True when queued (False: no phone, opted out, no mobile)."""
    client = session.get(Client, appointment.client_id)
    if client is None or not client.phone:
        return False
    practitioner = session.get(User, appointment.practitioner_id)
    when = format_local(appointment.start_at, client.timezone, "%a %d %b %H:%M")
    body = words(practitioner.full_name if practitioner else "us", when)
    return queue_sms(session, practice_id=appointment.practice_id, key=f"{purpose}:{appointment.id}:"
                     f"{appointment.start_at.isoformat()}", to=client.phone, body=body, telehealth=telehealth,
                     client_id=client.id) == ""


def _arm(row: Reminder, start: datetime, due: datetime, at: datetime) -> bool:
    """Re-time `row` for `start`; True when it is skipped now because its time had already passed.
    A row created in this transaction (no id yet) is always armed: it was never planned before."""
    status = ReminderStatus(row.status)
    if status == ReminderStatus.SENT and row.sent_for_start_at == start:
        row.due_at, row.planned_start_at = due, start  # sent for this very time: nothing to send again
        return False
    unchanged = row.id is not None and row.planned_start_at == start and row.due_at == due
    if unchanged and status in (*_OPEN, ReminderStatus.SKIPPED):
        return False  # a notes-only edit: a claim in progress stays valid, a skip stays skipped
    row.due_at, row.planned_start_at, row.updated_at = due, start, at
    row.claimed_until = None
    if due > at:
        row.status, row.note = ReminderStatus.PENDING, ""
        return False
    if status == ReminderStatus.SENT:
        return False
    row.status = ReminderStatus.SKIPPED
    row.note = "due before it was planned: the booking or change email told the client the time"
    return True


def replan_practice(session: Session, practice_id: int) -> int:
    """Re-plan every future booked appointment of the practice (its reminder settings changed);
    returns how many appointments were re-planned."""
    appointments = session.exec(select(Appointment).where(
        Appointment.practice_id == practice_id, Appointment.status == AppointmentStatus.BOOKED,
        col(Appointment.start_at) > now())).all()
    for appointment in appointments:
        plan(session, appointment)
    return len(appointments)
