"""The reminder job: claim due reminders, queue their email and SMS in the outbox, mark them sent.

Exactly once, with any number of workers: a claim is ONE UPDATE that takes due rows and sets a
lease (`claimed_until`). On PostgreSQL the rows are picked with `FOR UPDATE SKIP LOCKED`, so
two workers take disjoint batches without waiting; on SQLite the statement runs under the
database's single write lock, so it is atomic as it stands. Sending a claimed batch is then one
transaction that starts by re-asserting the lease (a write first, so SQLite takes its write
lock before reading) and queues the messages with idempotency keys holding the appointment's
start: a reminder retried after a crash (its lease ran out) can never queue a second copy, and a
moved appointment gets a fresh reminder. The batch is read in a few queries and written in one
flush (a few statements for all its rows), not a round trip per row. The outbox retries failed
sends with backoff and shows a message that failed for good on the Needs attention page.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, update
from sqlmodel import Session, col, select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import (
    Appointment,
    AppointmentStatus,
    Client,
    Meeting,
    Practice,
    Reminder,
    ReminderKind,
    ReminderStatus,
    User,
)
from rxapp.services import crypto
from rxapp.services.notify.outbox import look_up_keys, queue_email, queue_sms
from rxapp.services.notify.reminders import content, links
from rxapp.services.notify.reminders.planning import plan
from rxapp.settings import get_settings

log = logging.getLogger(__name__)

# How long a worker owns a claimed reminder; one left `sending` by a crash is taken again after it.
LEASE = timedelta(minutes=2)
BATCH = 200


def _due(at: datetime) -> ColumnElement[bool]:
    return and_(col(Reminder.due_at) <= at, or_(
        col(Reminder.status) == ReminderStatus.PENDING,
        and_(col(Reminder.status) == ReminderStatus.SENDING, col(Reminder.claimed_until) < at)))


def claim_due(limit: int = BATCH, at: datetime | None = None,
              only: Collection[int] = ()) -> tuple[list[int], datetime]:
    """Claim up to `limit` due reminders for this worker; returns their ids and the lease end.
    `only`: just these appointments' (a browser test runs the job as of a later time for its own)."""
    at = at or now()
    until = at + LEASE
    picked = select(Reminder.id).where(_due(at))
    if only:
        picked = picked.where(col(Reminder.appointment_id).in_(list(only)))
    picked = (picked.order_by(col(Reminder.due_at), col(Reminder.id)).limit(limit)
              .with_for_update(skip_locked=True))  # FOR UPDATE SKIP LOCKED on PostgreSQL, nothing on SQLite
    statement = (update(Reminder).where(col(Reminder.id).in_(picked), _due(at))
                 .values(status=ReminderStatus.SENDING, claimed_until=until, attempts=Reminder.attempts + 1)
                 .returning(Reminder.id).execution_options(synchronize_session=False))
    with unit_of_work() as session:
        ids = list(session.execute(statement).scalars())
    return ids, until


def _zoom(session: Session, appointment: Appointment, practice: Practice) -> content.ZoomDetails | None:
    """The client's join details for the reminder, when the practice sends them and Zoom has them."""
    if not practice.telehealth_reminder_includes_link:
        return None
    meeting = session.get(Meeting, appointment.id)
    if meeting is None or not meeting.join_url_encrypted:
        return None
    passcode = crypto.decrypt(meeting.passcode_encrypted) if meeting.passcode_encrypted else ""
    return content.ZoomDetails(join_url=crypto.decrypt(meeting.join_url_encrypted),
                               meeting_id=meeting.zoom_meeting_id, passcode=passcode)


