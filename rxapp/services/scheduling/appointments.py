"""The appointment book's use cases: book (once or repeating), change (time, length,
practitioner, mode, notes; this one or this and following), cancel, record the outcome.

An appointment owns the visit. A telehealth appointment has a Zoom meeting row (same id) that
the sync job (`services.telehealth.meetings.sync`) keeps in step with Zoom: every use case writes the
appointment and queues its Zoom work in one transaction, so Zoom being slow or down never loses
a booking and nothing is created twice. The client's email goes to the outbox in that same
transaction. `push_to_zoom` makes the first attempt right after the commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import (
    Appointment,
    AppointmentStatus,
    Client,
    Meeting,
    Practice,
    PractitionerProfile,
    Role,
    User,
)
from rxapp.services import changes
from rxapp.services.audit import trail
from rxapp.services.clients.directory import own_client_record, visible_client
from rxapp.services.notify import reminders
from rxapp.services.notify.outbox import queue_email
from rxapp.services.permissions import Action, NotAllowed, Principal, can, require
from rxapp.services.scheduling import booking_lock, waitlist
from rxapp.services.scheduling.recurrence import Repeat, check_length, local_start, occurrences
from rxapp.services.scheduling.zoom_follow import follow_zoom, push_to_zoom, tell_practitioner, zoom_problem_for
from rxapp.services.telehealth.meeting_list import meeting_search_text
from rxapp.services.telehealth.meetings import emails
from rxapp.services.telehealth.meetings.actions import REASON_MAX, cancel_in_session
from rxapp.services.telehealth.meetings.schedule import meeting_facts, overlapping, too_long
from rxapp.services.timezones import format_local, is_valid

IN_PERSON_POS = "11"
NOTES_MAX = 2000


class AppointmentInvalid(Exception):
    """Bad input; `errors` maps each form field to a message for next to that field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class OverlapWarning(Exception):
    """The time overlaps other appointments of the practitioner; saving needs `allow_overlap`."""

    def __init__(self, message: str, conflicts: list[str]) -> None:
        super().__init__(message)
        self.message, self.conflicts = message, conflicts


class PastTimeWarning(Exception):
    """The start has already passed; saving needs `record_past` (a visit recorded after the fact)."""

    MESSAGE = "This time has passed: record a past visit?"

    def __init__(self) -> None:
        super().__init__(self.MESSAGE)


class AppointmentRefused(Exception):
    """The appointment's state does not allow this; the message says why."""


@dataclass(frozen=True)
class AppointmentDraft:
    client_id: int | None
    practitioner_id: int | None
    date: str  # YYYY-MM-DD, in `timezone`
    hour: str  # HH:MM, in `timezone`
    duration_minutes: int
    telehealth: bool
    timezone: str = ""  # "" for the practitioner's
    notes: str = ""
    repeat: Repeat | None = None
    allow_overlap: bool = False
    record_past: bool = False  # the person confirmed that the time has passed (PastTimeWarning)


@dataclass(frozen=True)
class AppointmentChange:
    """What to change; None keeps the current value."""

    date: str | None = None
    hour: str | None = None
    timezone: str | None = None  # the zone `date` and `hour` are in ("" or None: the appointment's)
    duration_minutes: int | None = None
    practitioner_id: int | None = None
    telehealth: bool | None = None
    notes: str | None = None
    allow_overlap: bool = False


# Self-booking (services.scheduling.self_booking) passes these: run inside the use case's transaction right
# after the booking lock, they re-check the client's rights and the slot, or raise to refuse.
BookingGuard = Callable[[Session], None]
OwnAppointment = Callable[[Session, int], Appointment]  # the client's own booked appointment with this id


@dataclass(frozen=True)
class Saved:
    ids: list[int]
    message: str  # what happened, for the person who did it
    zoom_notice: str = ""  # why a Zoom meeting is pending (the practitioner must act), or ""


# -- who may do what ----------------------------------------------------------------------------

def _practitioner(session: Session, principal: Principal, practitioner_id: int | None,
                  errors: dict[str, str]) -> tuple[User, PractitionerProfile] | None:
    """The practitioner the principal may book for: themselves for a practitioner; anyone active
    in the practice for owners, managers and front desk."""
    if principal.role == Role.PRACTITIONER and practitioner_id not in (None, principal.user_id):
        raise NotAllowed("practitioners book for themselves")
    wanted = principal.user_id if principal.role == Role.PRACTITIONER else practitioner_id
    user = session.get(User, wanted) if wanted else None
    profile = session.get(PractitionerProfile, wanted) if wanted else None
    if user is None or profile is None or user.practice_id != principal.practice_id:
        errors["practitioner"] = "Choose a practitioner of your practice."
        return None
    if not user.is_active:
        errors["practitioner"] = f"{user.full_name} is deactivated: choose another practitioner."
        return None
    return user, profile


