"""Clients answering reminders: the Confirm link, an SMS reply YES, the Stop email reminders link.

Each is idempotent (a second click says the same thing and changes nothing) and is checked
against the signed link's client, so a link for one appointment confirms nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import Appointment, AppointmentStatus, Client, Practice, User
from rxapp.services import changes
from rxapp.services.audit import trail
from rxapp.services.notify.reminders import links
from rxapp.services.notify.sms.inbound import register_reply
from rxapp.services.timezones import format_local


@dataclass(frozen=True)
class Answer:
    ok: bool
    title: str
    message: str
    pending: bool = False  # the link's button still has something to do (not yet confirmed / stopped)


_BAD_LINK = Answer(False, "Link not valid", "This link is not valid or has expired. Contact your practice.")


def _closed(when: str) -> Answer:
    return Answer(False, "Nothing to confirm", f"Your appointment on {when} is no longer open for confirmation. "
                  "Contact your practice if you have questions.")


def confirm(token: str) -> Answer:
    """The reminder email's Confirm link: records `confirmed_at` on a booked, future appointment."""
    found = links.read_token(links.CONFIRM, token)
    if found is None:
        return _BAD_LINK
    appointment_id, client_id = found
    with unit_of_work() as session:
        appointment = session.get(Appointment, appointment_id)
        client = session.get(Client, client_id)
        if appointment is None or client is None or appointment.client_id != client_id:
            return _BAD_LINK
        when = format_local(appointment.start_at, client.timezone)
        if AppointmentStatus(appointment.status) != AppointmentStatus.BOOKED or appointment.start_at <= now():
            return _closed(when)
        first = _mark_confirmed(session, appointment, "link")
        key = (appointment.id or 0, appointment.practice_id, appointment.practitioner_id, appointment.client_id)
    if first:
        changes.appointment_changed(*key)
    return Answer(True, "Appointment confirmed", f"Thank you, {client.full_name}: your appointment on {when} is "
                  "confirmed.")


def _mark_confirmed(session: Session, appointment: Appointment, how: str) -> bool:
    if appointment.confirmed_at is not None:
        return False
    appointment.confirmed_at = now()
    trail.record(session, practice_id=appointment.practice_id, actor_user_id=None, action="appointment.confirmed",
                 subject_type="appointment", subject_id=appointment.id or 0, by=how)
    return True


def confirm_by_sms(session: Session, clients: list[Client], _text: str) -> str | None:
    """The SMS reply YES (in the inbound route's transaction): confirms the soonest upcoming booked
    appointment still waiting for confirmation among every client with the sender's number (a
    parent may answer for a child), in a practice that asks clients to confirm; the reply says
    whose and which."""
    by_id = {c.id: c for c in clients}
    found = session.exec(
        select(Appointment, User.full_name).join(Practice, col(Practice.id) == Appointment.practice_id)
        .join(User, col(User.id) == Appointment.practitioner_id).where(
            col(Appointment.client_id).in_(list(by_id)), Appointment.status == AppointmentStatus.BOOKED,
            col(Appointment.start_at) > now(), col(Appointment.confirmed_at).is_(None),
            col(Practice.ask_clients_to_confirm).is_(True))
        .order_by(col(Appointment.start_at), col(Appointment.id))).first()
    if found is None:
        return "You have no upcoming appointment waiting for confirmation."
    appointment, practitioner = found
    client = by_id[appointment.client_id]
    _mark_confirmed(session, appointment, "sms")
    whose = "your" if len(clients) == 1 else f"{client.full_name}'s"
    return (f"Thank you: {whose} appointment with {practitioner} on "
            f"{format_local(appointment.start_at, client.timezone)} is confirmed.")


def stop_email(token: str) -> Answer:
    """The reminder email's Stop email reminders link: sets the client's opt-out."""
    found = links.read_token(links.STOP_EMAIL, token)
    if found is None:
        return _BAD_LINK
    client_id, _ = found
    with unit_of_work() as session:
        client = session.get(Client, client_id)
        if client is None:
            return _BAD_LINK
        if not client.email_reminders_opt_out:
            client.email_reminders_opt_out = True
            trail.record(session, practice_id=client.practice_id, actor_user_id=None,
                         action="client.email_reminders_opt_out", subject_type="client", subject_id=client_id)
    return Answer(True, "Email reminders stopped", "You will no longer receive reminder emails. Your practice "
                  "still emails you when an appointment is booked, changed or cancelled.")


def check(purpose: str, token: str) -> Answer:
    """What a link would do (the page before its button); not ok when the link is not valid."""
    found = links.read_token(purpose, token)
    if found is None:
        return _BAD_LINK
    with unit_of_work() as session:
        if purpose == links.STOP_EMAIL:
            client = session.get(Client, found[0])
            if client is None:
                return _BAD_LINK
            if client.email_reminders_opt_out:
                return Answer(True, "Email reminders are off", "You receive no reminder emails. Your practice still "
                              "emails you when an appointment is booked, changed or cancelled.")
            return Answer(True, "Stop email reminders?", f"{client.full_name}, press the button to stop reminder "
                          "emails about your appointments.", pending=True)
        appointment, client = session.get(Appointment, found[0]), session.get(Client, found[1])
        if appointment is None or client is None or appointment.client_id != client.id:
            return _BAD_LINK
        when = format_local(appointment.start_at, client.timezone)
        if AppointmentStatus(appointment.status) != AppointmentStatus.BOOKED or appointment.start_at <= now():
            return _closed(when)
        if appointment.confirmed_at is not None:
            return Answer(True, "Already confirmed", f"Your appointment on {when} is confirmed. Thank you.")
        return Answer(True, "Confirm your appointment", f"{client.full_name}, please confirm your appointment on "
                      f"{when}.", pending=True)


# "Reply YES to confirm" (never CANCEL: Twilio treats it as an opt-out from every text).
register_reply("YES", confirm_by_sms)