def facts(session: Session, reminder: Reminder, appointment: Appointment) -> content.ReminderFacts:
    """What the reminder says, from the appointment as it is now."""
    client = session.get(Client, appointment.client_id)
    practice = session.get(Practice, appointment.practice_id)
    assert client is not None and practice is not None
    confirm = links.url(links.CONFIRM, appointment.id or 0, client.id or 0) \
        if practice.ask_clients_to_confirm and appointment.confirmed_at is None else ""
    return content.ReminderFacts(
        kind=ReminderKind(reminder.kind), appointment=appointment, client=client, practice=practice,
        practitioner_name=content.practitioner_name(session.get(User, appointment.practitioner_id)),
        portal_url=get_settings().portal_url,
        zoom=_zoom(session, appointment, practice) if reminder.kind == ReminderKind.TELEHEALTH else None,
        confirm_url=confirm, stop_email_url=links.url(links.STOP_EMAIL, client.id or 0, client.id or 0))


def _why_not(reminder: Reminder, appointment: Appointment | None, at: datetime) -> str:
    if appointment is None:
        return "appointment deleted"
    if AppointmentStatus(appointment.status) != AppointmentStatus.BOOKED:
        return f"appointment {AppointmentStatus(appointment.status).value.replace('_', ' ')}"
    if reminder.kind == ReminderKind.TELEHEALTH and not appointment.telehealth:
        return "no longer telehealth"
    if appointment.start_at <= at:
        return "the appointment had started"
    return ""


def _queue_sms(session: Session, f: content.ReminderFacts, key: str, body: str) -> str:
    """Queue the SMS; returns "" or why it was skipped (opted out, no mobile number). Too few
    credits is decided when the outbox sends it (recorded on the message)."""
    return queue_sms(session, practice_id=f.appointment.practice_id, key=key, to=f.client.phone or "",
                     body=body, telehealth=f.kind == ReminderKind.TELEHEALTH, client_id=f.client.id,
                     sealed=f.zoom is not None)


def send_batch(ids: list[int], until: datetime, at: datetime | None = None) -> int:
    """Queue the messages of claimed reminders and mark them sent, in one transaction; returns how
    many were sent. A reminder that fails (its reason in the log) stays claimed and is taken again
    after its lease; a message it had queued already is not queued again (its key). Raises when
    the database refuses the batch's writes (`run_due` then sends each alone). A reminder whose
    lease was lost (another worker took it after the lease ran out) is left alone; a cancelled or
    moved appointment's is cancelled or re-planned."""
    at = at or now()
    sent = 0
    with unit_of_work() as session:
        # The first statement writes (SQLite takes its write lock before any read) and re-asserts the lease.
        owned = list(session.execute(update(Reminder).where(
            col(Reminder.id).in_(ids), col(Reminder.status) == ReminderStatus.SENDING,
            col(Reminder.claimed_until) == until).values(updated_at=at).returning(Reminder.id)
            .execution_options(synchronize_session=False)).scalars())
        batch = _load(session, owned)
        look_up_keys(session, [f"{_key(r, batch.appointments[r.appointment_id])}:{channel}"
                               for r in batch.reminders if r.appointment_id in batch.appointments
                               for channel in ("email", "sms")])
        # Written in one flush at the commit: a query in between would flush row by row.
        with session.no_autoflush:
            for reminder in batch.reminders:
                try:
                    sent += _send(session, reminder, batch.appointments.get(reminder.appointment_id), at)
                except Exception:  # retried after the lease
                    log.exception("reminder %s not sent", reminder.id)
    return sent


@dataclass(frozen=True)
class _Batch:
    """A batch's reminders and the rows their messages are built from, loaded together and held
    here (the session's identity map then answers each reminder's `session.get` while they live)."""

    reminders: list[Reminder]
    appointments: dict[int, Appointment]
    held: list[object]