def _client(session: Session, principal: Principal, client_id: int | None, errors: dict[str, str]) -> Client | None:
    """The client to book, when the principal may reach them (directory's rule: the front desk books
    anyone of the practice, a practitioner only clients they already reach, a client only themselves)."""
    if can(principal, Action.USE_PORTAL):
        own = own_client_record(session, principal)
        client = own if own is not None and client_id and own.id == client_id else None
    else:
        client = visible_client(session, principal, client_id) if client_id else None
    if client is None:
        errors["client"] = "Choose one of your clients."
        return None
    if client.archived_at is not None:
        errors["client"] = f"{client.full_name} is archived: restore them on the Clients page first."
        return None
    return client


def _editable(session: Session, principal: Principal, appointment_id: int) -> Appointment:
    """The appointment with this id, when the principal may change it (re-checked on every call)."""
    require(principal, Action.MANAGE_APPOINTMENTS)
    appointment = session.get(Appointment, appointment_id)
    if appointment is None or appointment.practice_id != principal.practice_id:
        raise NotAllowed("no such appointment")
    if principal.role == Role.PRACTITIONER and appointment.practitioner_id != principal.user_id:
        raise NotAllowed("not your appointment")
    return appointment


def _booked(session: Session, principal: Principal, appointment_id: int, verb: str) -> Appointment:
    """A booked appointment the principal may change (`verb` says how, for the refusal)."""
    appointment = _editable(session, principal, appointment_id)
    if appointment.status != AppointmentStatus.BOOKED:
        shown = appointment.status.replace("_", " ")
        raise AppointmentRefused(f"Only a booked appointment can be {verb}; this one is {shown}.")
    return appointment


def _announce(appointments: Iterable[tuple[int, int, int, int]]) -> None:
    for appointment_id, practice_id, practitioner_id, client_id in appointments:
        changes.appointment_changed(appointment_id, practice_id, practitioner_id, client_id)


def _key(a: Appointment) -> tuple[int, int, int, int]:
    return a.id or 0, a.practice_id, a.practitioner_id, a.client_id


def _overlap_warning(session: Session, practitioner: User, starts: list[datetime], minutes: int,
                     telehealth: bool, exclude: frozenset[int]) -> OverlapWarning | None:
    conflicts = [c for s in starts for c in overlapping(session, practitioner.id or 0, s, minutes, exclude)]
    if not conflicts:
        return None
    message = f"{practitioner.full_name} already has an appointment then: {', '.join(conflicts[:3])}"
    message += f" and {len(conflicts) - 3} more." if len(conflicts) > 3 else "."
    if telehealth:
        message += " One Zoom licence hosts one meeting at a time, so both cannot run in Zoom at once."
    return OverlapWarning(message, conflicts)


# -- use cases ----------------------------------------------------------------------------------

