"""What a reminder says, by email and by SMS. Built when it is sent, from the appointment as it
is then (a re-assigned appointment names its new practitioner and link).

Never a start link: a telehealth reminder carries the client's join link, meeting ID and
passcode (practice setting) or a prompt to open the portal.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from rxapp.models import Appointment, Client, Practice, ReminderKind, User
from rxapp.services.notify.outbox import OutgoingEmail
from rxapp.services.telehealth.meetings.emails import wrap_html
from rxapp.services.timezones import format_local


@dataclass(frozen=True)
class ZoomDetails:
    join_url: str
    meeting_id: int | None
    passcode: str


@dataclass(frozen=True)
class ReminderFacts:
    kind: ReminderKind
    appointment: Appointment
    client: Client
    practice: Practice
    practitioner_name: str
    portal_url: str
    zoom: ZoomDetails | None  # only when the practice sends the link and Zoom has the meeting
    confirm_url: str = ""  # the practice asks clients to confirm and this one has not yet
    stop_email_url: str = ""


def practitioner_name(user: User | None) -> str:
    return user.full_name if user is not None else "your practitioner"


def _when(f: ReminderFacts) -> str:
    return f"{format_local(f.appointment.start_at, f.client.timezone)} ({f.client.timezone})"


def where(f: ReminderFacts) -> str:
    """The address in person; the practice's telehealth location for a telehealth session."""
    if not f.appointment.telehealth:
        return f"In person at {f.practice.in_person_place}"
    place = ", ".join(p for p in (f.practice.telehealth_location_name.strip(),
                                  f.practice.telehealth_location_address.strip()) if p)
    return f"Telehealth (video){': ' + place if place else ''}"


def _join_lines(f: ReminderFacts) -> list[str]:
    if f.zoom is not None:
        lines = [f"Join link: {f.zoom.join_url}"]
        if f.zoom.meeting_id:
            lines.append(f"Meeting ID: {_spaced(f.zoom.meeting_id)}")
        if f.zoom.passcode:
            lines.append(f"Passcode: {f.zoom.passcode}")
        return lines
    return [f"To join, sign in to your client portal and open the waiting room: {f.portal_url}"]


def _spaced(meeting_id: int) -> str:
    """Zoom's own way of writing a meeting ID: 123 4567 8901."""
    digits = str(meeting_id)
    return f"{digits[:3]} {digits[3:7]} {digits[7:]}".strip() if len(digits) > 7 else digits


def email(f: ReminderFacts) -> OutgoingEmail:
    """The reminder email (text and HTML)."""
    when = _when(f)
    soon = f.kind == ReminderKind.TELEHEALTH
    lead = (f"Your telehealth session with {f.practitioner_name} starts soon." if soon
            else f"A reminder of your {'telehealth session' if f.appointment.telehealth else 'appointment'} "
                 f"with {f.practitioner_name}.")
    details = [f"When: {when}", f"With: {f.practitioner_name}", f"Where: {where(f)}"]
    joining = _join_lines(f) if f.appointment.telehealth else []
    confirm = [f"Please confirm you will attend: {f.confirm_url}"] if f.confirm_url else []
    stop = [f"Stop email reminders: {f.stop_email_url}"] if f.stop_email_url else []
    lines = [f"Hello {f.client.full_name},", "", lead, "", *details, "", *joining]
    lines += ["", *confirm] if confirm else []
    lines += ["", f.practice.name]
    lines += ["", *stop] if stop else []
    text = "\n".join(lines) + "\n"
    e = html.escape
    paragraphs = [f"Hello {e(f.client.full_name)},", e(lead), "<br>".join(
        f"<strong>{e(line.split(': ', 1)[0])}:</strong> {e(line.split(': ', 1)[1])}" for line in details)]
    if f.zoom is not None:
        paragraphs.append(f"<a href=\"{e(f.zoom.join_url)}\">Join the session</a><br>" +
                          "<br>".join(e(line) for line in _join_lines(f)[1:]))
    elif f.appointment.telehealth:
        paragraphs.append(f"To join, sign in to <a href=\"{e(f.portal_url)}\">your client portal</a> and open "
                          "the waiting room.")
    if f.confirm_url:
        paragraphs.append(f"<a href=\"{e(f.confirm_url)}\"><strong>Confirm</strong></a> that you will attend.")
    paragraphs.append(e(f.practice.name))
    if f.stop_email_url:
        paragraphs.append(f"<small><a href=\"{e(f.stop_email_url)}\">Stop email reminders</a></small>")
    day = format_local(f.appointment.start_at, f.client.timezone, "%a %d %b, %H:%M")
    subject = (f"Starting soon: telehealth session at {day}" if soon else f"Reminder: appointment on {day}")
    return OutgoingEmail(to=f.client.email or "", subject=subject, text=text, html=wrap_html(paragraphs))


def sms(f: ReminderFacts) -> str:
    """The reminder SMS: short (segments cost credits), same facts."""
    when = format_local(f.appointment.start_at, f.client.timezone, "%a %d %b %H:%M")
    if f.kind == ReminderKind.TELEHEALTH:
        body = f"{f.practice.name}: your video session with {f.practitioner_name} starts {when}. "
        if f.zoom is not None:
            body += f"Join: {f.zoom.join_url}"
            if f.zoom.meeting_id:
                body += f" ID {f.zoom.meeting_id}"
            if f.zoom.passcode:
                body += f" Passcode {f.zoom.passcode}"
        else:
            body += f"Join from your portal: {f.portal_url}"
    else:
        body = f"{f.practice.name}: reminder of your appointment with {f.practitioner_name} on {when}. {where(f)}."
    if f.confirm_url:
        body += " Reply YES to confirm."
    return body
