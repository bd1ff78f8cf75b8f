"""Adding, editing, archiving and restoring a client record (the front desk's work)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, func, select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import Appointment, Client, Practice, TrustedPractitioner, User
from rxapp.services.audit import trail
from rxapp.services.clients.directory import visible_client, visible_clients
from rxapp.services.notify.sms import phones
from rxapp.services.permissions import Action, Principal, require
from rxapp.services.phrases import count
from rxapp.services.telehealth.meeting_list import meeting_search_text
from rxapp.services.timezones import all_timezones

NAME_LIMIT = 100
NOTES_LIMIT = 2000
EMAIL_LIMIT = 320
PHONE_PROBLEM = phones.INVALID
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class ClientForm:
    """What the Add client / Edit form holds, as typed."""

    first_name: str = ""
    last_name: str = ""
    preferred_name: str = ""
    email: str = ""
    phone: str = ""
    timezone: str = ""
    date_of_birth: str = ""  # YYYY-MM-DD or ""
    notes: str = ""


@dataclass(frozen=True)
class CleanClient:
    """A form that passed every check, in the shape it is stored."""

    first_name: str
    last_name: str
    preferred_name: str
    email: str | None
    phone: str | None
    timezone: str
    date_of_birth: date | None
    notes: str

    @property
    def full_name(self) -> str:
        return f"{self.preferred_name or self.first_name} {self.last_name}"


@dataclass(frozen=True)
class ClientDetail:
    id: int
    name: str
    first_name: str
    last_name: str
    preferred_name: str
    email: str
    phone: str
    timezone: str
    date_of_birth: date | None
    notes: str
    archived_at: datetime | None
    has_portal: bool
    trusted: str
    sms_opted_out: bool = False
    email_reminders_opt_out: bool = False
    # Others of the practice on the same mobile number (a family's phone): what the viewer may know.
    phone_shared_with: str = ""


class ClientInvalid(Exception):
    """The form has problems: field name -> message for the user."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class ClientNotFound(Exception):
    """No such client for this user (unknown, another practice's, or not theirs to see)."""

    def __init__(self) -> None:
        super().__init__("That client was not found.")


def normalize_phone(typed: str, region: str | None = None) -> str:
    """The E.164 form of a typed mobile number ("" for none), checked with `phonenumbers`; a
    number without a country code is of `region` (the practice's country). Raises
    `ValueError(PHONE_PROBLEM)` for a number that is not valid."""
    phone, problem = phones.parse_phone(typed, region)
    if problem:
        raise ValueError(problem)
    return phone


def email_problem(email: str) -> str:
    """Why this email cannot be a client's ("" when it can; an empty email is allowed)."""
    if email and (len(email) > EMAIL_LIMIT or not _EMAIL.match(email)):
        return "Enter an email address like name@example.com."
    return ""


def _name_problem(value: str, label: str, required: bool) -> str:
    if required and not value:
        return f"Enter the client's {label}."
    if len(value) > NAME_LIMIT:
        return f"The {label} can be at most {NAME_LIMIT} characters."
    return ""


def check_form(form: ClientForm, today: date, region: str | None = None) -> CleanClient:
    """The form's values cleaned up (names trimmed, email lower-cased, phone in E.164 with
    `region` for numbers without a country code), or `ClientInvalid` naming every field with a problem."""
    first, last, preferred = (" ".join(v.split()) for v in (form.first_name, form.last_name, form.preferred_name))
    email = form.email.strip().lower()
    errors = {field: problem for field, problem in (
        ("first_name", _name_problem(first, "first name", required=True)),
        ("last_name", _name_problem(last, "last name", required=True)),
        ("preferred_name", _name_problem(preferred, "preferred name", required=False)),
        ("email", email_problem(email)),
    ) if problem}
    try:
        phone = normalize_phone(form.phone, region)
    except ValueError as exc:
        errors["phone"], phone = str(exc), ""
    if form.timezone not in all_timezones():
        errors["timezone"] = "Choose the client's timezone from the list."
    birth = None
    if form.date_of_birth.strip():
        try:
            birth = date.fromisoformat(form.date_of_birth.strip())
        except ValueError:
            errors["date_of_birth"] = "Enter the date of birth as a date, like 1990-04-23."
        else:
            if birth > today:
                errors["date_of_birth"] = "The date of birth cannot be in the future."
            elif birth.year < 1900:
                errors["date_of_birth"] = "Enter a date of birth from 1 January 1900 on."
    notes = form.notes.strip()
    if len(notes) > NOTES_LIMIT:
        errors["notes"] = f"Notes can be at most {NOTES_LIMIT} characters (these have {len(notes)})."
    if errors:
        raise ClientInvalid(errors)
    return CleanClient(first_name=first, last_name=last, preferred_name=preferred, email=email or None,
                       phone=phone or None, timezone=form.timezone, date_of_birth=birth, notes=notes)