def book_appointments(principal: Principal, draft: AppointmentDraft, *, guard: BookingGuard | None = None) -> Saved:
    """Book one appointment, or a weekly / two-weekly series (each occurrence its own appointment).

    A telehealth appointment gets its Zoom meeting queued (created right after by `push_to_zoom`
    and the retry job); when the practitioner cannot have Zoom meetings now, the appointment is
    still saved, its meeting marked pending, and `zoom_notice` says why. Raises
    `AppointmentInvalid`, `OverlapWarning` (unless `allow_overlap`), `NotAllowed`; a client booking
    themselves passes `guard` (it raises its own refusals)."""
    if guard is None or not can(principal, Action.USE_PORTAL):
        require(principal, Action.MANAGE_APPOINTMENTS)
    errors: dict[str, str] = {}
    with unit_of_work() as session:
        booking_lock.lock_practitioner(
            session, principal.user_id if principal.role == Role.PRACTITIONER else draft.practitioner_id)
        if guard is not None:
            guard(session)
        found = _practitioner(session, principal, draft.practitioner_id, errors)
        client = _client(session, principal, draft.client_id, errors)
        zone = draft.timezone or (found[1].timezone if found else "UTC")
        local = local_start(draft.date, draft.hour, zone, errors)
        check_length(draft.duration_minutes, errors)
        notes = draft.notes.strip()
        if len(notes) > NOTES_MAX:
            errors["notes"] = too_long(NOTES_MAX, len(notes))
        starts = occurrences(local, draft.repeat, errors) if local is not None else []
        if draft.telehealth and starts and starts[0] <= now():
            errors["hour"] = "A telehealth appointment cannot start in the past."
        if errors or found is None or client is None or not starts:
            raise AppointmentInvalid(errors or {"form": "Check the form."})
        practitioner, _ = found
        past = starts[0] <= now()
        if past and not draft.record_past:
            raise PastTimeWarning()
        warning = _overlap_warning(session, practitioner, starts, draft.duration_minutes, draft.telehealth,
                                   frozenset())
        if warning is not None and not draft.allow_overlap:
            raise warning
        practice = session.get(Practice, principal.practice_id)
        assert practice is not None
        series = str(uuid.uuid4()) if len(starts) > 1 else None
        booked: list[Appointment] = []
        problem = ""
        for start in starts:
            appointment = Appointment(
                practice_id=practice.id or 0, practitioner_id=practitioner.id or 0, client_id=client.id or 0,
                start_at=start, duration_minutes=draft.duration_minutes, timezone=zone, telehealth=draft.telehealth,
                pos_code=practice.default_pos_code if draft.telehealth else IN_PERSON_POS, notes=notes,
                series_id=series, search_text=meeting_search_text("", notes, client.full_name),
                created_by_user_id=principal.user_id, changed_by_user_id=principal.user_id)
            session.add(appointment)
            session.flush()
            problem = follow_zoom(session, appointment) or problem
            reminders.plan(session, appointment)
            booked.append(appointment)
        first = booked[0]
        if problem:
            tell_practitioner(session, first, problem, principal.user_id)
        trail.record(session, practice_id=practice.id or 0, actor_user_id=principal.user_id,
                     action="appointment.booked", subject_type="appointment", subject_id=first.id or 0,
                     occurrences=len(booked), telehealth=draft.telehealth, overlaps=bool(warning),
                     **({"recorded_after": True} if past else {}))
        if client.email and booked[-1].start_at > now():  # a visit recorded after the fact is no news
            later = [format_local(a.start_at, client.timezone) for a in booked[1:]]
            queue_email(session, practice_id=practice.id or 0, key=f"appointment-booked:{first.id}",
                        email=emails.booked(meeting_facts(session, first), later))
        keys = [_key(a) for a in booked]
    _announce(keys)
    waitlist.slot_freed(principal.practice_id)  # the freed time goes to the clients waiting for one
    count = f"{len(keys)} appointments" if len(keys) > 1 else "Appointment"
    notice = f"The Zoom meeting is pending: {problem}." if problem else ""
    return Saved(ids=[k[0] for k in keys], message=f"{count} booked.", zoom_notice=notice)


def _targets(session: Session, appointment: Appointment, scope: str) -> list[Appointment]:
    """The appointment alone, or it and the later booked ones of its series ("following")."""
    if scope == "this" or appointment.series_id is None:
        return [appointment]
    if scope != "following":
        raise ValueError(f"unknown scope {scope!r}")
    return list(session.exec(select(Appointment).where(
        Appointment.series_id == appointment.series_id, Appointment.start_at >= appointment.start_at,
        Appointment.status == AppointmentStatus.BOOKED).order_by(col(Appointment.start_at))).all())


