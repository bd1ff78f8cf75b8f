"""What the client receives about an appointment: HTML + text, their own timezone, an .ics invite.

The join link itself is not in these emails: the client joins from the portal, where the
link works only for them and only around the session (DESIGN.md sections 3 and 6).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr

from icalendar import Calendar, Event, vCalAddress

from rxapp.clock import now
from rxapp.models import Appointment
from rxapp.services.notify.outbox import OutgoingEmail
from rxapp.services.timezones import format_local
from rxapp.settings import get_settings


@dataclass(frozen=True)
class MeetingFacts:
    meeting_id: int
    title: str  # phrases.visit_title: never a practitioner's name (said beside it)
    practitioner_name: str
    practice_name: str
    client_name: str
    client_email: str
    client_timezone: str
    start_at: datetime
    duration_minutes: int
    portal_url: str
    telehealth: bool = True
    location: str = ""  # where an in-person visit takes place
    sequence: int = 0  # the appointment's invite SEQUENCE (appointment.ics_sequence)
    status: str = "booked"
    confirm_url: str = ""  # the practice asks clients to confirm and this appointment is not confirmed yet
    booked_by_client: bool = False  # the client booked it themselves (the portal's Book a session)


def event_uid(appointment_id: int) -> str:
    """An appointment's iCalendar UID, the same in every invite, export and feed (one entry for life)."""
    return f"meeting-{appointment_id}@telehealth.local"


def calendar_of(product: str, name: str = "") -> Calendar:
    """An empty VCALENDAR of this app (`product` tells the invite, export and feed apart)."""
    calendar = Calendar()
    calendar.add("prodid", f"-//Telehealth Scheduler//{product}//EN" if product else "-//Telehealth Scheduler//EN")
    calendar.add("version", "2.0")
    if name:
        calendar.add("x-wr-calname", name)
    return calendar


def appointment_event(appointment: Appointment, summary: str) -> Event:
    """A VEVENT of a stored appointment: its UID, times in UTC, summary and status."""
    event = Event()
    event.add("uid", event_uid(appointment.id or 0))
    event.add("dtstamp", now().astimezone(UTC))
    event.add("dtstart", appointment.start_at.astimezone(UTC))
    event.add("dtend", appointment.end_at.astimezone(UTC))
    event.add("summary", summary)
    event.add("status", "CANCELLED" if appointment.status == "cancelled" else "CONFIRMED")
    return event


def ics(facts: MeetingFacts, sequence: int, cancelled: bool = False) -> str:
    """An iCalendar invite (METHOD:REQUEST) or cancellation (METHOD:CANCEL) the client's calendar
    applies to its entry: the UID is the appointment's for life and `sequence` (stored on the
    appointment, one more with every change sent) tells a newer version from an older one."""
    settings = get_settings()
    organizer = parseaddr(settings.mail_from)[1] or "no-reply@telehealth.local"
    calendar = calendar_of("")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    event = Event()
    event.add("uid", event_uid(facts.meeting_id))
    event.add("sequence", sequence)
    event.add("dtstamp", now().astimezone(UTC))
    # In UTC: aware arithmetic in a local zone is wall-clock time, which is wrong across a clock change.
    start = facts.start_at.astimezone(UTC)
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=facts.duration_minutes))
    event.add("summary", f"{facts.title} with {facts.practitioner_name}")
    event.add("description", _how_to_attend(facts))
    event.add("location", _where(facts))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("organizer", vCalAddress(f"mailto:{organizer}"), parameters={"cn": facts.practice_name})
    if facts.client_email:
        event.add("attendee", vCalAddress(f"mailto:{facts.client_email}"),
                  parameters={"cn": facts.client_name, "role": "REQ-PARTICIPANT"})
    calendar.add_component(event)
    return calendar.to_ical().decode()


def _where(facts: MeetingFacts) -> str:
    return f"Telehealth (Zoom) - {facts.portal_url}" if facts.telehealth else (facts.location or facts.practice_name)


def _how_to_attend(facts: MeetingFacts) -> str:
    if facts.telehealth:
        return f"Join from your client portal: {facts.portal_url}"
    return f"In person at {facts.location or facts.practice_name}"


