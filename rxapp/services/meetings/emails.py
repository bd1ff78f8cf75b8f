"""What the client receives about an appointment: HTML + text, their own timezone, an .ics invite.

The join link itself is not in these emails: the client joins from the portal, where the
link works only for them and only around the session (DESIGN.md sections 3 and 6).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rxapp.services.notifications import OutgoingEmail
from rxapp.services.timezones import format_local


@dataclass(frozen=True)
class MeetingFacts:
    meeting_id: int
    topic: str
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


def _ics_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _ics_text(value: str) -> str:
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def ics(facts: MeetingFacts, sequence: int, cancelled: bool = False) -> str:
    """An iCalendar invite (or cancellation) the client's calendar can import."""
    # In UTC: aware arithmetic in a local zone is wall-clock time, which is wrong across a clock change.
    start = facts.start_at.astimezone(UTC)
    end = start + timedelta(minutes=facts.duration_minutes)
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Telehealth Scheduler//EN",
        f"METHOD:{'CANCEL' if cancelled else 'REQUEST'}", "BEGIN:VEVENT",
        f"UID:meeting-{facts.meeting_id}@telehealth.local", f"SEQUENCE:{sequence}",
        f"DTSTAMP:{_ics_time(datetime.now(facts.start_at.tzinfo))}",
        f"DTSTART:{_ics_time(start)}", f"DTEND:{_ics_time(end)}",
        f"SUMMARY:{_ics_text(facts.topic)} with {_ics_text(facts.practitioner_name)}",
        f"DESCRIPTION:{_ics_text(_how_to_attend(facts))}",
        f"LOCATION:{_ics_text(_where(facts))}",
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}", "END:VEVENT", "END:VCALENDAR",
    ]
    return "\r\n".join(lines) + "\r\n"


def _where(facts: MeetingFacts) -> str:
    return f"Telehealth (Zoom) - {facts.portal_url}" if facts.telehealth else (facts.location or facts.practice_name)


def _how_to_attend(facts: MeetingFacts) -> str:
    if facts.telehealth:
        return f"Join from your client portal: {facts.portal_url}"
    return f"In person at {facts.location or facts.practice_name}"


def _kind(facts: MeetingFacts) -> str:
    return "telehealth session" if facts.telehealth else "appointment"


def _when(facts: MeetingFacts) -> str:
    return f"{format_local(facts.start_at, facts.client_timezone)} ({facts.client_timezone})"


def _wrap(paragraphs: list[str]) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"<!doctype html><html><body style=\"font-family:sans-serif;line-height:1.5\">{body}</body></html>"


def scheduled(facts: MeetingFacts) -> OutgoingEmail:
    when = _when(facts)
    text = (f"Hello {facts.client_name},\n\n{facts.practitioner_name} scheduled a telehealth session with you.\n\n"
            f"What: {facts.topic}\nWhen: {when}\nLength: {facts.duration_minutes} minutes\n\n"
            f"How to join: sign in to your client portal at {facts.portal_url} shortly before the start and open "
            f"the waiting room; the Join session button appears as soon as {facts.practitioner_name} starts.\n\n"
            f"{facts.practice_name}\n")
    e = html.escape
    page = _wrap([f"Hello {e(facts.client_name)},",
                  f"{e(facts.practitioner_name)} scheduled a telehealth session with you.",
                  f"<strong>What:</strong> {e(facts.topic)}<br><strong>When:</strong> {e(when)}<br>"
                  f"<strong>Length:</strong> {facts.duration_minutes} minutes",
                  f"<strong>How to join:</strong> sign in to <a href=\"{e(facts.portal_url)}\">your client portal"
                  f"</a> shortly before the start and open the waiting room; the <em>Join session</em> button "
                  f"appears as soon as {e(facts.practitioner_name)} starts.", e(facts.practice_name)])
    day = format_local(facts.start_at, facts.client_timezone, "%a %d %b %Y")
    return OutgoingEmail(to=facts.client_email, subject=f"Telehealth session on {day}", text=text, html=page,
                         ics=ics(facts, 0))