def _shifted(appointment: Appointment, delta: timedelta, zone: str) -> datetime:
    """The appointment moved by `delta` of wall-clock time in `zone` (DST-safe for a series)."""
    local = appointment.start_at.astimezone(ZoneInfo(zone)).replace(tzinfo=None) + delta
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def change_appointment(principal: Principal, appointment_id: int, change: AppointmentChange,
                       scope: str = "this", *, own: OwnAppointment | None = None) -> Saved:
    """Change a booked appointment (or it and the following ones of its series): time, length,
    practitioner (re-assign), mode (in person <-> telehealth), notes. Zoom follows: a new time
    PATCHes the same Zoom meeting (same link); a new practitioner moves the meeting to their Zoom
    account; a mode change creates or deletes it. The client is emailed what changed.

    Raises `AppointmentInvalid`, `OverlapWarning` (unless `allow_overlap`), `AppointmentRefused`,
    `NotAllowed`; a client moving their own appointment passes `own` (it raises its own refusals)."""
    errors: dict[str, str] = {}
    locked = change.practitioner_id or booking_lock.practitioner_of(appointment_id)
    with unit_of_work() as session:
        booking_lock.lock_practitioner(session, locked)
        anchor = own(session, appointment_id) if own else _booked(session, principal, appointment_id, "changed")
        if (change.practitioner_id or anchor.practitioner_id) != locked:
            raise AppointmentRefused("Someone changed this appointment a moment ago: look at it again.")
        targets = _targets(session, anchor, scope)
        zone = change.timezone or anchor.timezone
        new_start = anchor.start_at
        local_changed = change.date is not None or change.hour is not None
        if local_changed:
            current = anchor.start_at.astimezone(ZoneInfo(zone)) if is_valid(zone) else anchor.start_at
            local = local_start(change.date if change.date is not None else current.date().isoformat(),
                                 change.hour if change.hour is not None else current.strftime("%H:%M"), zone, errors)
            new_start = local.astimezone(UTC) if local is not None else anchor.start_at
        minutes = change.duration_minutes if change.duration_minutes is not None else anchor.duration_minutes
        check_length(minutes, errors)
        practitioner_id = change.practitioner_id or anchor.practitioner_id
        if practitioner_id != anchor.practitioner_id and principal.role == Role.PRACTITIONER:
            raise NotAllowed("practitioners do not re-assign")
        found = _practitioner(session, principal, practitioner_id, errors)  # a practitioner's own: checked above
        telehealth = anchor.telehealth if change.telehealth is None else change.telehealth
        notes = anchor.notes if change.notes is None else change.notes.strip()
        if len(notes) > NOTES_MAX:
            errors["notes"] = too_long(NOTES_MAX, len(notes))
        if _client(session, principal, anchor.client_id, {}) is None:
            errors["client"] = "The client is archived: restore them on the Clients page first."
        delta = new_start.astimezone(ZoneInfo(anchor.timezone)).replace(tzinfo=None) - \
            anchor.start_at.astimezone(ZoneInfo(anchor.timezone)).replace(tzinfo=None)
        starts = [new_start if t.id == anchor.id else _shifted(t, delta, anchor.timezone) for t in targets]
        if telehealth and any(s <= now() for s in starts):
            errors["hour"] = "A telehealth appointment cannot start in the past."
        if errors or found is None:
            raise AppointmentInvalid(errors or {"form": "Check the form."})
        practitioner, _ = found
        moved_in_time = new_start != anchor.start_at or minutes != anchor.duration_minutes
        if moved_in_time or practitioner_id != anchor.practitioner_id or (telehealth and not anchor.telehealth):
            warning = _overlap_warning(session, practitioner, starts, minutes, telehealth,
                                       frozenset(t.id or 0 for t in targets))
            if warning is not None and not change.allow_overlap:
                raise warning
        practice = session.get(Practice, principal.practice_id)
        assert practice is not None
        before = [_key(t) for t in targets]
        split = str(uuid.uuid4()) if scope == "following" and len(targets) > 1 and anchor.series_id and \
            session.exec(select(Appointment.id).where(Appointment.series_id == anchor.series_id,
                                                      Appointment.start_at < anchor.start_at)).first() else None
        problem = ""
        for target, start in zip(targets, starts, strict=True):
            problem = _apply(session, principal, practice, target, replace(
                change, practitioner_id=practitioner_id, telehealth=telehealth, notes=notes, duration_minutes=minutes,
                timezone=zone if target.id == anchor.id and local_changed else None), start, split) or problem
        after = [_key(t) for t in targets]
    _announce(before + after)
    if before != after:
        waitlist.slot_freed(principal.practice_id)  # a move frees the old time for the clients waiting
    notice = f"The Zoom meeting is pending: {problem}." if problem else ""
    count = f"{len(after)} appointments" if len(after) > 1 else "Appointment"
    return Saved(ids=[k[0] for k in after], message=f"{count} changed.", zoom_notice=notice)