def _refuse_duplicate_email(session: Session, practice_id: int, email: str | None, client_id: int | None) -> None:
    """One email per client within a practice (any case, archived clients included)."""
    if not email:
        return
    query = select(Client.full_name, Client.archived_at).where(Client.practice_id == practice_id,
                                                               func.lower(Client.email) == email)
    if client_id is not None:
        query = query.where(col(Client.id) != client_id)
    other = session.exec(query).first()
    if other is not None:
        name, archived_at = other
        whose = f"{name} (archived)" if archived_at else name
        raise ClientInvalid({"email": f"Another client of this practice, {whose}, already has this email address."})


def _write(client: Client, clean: CleanClient) -> None:
    for name in ("first_name", "last_name", "preferred_name", "email", "phone", "timezone", "date_of_birth",
                 "notes", "full_name"):
        setattr(client, name, getattr(clean, name))


def add_client(principal: Principal, form: ClientForm) -> int:
    """Create a client record; returns its id. Raises `NotAllowed` without `MANAGE_CLIENTS`,
    `ClientInvalid` for a bad form or an email another client of the practice has."""
    require(principal, Action.MANAGE_CLIENTS)
    clean = check_form(form, now().date(), practice_region(principal.practice_id))
    with unit_of_work() as session:
        _refuse_duplicate_email(session, principal.practice_id, clean.email, None)
        client = Client(practice_id=principal.practice_id, full_name=clean.full_name)
        _write(client, clean)
        session.add(client)
        session.flush()
        trail.record(session, practice_id=principal.practice_id, actor_user_id=principal.user_id,
                     action="client.added", subject_type="client", subject_id=client.id or "")
        return client.id or 0


def practice_region(practice_id: int) -> str:
    """The country of the practice (as set up, else from its timezone): numbers typed without a
    country code are its."""
    with unit_of_work() as session:
        practice = session.get(Practice, practice_id)
        if practice is None:
            return phones.default_region()
        return practice.country or phones.region_for_timezone(practice.timezone)


def _set_consent(principal: Principal, client_id: int, field: str, opted_out: bool,
                 actions: tuple[str, str]) -> str:
    """Set one of the client's opt-out flags, audited (`actions`: opted out, opted back in) when
    it changes; returns the client's name. Raises `NotAllowed`, `ClientNotFound`."""
    with unit_of_work() as session:
        client = _managed_client(session, principal, client_id)
        if getattr(client, field) != opted_out:
            setattr(client, field, opted_out)
            trail.record(session, practice_id=client.practice_id, actor_user_id=principal.user_id,
                         action=actions[0] if opted_out else actions[1],
                         subject_type="client", subject_id=client.id or "")
        return client.full_name


def set_sms_opt_out(principal: Principal, client_id: int, opted_out: bool) -> str:
    """Record the client's SMS consent (opted out: no SMS is sent to them); returns their name.
    Raises `NotAllowed`, `ClientNotFound`."""
    return _set_consent(principal, client_id, "sms_opted_out", opted_out,
                        ("client.sms_opted_out", "client.sms_opted_in"))


def set_email_reminders_opt_out(principal: Principal, client_id: int, opted_out: bool) -> str:
    """Stop (or resume) reminder emails to the client, as the link in a reminder does; booking,
    change and cancellation emails still go. Returns their name. Raises `NotAllowed`, `ClientNotFound`."""
    return _set_consent(principal, client_id, "email_reminders_opt_out", opted_out,
                        ("client.email_reminders_opt_out", "client.email_reminders_opt_in"))


def _managed_client(session: Session, principal: Principal, client_id: int) -> Client:
    require(principal, Action.MANAGE_CLIENTS)
    client = visible_client(session, principal, client_id)
    if client is None:
        raise ClientNotFound()
    return client