def _kind(facts: MeetingFacts) -> str:
    return "telehealth session" if facts.telehealth else "appointment"


def _lead(facts: MeetingFacts) -> str:
    """Who booked the new visit, said as the client would: "You booked ..." when they did."""
    kind = "a telehealth session" if facts.telehealth else "an appointment"
    if facts.booked_by_client:
        return f"You booked {kind} with {facts.practitioner_name}."
    if facts.telehealth:
        return f"{facts.practitioner_name} scheduled {kind} with you."
    return f"{facts.practitioner_name} will see you for {kind}."


def _when(facts: MeetingFacts) -> str:
    return f"{format_local(facts.start_at, facts.client_timezone)} ({facts.client_timezone})"


def wrap_html(paragraphs: list[str]) -> str:
    """An email's HTML body: the paragraphs (already escaped) in a plain page."""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"<!doctype html><html><body style=\"font-family:sans-serif;line-height:1.5\">{body}</body></html>"


def scheduled(facts: MeetingFacts) -> OutgoingEmail:
    when = _when(facts)
    text = (f"Hello {facts.client_name},\n\n{_lead(facts)}\n\n"
            f"What: {facts.title}\nWhen: {when}\nLength: {facts.duration_minutes} minutes\n\n"
            f"How to join: sign in to your client portal at {facts.portal_url} shortly before the start and open "
            f"the waiting room; the Join session button appears as soon as {facts.practitioner_name} starts.\n\n"
            f"{_confirm_text(facts)}{facts.practice_name}\n")
    e = html.escape
    page = wrap_html([f"Hello {e(facts.client_name)},",
                  e(_lead(facts)),
                  f"<strong>What:</strong> {e(facts.title)}<br><strong>When:</strong> {e(when)}<br>"
                  f"<strong>Length:</strong> {facts.duration_minutes} minutes",
                  f"<strong>How to join:</strong> sign in to <a href=\"{e(facts.portal_url)}\">your client portal"
                  f"</a> shortly before the start and open the waiting room; the <em>Join session</em> button "
                  f"appears as soon as {e(facts.practitioner_name)} starts.", *_confirm_html(facts),
                  e(facts.practice_name)])
    day = format_local(facts.start_at, facts.client_timezone, "%a %d %b %Y")
    return OutgoingEmail(to=facts.client_email, subject=f"Telehealth session on {day}", text=text, html=page,
                         ics=ics(facts, facts.sequence))


def _confirm_text(facts: MeetingFacts) -> str:
    return f"Please confirm you will attend: {facts.confirm_url}\n\n" if facts.confirm_url else ""


def _confirm_html(facts: MeetingFacts) -> list[str]:
    if not facts.confirm_url:
        return []
    return [f"<a href=\"{html.escape(facts.confirm_url)}\"><strong>Confirm</strong></a> that you will attend."]


def cancelled(facts: MeetingFacts, reason: str, *, had_zoom_meeting: bool) -> OutgoingEmail:
    """The cancellation; it mentions the Zoom meeting only when one had been created at Zoom."""
    when, kind = _when(facts), _kind(facts)
    removed = "The Zoom meeting was removed, so its link no longer works. " if had_zoom_meeting else ""
    text = (f"Hello {facts.client_name},\n\nYour {kind} with {facts.practitioner_name} on {when} "
            f"was cancelled.\n\nReason: {reason}\n\n{removed}"
            f"Contact {facts.practice_name} to book another time.\n")
    e = html.escape
    page = wrap_html([f"Hello {e(facts.client_name)},",
                  f"Your {kind} with {e(facts.practitioner_name)} on {e(when)} was cancelled.",
                  f"<strong>Reason:</strong> {e(reason)}",
                  f"{e(removed)}Contact {e(facts.practice_name)} to book another time."])
    return OutgoingEmail(to=facts.client_email, subject=f"{kind.capitalize()} cancelled", text=text, html=page,
                         ics=ics(facts, facts.sequence, cancelled=True))