def cancelled(facts: MeetingFacts, reason: str) -> OutgoingEmail:
    when, kind = _when(facts), _kind(facts)
    removed = "The Zoom meeting was removed, so its link no longer works. " if facts.telehealth else ""
    text = (f"Hello {facts.client_name},\n\nYour {kind} with {facts.practitioner_name} on {when} "
            f"was cancelled.\n\nReason: {reason}\n\n{removed}"
            f"Contact {facts.practice_name} to book another time.\n")
    e = html.escape
    page = _wrap([f"Hello {e(facts.client_name)},",
                  f"Your {kind} with {e(facts.practitioner_name)} on {e(when)} was cancelled.",
                  f"<strong>Reason:</strong> {e(reason)}",
                  f"{e(removed)}Contact {e(facts.practice_name)} to book another time."])
    return OutgoingEmail(to=facts.client_email, subject=f"{kind.capitalize()} cancelled", text=text, html=page,
                         ics=ics(facts, 1, cancelled=True))


def booked(facts: MeetingFacts, later: list[str]) -> OutgoingEmail:
    """A new appointment (the first of a series, with the later dates listed)."""
    if facts.telehealth and not later:
        return scheduled(facts)
    when, kind = _when(facts), _kind(facts)
    series = f"\nThen also: {'; '.join(later)}\n" if later else ""
    text = (f"Hello {facts.client_name},\n\n{facts.practitioner_name} will see you for an {kind}.\n\n"
            f"When: {when}\nLength: {facts.duration_minutes} minutes\nWhere: {_how_to_attend(facts)}\n{series}\n"
            f"{facts.practice_name}\n")
    e = html.escape
    paragraphs = [f"Hello {e(facts.client_name)},", f"{e(facts.practitioner_name)} will see you for an {kind}.",
                  f"<strong>When:</strong> {e(when)}<br><strong>Length:</strong> {facts.duration_minutes} minutes"
                  f"<br><strong>Where:</strong> {e(_how_to_attend(facts))}"]
    if later:
        paragraphs.append("<strong>Then also:</strong> " + "; ".join(e(d) for d in later))
    paragraphs.append(e(facts.practice_name))
    day = format_local(facts.start_at, facts.client_timezone, "%a %d %b %Y")
    subject = f"{kind.capitalize()} booked: {day}" + (f" and {len(later)} more" if later else "")
    return OutgoingEmail(to=facts.client_email, subject=subject, text=text, html=_wrap(paragraphs), ics=ics(facts, 0))


def provider_started(facts: MeetingFacts) -> OutgoingEmail:
    text = (f"Hello {facts.client_name},\n\n{facts.practitioner_name} has started your telehealth session. "
            f"Sign in to your portal and press Join session: {facts.portal_url}\n")
    page = _wrap([f"Hello {html.escape(facts.client_name)},",
                  f"{html.escape(facts.practitioner_name)} has started your telehealth session.",
                  f"<a href=\"{html.escape(facts.portal_url)}\">Open your portal and press Join session</a>."])
    return OutgoingEmail(to=facts.client_email, subject="Your provider has started the session", text=text, html=page)


def ended(facts: MeetingFacts) -> OutgoingEmail:
    when = _when(facts)
    text = (f"Hello {facts.client_name},\n\n{facts.practitioner_name} ended your telehealth session "
            f"\"{facts.topic}\" of {when}. Its join link no longer works.\n\n"
            f"Contact {facts.practice_name} if you need another session.\n")
    e = html.escape
    page = _wrap([f"Hello {e(facts.client_name)},",
                  f"{e(facts.practitioner_name)} ended your telehealth session \u201c{e(facts.topic)}\u201d of "
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
            f"What: {facts.topic}\nWith: {facts.practitioner_name}\nWhen: {when}\n"
            f"Length: {facts.duration_minutes} minutes\n\n{note}\n\n{facts.practice_name}\n")
    e = html.escape
    page = _wrap([f"Hello {e(facts.client_name)},", f"Your {kind} has changed.",
                  f"<strong>What:</strong> {e(facts.topic)}<br><strong>With:</strong> {e(facts.practitioner_name)}"
                  f"<br><strong>When:</strong> {e(when)}<br><strong>Length:</strong> {facts.duration_minutes} minutes",
                  e(note), e(facts.practice_name)])
    day = format_local(facts.start_at, facts.client_timezone, "%a %d %b %Y")
    return OutgoingEmail(to=facts.client_email, subject=f"{kind.capitalize()} changed: {day}", text=text, html=page,
                         ics=ics(facts, sequence))
