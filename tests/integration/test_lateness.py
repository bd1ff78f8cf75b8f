"""Issue 27.2: "Running late". A client whose waiting room is open sees it there (nothing sent); one
who is not gets an SMS when they take SMS, else an email; the launch window follows the new expected
start; audited; bad minutes, long messages, other people's meetings and started sessions refused."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from rxapp.db import unit_of_work
from rxapp.models import AppointmentStatus, AuditEvent, Channel, Client, Notification
from rxapp.services.permissions import NotAllowed
from rxapp.services.telehealth import lateness, portal
from rxapp.services.telehealth.meetings import decisions
from tests.integration.zoom_helpers import SignedIn, meeting_at_zoom, principal_of, sign_in, visit

NEW_YORK = ZoneInfo("America/New_York")


def _late_messages() -> list[Notification]:
    with unit_of_work() as s:
        return list(s.exec(select(Notification).where(col(Notification.idempotency_key).startswith("running-late:"))))


def test_a_client_in_the_waiting_room_sees_it_and_the_launch_window_moves(lee: SignedIn) -> None:
    meeting_id = meeting_at_zoom(lee, minutes_ahead=10)
    alex = sign_in("alex@demo.client")
    before = portal.waiting_room(alex.principal, meeting_id)
    assert before.can_launch and before.late == ""
    assert decisions.decisions_for(lee.principal, [meeting_id])[meeting_id].prompt_launch
    message = lateness.running_late(lee.principal, meeting_id, 15, "  Sorry,   the previous session ran over. ",
                                    client_in_room=True)
    assert "Alex Rivera was told you are running 15 minutes late (shown in their waiting room)" in message
    after = portal.waiting_room(alex.principal, meeting_id)
    expected = (visit(meeting_id).start_at + timedelta(minutes=15)).astimezone(ZoneInfo("America/Chicago"))
    assert after.late == (f"Dr. Dana Lee is running 15 minutes late. Expected start: {expected:%H:%M} "
                          f"{expected.tzname()}. Sorry, the previous session ran over.")
    # The window opens 15 minutes before the new expected start: not yet.
    assert not after.can_launch
    assert not decisions.decisions_for(lee.principal, [meeting_id])[meeting_id].prompt_launch
    assert _late_messages() == []
    with unit_of_work() as s:
        audit = s.exec(select(AuditEvent).where(AuditEvent.action == "meeting.running_late")).one()
        assert audit.actor_user_id == lee.principal.user_id


def test_a_client_not_there_gets_an_sms_or_without_sms_an_email(lee: SignedIn) -> None:
    meeting_id = meeting_at_zoom(lee, minutes_ahead=30)
    assert "(by SMS)" in lateness.running_late(lee.principal, meeting_id, 10)
    [sms] = _late_messages()
    assert sms.channel == Channel.SMS and "Dr. Dana Lee is running 10 minutes late" in sms.body_text
    with unit_of_work() as s:
        alex = s.exec(select(Client).where(Client.email == "alex@demo.client")).one()
        alex.sms_opted_out = True
    assert "(by email)" in lateness.running_late(lee.principal, meeting_id, 5, "Two minutes more")
    email = [m for m in _late_messages() if m.channel == Channel.EMAIL]
    assert len(email) == 1 and email[0].to_address == "alex@demo.client"
    assert "5 minutes late" in email[0].subject and "Two minutes more" in email[0].body_text
    assert visit(meeting_id).late_minutes == 5  # the newer notice replaces the older


@pytest.mark.parametrize(("minutes", "note", "message"), [
    (0, "", "between 1 and 120"), (121, "", "between 1 and 120"), (10, "x" * 301, "300 characters")])
def test_bad_input_is_refused_and_changes_nothing(lee: SignedIn, minutes: int, note: str, message: str) -> None:
    meeting_id = meeting_at_zoom(lee, minutes_ahead=10)
    with pytest.raises(lateness.LateRefused, match=message):
        lateness.running_late(lee.principal, meeting_id, minutes, note)
    assert visit(meeting_id).late_minutes == 0 and _late_messages() == []


def test_only_the_host_or_a_manager_and_only_before_the_start(lee: SignedIn) -> None:
    meeting_id = meeting_at_zoom(lee, minutes_ahead=10)
    with pytest.raises(NotAllowed):
        lateness.running_late(principal_of("dr.patel@demo.clinic"), meeting_id, 10)
    with pytest.raises(NotAllowed):
        lateness.running_late(principal_of("alex@demo.client"), meeting_id, 10)
    with pytest.raises(NotAllowed):
        lateness.running_late(lee.principal, 10**9, 10)
    assert "running 10 minutes late" in lateness.running_late(principal_of("manager@demo.clinic"), meeting_id, 10)
    with unit_of_work() as s:
        from rxapp.models import Appointment

        appointment = s.get(Appointment, meeting_id)
        assert appointment is not None
        appointment.status = AppointmentStatus.IN_PROGRESS
    with pytest.raises(lateness.LateRefused, match="already started"):
        lateness.running_late(lee.principal, meeting_id, 5)