def _apply(session: Session, principal: Principal, practice: Practice, a: Appointment, change: AppointmentChange,
           start: datetime, series_id: str | None) -> str:
    """One appointment changed, Zoom queued, the client emailed, audited; returns a Zoom problem."""
    assert change.practitioner_id is not None and change.telehealth is not None and change.duration_minutes
    what = []
    if start != a.start_at or change.duration_minutes != a.duration_minutes:
        what.append("time")
    if change.practitioner_id != a.practitioner_id:
        what.append("practitioner")
    if change.telehealth != a.telehealth:
        what.append("telehealth" if change.telehealth else "in person")
    previous_practitioner = a.practitioner_id
    a.start_at, a.duration_minutes = start, change.duration_minutes
    a.timezone = change.timezone or a.timezone
    a.practitioner_id, a.telehealth, a.notes = change.practitioner_id, change.telehealth, change.notes or ""
    if "telehealth" in what:
        a.pos_code = practice.default_pos_code
    elif "in person" in what:
        a.pos_code = IN_PERSON_POS
    if series_id is not None:
        a.series_id = series_id
    client = session.get(Client, a.client_id)
    a.search_text = meeting_search_text(a.topic, a.notes, client.full_name if client else "")
    a.changed_by_user_id, a.updated_at = principal.user_id, now()
    if "time" in what:
        a.confirmed_at = None  # the client confirmed the old time
    if what:
        a.ics_sequence += 1  # the client's calendar replaces the entry with this invite
    reminders.plan(session, a)
    problem = follow_zoom(session, a) if what else ""  # notes alone never go to Zoom
    if problem:
        tell_practitioner(session, a, problem, principal.user_id)
    trail.record(session, practice_id=a.practice_id, actor_user_id=principal.user_id, action="appointment.changed",
                 subject_type="appointment", subject_id=a.id or 0, changed=",".join(what) or "notes",
                 practitioner_before=previous_practitioner, practitioner_after=a.practitioner_id)
    if what:
        facts = meeting_facts(session, a)
        if facts.client_email:
            note = ""
            if "in person" in what:
                note = "Your visit is now in person; there is no video link any more."
            elif "telehealth" in what:
                note = "Your visit is now a telehealth session: you join from your client portal."
            elif "practitioner" in what and a.telehealth:
                note = "Your session has a new video meeting: join from your client portal as before."
            queue_email(session, practice_id=a.practice_id, key=f"appointment-changed:{a.id}:{now().isoformat()}",
                        email=emails.moved(facts, a.ics_sequence, note))
    return problem


def cancel_appointment(principal: Principal, appointment_id: int, reason: str, scope: str = "this", *,
                       own: OwnAppointment | None = None) -> Saved:
    """Cancel a booked appointment (or it and the following ones of its series) with a reason the
    client receives; telehealth ones have their Zoom meeting deleted (now, or by the retry job).
    Raises `AppointmentInvalid`, `AppointmentRefused`, `NotAllowed`; a client cancelling their own
    appointment passes `own` (it raises its own refusals)."""
    reason = reason.strip()
    if not reason:
        raise AppointmentInvalid({"reason": "Enter the reason; it is sent to the client."})
    if len(reason) > REASON_MAX:
        raise AppointmentInvalid({"reason": too_long(REASON_MAX, len(reason))})
    with unit_of_work() as session:
        anchor = own(session, appointment_id) if own else _booked(session, principal, appointment_id, "cancelled")
        targets = _targets(session, anchor, scope)
        for target in targets:
            cancel_in_session(session, target, session.get(Meeting, target.id), reason, principal.user_id)
            trail.record(session, practice_id=target.practice_id, actor_user_id=principal.user_id,
                         action="appointment.cancelled", subject_type="appointment", subject_id=target.id or 0)
        keys = [_key(t) for t in targets]
    _announce(keys)
    waitlist.slot_freed(principal.practice_id)  # the freed time goes to the clients waiting for one
    count = f"{len(keys)} appointments" if len(keys) > 1 else "Appointment"
    return Saved(ids=[k[0] for k in keys], message=f"{count} cancelled; the client was emailed the reason.")


def set_outcome(principal: Principal, appointment_id: int, status: AppointmentStatus) -> Saved:
    """Record how a visit that has started went: completed or no-show. Raises
    `AppointmentRefused`, `NotAllowed`."""
    if status not in (AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW):
        raise AppointmentRefused("Record a visit as completed or no-show.")
    with unit_of_work() as session:
        appointment = _editable(session, principal, appointment_id)
        if appointment.status == AppointmentStatus.CANCELLED:
            raise AppointmentRefused("This appointment was cancelled.")
        if appointment.start_at > now() and appointment.status == AppointmentStatus.BOOKED:
            # (A session started early, or already ended before its booked time, has an outcome.)
            raise AppointmentRefused("This appointment has not started yet.")
        appointment.status, appointment.updated_at = status, now()
        appointment.outcome_recorded_at = now()
        appointment.changed_by_user_id = principal.user_id
        trail.record(session, practice_id=appointment.practice_id, actor_user_id=principal.user_id,
                     action=f"appointment.{status.value}", subject_type="appointment", subject_id=appointment_id)
        key = _key(appointment)
    _announce([key])
    label = "completed" if status == AppointmentStatus.COMPLETED else "a no-show"
    return Saved(ids=[appointment_id], message=f"Appointment recorded as {label}.")


__all__ = ["AppointmentChange", "AppointmentDraft", "AppointmentInvalid", "AppointmentRefused", "OverlapWarning",
           "Repeat", "Saved", "book_appointments", "cancel_appointment", "change_appointment", "push_to_zoom",
           "set_outcome", "zoom_problem_for"]