def update_client(principal: Principal, client_id: int, form: ClientForm) -> None:
    """Save the edited record. A new display name also reaches the search text of the client's
    appointments (the Meetings page search). Raises `NotAllowed`, `ClientNotFound`, `ClientInvalid`."""
    clean = check_form(form, now().date(), practice_region(principal.practice_id))
    with unit_of_work() as session:
        client = _managed_client(session, principal, client_id)
        _refuse_duplicate_email(session, client.practice_id, clean.email, client.id)
        renamed = client.full_name != clean.full_name
        _write(client, clean)
        if renamed:
            for a in session.exec(select(Appointment).where(Appointment.client_id == client.id)).all():
                a.search_text = meeting_search_text(a.topic, a.notes, client.full_name)
        trail.record(session, practice_id=client.practice_id, actor_user_id=principal.user_id,
                     action="client.updated", subject_type="client", subject_id=client.id or "")


def set_archived(principal: Principal, client_id: int, archived: bool) -> str:
    """Archive (hide from pickers and the default list; history kept) or restore a client;
    returns their name. Doing it twice changes nothing. Raises `NotAllowed`, `ClientNotFound`."""
    with unit_of_work() as session:
        client = _managed_client(session, principal, client_id)
        if archived != (client.archived_at is not None):
            client.archived_at = now() if archived else None
            trail.record(session, practice_id=client.practice_id, actor_user_id=principal.user_id,
                         action="client.archived" if archived else "client.restored", subject_type="client",
                         subject_id=client.id or "")
        return client.full_name


def _split(full_name: str) -> tuple[str, str]:
    """First and last name of a record written before they were separate fields (migration 0006b's rule)."""
    first, _, last = full_name.strip().rpartition(" ")
    return (first.strip(), last) if first.strip() else (last, "")


def edit_form(principal: Principal, client_id: int) -> ClientForm:
    """The Edit form filled from the record. Raises `NotAllowed`, `ClientNotFound`."""
    with unit_of_work() as session:
        c = _managed_client(session, principal, client_id)
        first, last = (c.first_name, c.last_name) if c.first_name or c.last_name else _split(c.full_name)
        return ClientForm(first_name=first, last_name=last, preferred_name=c.preferred_name, email=c.email or "",
                          phone=c.phone or "", timezone=c.timezone,
                          date_of_birth=c.date_of_birth.isoformat() if c.date_of_birth else "", notes=c.notes)


def new_client_form(principal: Principal) -> ClientForm:
    """An empty Add client form; the timezone starts as the practice's."""
    require(principal, Action.MANAGE_CLIENTS)
    with unit_of_work() as session:
        practice = session.get(Practice, principal.practice_id)
        return ClientForm(timezone=practice.timezone if practice else "UTC")


def _phone_shared_with(session: Session, principal: Principal, client: Client) -> str:
    """Who else of the practice has this mobile number: the names the viewer may see, and how many
    others ("" when nobody). A YES, STOP or START from the number applies to all of them."""
    if not client.phone:
        return ""
    others = session.exec(select(Client.id, Client.full_name).where(
        Client.practice_id == client.practice_id, Client.phone == client.phone, col(Client.id) != client.id)
        .order_by(col(Client.full_name))).all()
    if not others:
        return ""
    seen = set(session.exec(select(Client.id).where(col(Client.id).in_([i for i, _ in others]),
                                                    *visible_clients(principal))).all())
    names = [name for i, name in others if i in seen]
    hidden = len(others) - len(names)
    return ", ".join([*names, *([count(hidden, "other client")] if hidden else [])])


def client_detail(principal: Principal, client_id: int) -> ClientDetail:
    """The record as the client page shows it. Raises `NotAllowed` without `VIEW_CLIENTS`,
    `ClientNotFound` for a client the principal may not see."""
    with unit_of_work() as session:
        c = visible_client(session, principal, client_id)
        if c is None:
            raise ClientNotFound()
        has_portal = c.user_id is not None and session.exec(
            select(User.id).where(User.id == c.user_id, col(User.password_hash).is_not(None))).first() is not None
        trusted = session.exec(select(User.full_name).join(TrustedPractitioner, col(TrustedPractitioner
                                                                                  .practitioner_id) == User.id)
                               .where(TrustedPractitioner.client_id == c.id).order_by(col(User.full_name))).all()
        first, last = (c.first_name, c.last_name) if c.first_name or c.last_name else _split(c.full_name)
        shared = _phone_shared_with(session, principal, c)
        return ClientDetail(phone_shared_with=shared, id=c.id or 0, name=c.full_name, first_name=first, last_name=last,
                            preferred_name=c.preferred_name, email=c.email or "", phone=c.phone or "",
                            timezone=c.timezone, date_of_birth=c.date_of_birth, notes=c.notes,
                            archived_at=c.archived_at, has_portal=has_portal, trusted=", ".join(trusted),
                            sms_opted_out=c.sms_opted_out, email_reminders_opt_out=c.email_reminders_opt_out)
