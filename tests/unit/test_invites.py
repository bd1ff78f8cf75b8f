"""Calendar invites built with icalendar, read back with icalendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Calendar

from rxapp.services.telehealth.meetings import emails

START = datetime(2026, 3, 9, 14, 0, tzinfo=UTC)


def _facts(**changes: object) -> emails.MeetingFacts:
    values: dict[str, object] = dict(
        meeting_id=42, title="Telehealth session", practitioner_name="Dr. Lee",
        practice_name="Demo Clinic", client_name="Alex, \"A\"; Doe", client_email="alex@demo.client",
        client_timezone="America/New_York", start_at=START, duration_minutes=50,
        portal_url="http://localhost:3000/portal")
    values.update(changes)
    return emails.MeetingFacts(**values)  # type: ignore[arg-type]


def _event(ics: str) -> tuple[Calendar, object]:
    calendar = Calendar.from_ical(ics)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1
    return calendar, events[0]


def test_a_new_appointment_is_a_request_with_a_stable_uid() -> None:
    calendar, event = _event(emails.ics(_facts(), 0))
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == "meeting-42@telehealth.local"
    assert int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTART") == START
    assert event.decoded("DTEND") == START + timedelta(minutes=50)
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["LOCATION"]) == "Telehealth (Zoom) - http://localhost:3000/portal"
    assert str(event["ATTENDEE"]) == "mailto:alex@demo.client"
    assert event["ATTENDEE"].params["CN"] == "Alex, \"A\"; Doe"  # quoted, not split


def test_a_change_keeps_the_uid_and_raises_the_sequence() -> None:
    _, first = _event(emails.ics(_facts(), 0))
    moved = _facts(start_at=START + timedelta(days=1), sequence=3)
    _, second = _event(emails.moved(moved, moved.sequence).ics)
    assert str(second["UID"]) == str(first["UID"])
    assert int(second["SEQUENCE"]) == 3
    assert second.decoded("DTSTART") == START + timedelta(days=1)


def test_a_cancellation_is_method_cancel() -> None:
    calendar, event = _event(emails.cancelled(_facts(sequence=2), "Ill", had_zoom_meeting=True).ics)
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == 2


def test_in_person_location_is_the_address() -> None:
    _, event = _event(emails.booked(_facts(telehealth=False, location="Demo Clinic, 1 Main St"), []).ics)
    assert str(event["LOCATION"]) == "Demo Clinic, 1 Main St"