def _load(session: Session, ids: list[int]) -> _Batch:
    if not ids:
        return _Batch([], {}, [])
    reminders = list(session.exec(select(Reminder).where(col(Reminder.id).in_(ids)).order_by(col(Reminder.id))))
    appointments = {a.id or 0: a for a in session.exec(select(Appointment).where(
        col(Appointment.id).in_({r.appointment_id for r in reminders})))}
    rows = appointments.values()
    held: list[object] = [
        *session.exec(select(Client).where(col(Client.id).in_({a.client_id for a in rows}))),
        *session.exec(select(Practice).where(col(Practice.id).in_({a.practice_id for a in rows}))),
        *session.exec(select(User).where(col(User.id).in_({a.practitioner_id for a in rows}))),
    ]
    telehealth = [r.appointment_id for r in reminders if r.kind == ReminderKind.TELEHEALTH]
    if telehealth:
        held += session.exec(select(Meeting).where(col(Meeting.id).in_(telehealth))).all()
    return _Batch(reminders, appointments, held)


def send_one(reminder_id: int, until: datetime, at: datetime | None = None) -> bool:
    """`send_batch` for one reminder."""
    return send_batch([reminder_id], until, at) == 1


def _key(reminder: Reminder, appointment: Appointment) -> str:
    """The messages' idempotency key (plus ":email" / ":sms"): one per appointment, kind and start."""
    return f"reminder:{appointment.id}:{reminder.kind}:{appointment.start_at.isoformat()}"


def _send(session: Session, reminder: Reminder, appointment: Appointment | None, at: datetime) -> bool:
    why = _why_not(reminder, appointment, at)
    if why:
        reminder.status, reminder.claimed_until, reminder.note = (
            ReminderStatus.SKIPPED if why == "the appointment had started" else ReminderStatus.CANCELLED, None, why)
        return False
    assert appointment is not None
    if appointment.start_at != reminder.planned_start_at:  # moved by a path that did not re-plan
        with session.begin_nested():  # rare: its own savepoint, so a failing re-plan leaves nothing behind
            plan(session, appointment)
        return False
    f = facts(session, reminder, appointment)
    key = _key(reminder, appointment)
    # Built before anything is queued: a reminder whose content fails queues nothing.
    email = content.email(f) if f.client.email and not f.client.email_reminders_opt_out else None
    text = content.sms(f)
    if f.client.email_reminders_opt_out:
        reminder.email_outcome = "skipped: opted out of email reminders"
    elif email is None:
        reminder.email_outcome = "skipped: no email address"
    else:
        # With the Zoom join link and passcode in it, the stored message is sealed (encrypted at rest).
        queue_email(session, practice_id=appointment.practice_id, key=f"{key}:email", email=email,
                    sealed=f.zoom is not None)
        reminder.email_outcome = "queued"
    skipped = _queue_sms(session, f, f"{key}:sms", text)
    reminder.sms_outcome = f"skipped: {skipped}" if skipped else "queued"
    reminder.status, reminder.sent_at, reminder.sent_for_start_at = ReminderStatus.SENT, at, appointment.start_at
    reminder.claimed_until, reminder.note = None, ""
    return True


def run_due(at: datetime | None = None, limit: int = BATCH, rounds: int = 50, only: Collection[int] = ()) -> int:
    """Claim and send due reminders until none are left (at most `rounds` batches); returns how
    many were sent. Blocking: run it in a worker thread."""
    sent = 0
    for _ in range(rounds):
        ids, until = claim_due(limit, at, only)
        if not ids:
            break
        try:
            sent += send_batch(ids, until, at)
        except Exception:  # e.g. a row the database refuses: it must not hold back the rest of its batch
            log.exception("%d reminders not sent together; trying each alone", len(ids))
            sent += _send_each(ids, until, at)
    return sent


def _send_each(ids: list[int], until: datetime, at: datetime | None) -> int:
    """Each reminder in its own transaction; one that fails again is taken again after its lease."""
    sent = 0
    for reminder_id in ids:
        try:
            sent += send_one(reminder_id, until, at)
        except Exception as exc:  # the batch's failure is in the log already
            log.warning("reminder %s not sent: %s", reminder_id, type(exc).__name__)
    return sent
