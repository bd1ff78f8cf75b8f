"""No double booking, enforced by the database: the per-practitioner booking lock.

Every transaction that puts an appointment into a practitioner's time (book, move, re-assign;
front desk or client) starts by bumping that practitioner's `booking_seq`. On PostgreSQL the
UPDATE holds the practitioner's row lock until commit, so a second booking for the same
practitioner waits and then sees the first one's appointment in its overlap check. On SQLite the
UPDATE takes the database's write lock. It has to be the transaction's FIRST statement there:
pysqlite opens a (deferred) transaction only at the first write, so reads before it would see a
state the lock does not protect; and a transaction that read inside a WAL snapshot and then writes
after another writer committed fails at once with SQLITE_BUSY_SNAPSHOT, which no busy timeout
cures. Taken first, the write waits in SQLite's busy handler (db.py: 30 s) like any other writer;
if even that runs out the caller gets `BookingBusy`, a message, not a stack trace.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from rxapp.db import unit_of_work
from rxapp.models import Appointment

_BUMP = text("UPDATE practitioner_profile SET booking_seq = booking_seq + 1 WHERE user_id = :id")


class SlotTaken(Exception):
    """The time was booked by someone else a moment ago; the page shows fresh slots with it."""

    def __init__(self, message: str = "That time was just taken. Please choose another time.") -> None:
        super().__init__(message)


class BookingBusy(Exception):
    """SQLite's write lock stayed taken for the whole busy timeout: nothing was saved."""

    def __init__(self) -> None:
        super().__init__("Many bookings are being saved right now, so yours was not. Please try again.")


def lock_practitioner(session: Session, practitioner_id: int | None) -> None:
    """Serialise bookings of this practitioner until the transaction ends. Call it before the
    session reads anything (raises RuntimeError otherwise: a read before it is not protected)."""
    if session.in_transaction():  # it has run a statement already: reads before the lock are unprotected
        raise RuntimeError("the booking lock must be the first statement of the transaction")
    try:
        session.execute(_BUMP, {"id": practitioner_id or 0})
    except OperationalError as exc:
        if "database is locked" in str(exc.orig):  # SQLITE_BUSY after the busy timeout
            raise BookingBusy() from exc
        raise


_CLIENT = text("UPDATE client SET sms_opted_out = sms_opted_out WHERE id = :id")


def lock_client(session: Session, client_id: int) -> None:
    """Serialise one client's own bookings (any practitioner) until the transaction ends, so two
    tabs of one client cannot both pass the client's limits. Taken after the practitioner's lock
    (always in that order: no deadlock); on SQLite that lock already serialises every writer."""
    session.execute(_CLIENT, {"id": client_id})


def practitioner_of(appointment_id: int) -> int | None:
    """Whose time a change of this appointment books (read before the change's own transaction,
    so that transaction can lock first; the change re-checks it after the lock)."""
    with unit_of_work() as session:
        appointment = session.get(Appointment, appointment_id)
        return appointment.practitioner_id if appointment is not None else None
