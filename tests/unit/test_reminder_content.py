"""What a reminder says: the client's timezone, the place, the join details or the portal prompt."""

from __future__ import annotations

from datetime import UTC, datetime

from rxapp.models import Appointment, Client, Practice, ReminderKind
from rxapp.services.notify.reminders import content

START = datetime(2026, 3, 9, 15, 0, tzinfo=UTC)  # 11:00 EDT in New York, 10:00 CDT in Alex's Chicago


def _facts(kind: ReminderKind = ReminderKind.TELEHEALTH, telehealth: bool = True,
           zoom: content.ZoomDetails | None = None, confirm_url: str = "") -> content.ReminderFacts:
    practice = Practice(name="Demo Clinic", telehealth_location_name="Demo Clinic telehealth",
                        telehealth_location_address="1 Main St, Springfield")
    return content.ReminderFacts(
        kind=kind, appointment=Appointment(practice_id=1, practitioner_id=1, client_id=1, start_at=START,
                                           telehealth=telehealth, timezone="America/New_York"),
        client=Client(practice_id=1, full_name="Alex Rivera", email="alex@demo.client", phone="+13125550101",
                      timezone="America/Chicago"),
        practice=practice, practitioner_name="Dr. Dana Lee", portal_url="http://app/portal", zoom=zoom,
        confirm_url=confirm_url, stop_email_url="http://app/r/stop-email/t")


def test_a_standard_reminder_names_time_in_the_clients_zone_and_the_telehealth_location() -> None:
    mail = content.email(_facts(ReminderKind.STANDARD))
    assert "Mon 09 Mar 2026, 10:00 CDT (America/Chicago)" in mail.text
    assert "Telehealth (video): Demo Clinic telehealth, 1 Main St, Springfield" in mail.text
    assert "client portal" in mail.text and "Confirm" not in mail.text
    visit = _facts(ReminderKind.STANDARD, telehealth=False)
    in_person = content.email(visit)
    assert "Where: In person at Demo Clinic" in in_person.text and "portal" not in in_person.text
    visit.practice.address = "9 Elm Road, Springfield"  # the practice's address, once the owner sets it
    assert "Where: In person at Demo Clinic, 9 Elm Road, Springfield" in content.email(visit).text


def test_a_telehealth_reminder_carries_the_join_details_when_chosen_never_a_start_link() -> None:
    zoom = content.ZoomDetails(join_url="https://zoom.example/j/81234567890?pwd=x", meeting_id=81234567890,
                               passcode="s3cret")
    mail = content.email(_facts(zoom=zoom, confirm_url="http://app/r/confirm/t"))
    assert "Join link: https://zoom.example/j/81234567890?pwd=x" in mail.text
    assert "Meeting ID: 812 3456 7890" in mail.text and "Passcode: s3cret" in mail.text
    assert "Please confirm you will attend: http://app/r/confirm/t" in mail.text
    assert "/s/" not in mail.text and "start_url" not in mail.text
    text = content.sms(_facts(zoom=zoom, confirm_url="http://app/r/confirm/t"))
    assert text.startswith("Demo Clinic: your video session with Dr. Dana Lee starts Mon 09 Mar 10:00 CDT")
    assert "ID 81234567890 Passcode s3cret" in text and text.endswith("Reply YES to confirm.")


def test_without_the_link_a_telehealth_reminder_prompts_for_the_portal() -> None:
    assert "Join from your portal: http://app/portal" in content.sms(_facts())
    assert "sign in to your client portal" in content.email(_facts()).text