def booked(facts: MeetingFacts, later: list[str]) -> OutgoingEmail:
    """A new appointment (the first of a series, with the later dates listed)."""
    if facts.telehealth and not later:
        return scheduled(facts)
    when, kind = _when(facts), _kind(facts)
    series = f"\nThen also: {'; '.join(later)}\n" if later else ""
    text = (f"Hello {facts.client_name},\n\n{_lead(facts)}\n\n"
            f"When: {when}\nLength: {facts.duration_minutes} minutes\nWhere: {_how_to_attend(facts)}\n{series}\n"
            f"{_confirm_text(facts)}{facts.practice_name}\n")
    e = html.escape
    paragraphs = [f"Hello {e(facts.client_name)},", e(_lead(facts)),
                  f"<strong>When:</strong> {e(when)}<br><strong>Length:</strong> {facts.duration_minutes} minutes"
                  f"<br><strong>Where:</strong> {e(_how_to_attend(facts))}"]
    if later:
        paragraphs.append("<strong>Then also:</strong> " + "; ".join(e(d) for d in later))
    paragraphs += _confirm_html(facts)
    paragraphs.append(e(facts.practice_name))
    day = format_local(facts.start_at, facts.client_timezone, "%a %d %b %Y")
    subject = f"{kind.capitalize()} booked: {day}" + (f" and {len(later)} more" if later else "")
    return OutgoingEmail(to=facts.client_email, subject=subject, text=text, html=wrap_html(paragraphs),
                         ics=ics(facts, facts.sequence))


def provider_started(facts: MeetingFacts) -> OutgoingEmail:
    text = (f"Hello {facts.client_name},\n\n{facts.practitioner_name} has started your telehealth session. "
            f"Sign in to your portal and press Join session: {facts.portal_url}\n")
    page = wrap_html([f"Hello {html.escape(facts.client_name)},",
                  f"{html.escape(facts.practitioner_name)} has started your telehealth session.",
                  f"<a href=\"{html.escape(facts.portal_url)}\">Open your portal and press Join session</a>."])
    return OutgoingEmail(to=facts.client_email, subject="Your provider has started the session", text=text, html=page)


def ended(facts: MeetingFacts) -> OutgoingEmail:
    when = _when(facts)
    text = (f"Hello {facts.client_name},\n\n{facts.practitioner_name} ended your telehealth session "
            f"\"{facts.title}\" of {when}. Its join link no longer works.\n\n"
            f"Contact {facts.practice_name} if you need another session.\n")
    e = html.escape
    page = wrap_html([f"Hello {e(facts.client_name)},",
                  f"{e(facts.practitioner_name)} ended your telehealth session \u201c{e(facts.title)}\u201d of "
                  f"{e(when)}. Its join link no longer works.",
                  f"Contact {e(facts.practice_name)} if you need another session."])
    return OutgoingEmail(to=facts.client_email, subject="Telehealth session ended", text=text, html=page)


def moved(facts: MeetingFacts, sequence: int, note: str = "") -> OutgoingEmail:
    """The appointment has a new time, practitioner or mode; `sequence` (growing) updates the
    calendar entry; `note` says what that means for the client."""
    when, kind = _when(facts), _kind(facts)
    note = note or (f"You join as before, from your client portal at {facts.portal_url}." if facts.telehealth
                    else f"Where: {_how_to_attend(facts)}.")
    text = (f"Hello {facts.client_name},\n\nYour {kind} has changed.\n\n"
            f"What: {facts.title}\nWith: {facts.practitioner_name}\nWhen: {when}\n"
            f"Length: {facts.duration_minutes} minutes\n\n{note}\n\n{_confirm_text(facts)}{facts.practice_name}\n")
    e = html.escape
    page = wrap_html([f"Hello {e(facts.client_name)},", f"Your {kind} has changed.",
                  f"<strong>What:</strong> {e(facts.title)}<br><strong>With:</strong> {e(facts.practitioner_name)}"
                  f"<br><strong>When:</strong> {e(when)}<br><strong>Length:</strong> {facts.duration_minutes} minutes",
                  e(note), *_confirm_html(facts), e(facts.practice_name)])
    day = format_local(facts.start_at, facts.client_timezone, "%a %d %b %Y")
    return OutgoingEmail(to=facts.client_email, subject=f"{kind.capitalize()} changed: {day}", text=text, html=page,
                         ics=ics(facts, sequence))
