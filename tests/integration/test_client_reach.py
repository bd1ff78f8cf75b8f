"""Issue 24.1: a practitioner reaches a client only through the one rule that decides who sees whom
(services.clients.directory). Dr. Patel, whom Alex neither trusts nor has a visit with, drives every
handler that takes a client id with Alex's id, as her browser's websocket would: nothing is booked,
nobody is emailed, and Alex's record stays out of her reach. A cancelled visit reaches nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import Appointment, AppointmentStatus, Client, Notification
from rxapp.services.clients.directory import list_clients, search_clients
from rxapp.services.clients.records import ClientNotFound, client_detail
from rxapp.services.scheduling.appointments import (
    AppointmentDraft,
    AppointmentInvalid,
    book_appointments,
    cancel_appointment,
)
from rxapp.state.appointment_dialog import AppointmentDialogState
from rxapp.state.client_form import ClientFormState
from rxapp.state.client_record import ClientRecordState
from rxapp.state.clients import ClientsState
from rxapp.state.meetings import MeetingsState
from rxapp.state.new_meeting import NewMeetingState
from tests.integration.page_states import page_state, run, toasts
from tests.integration.zoom_helpers import principal_of, user_id

PATEL, DESK, ALEX = "dr.patel@demo.clinic", "frontdesk@demo.clinic", "alex@demo.client"


def _alex() -> int:
    with unit_of_work() as s:
        return s.exec(select(Client).where(Client.email == ALEX)).one().id or 0


def _day(days: int = 3) -> str:
    return (now() + timedelta(days=days)).date().isoformat()


def _alex_untouched(alex: int) -> None:
    with unit_of_work() as s:
        assert s.exec(select(Appointment).where(Appointment.client_id == alex,
                                                Appointment.practitioner_id == user_id(PATEL))).all() == []
        assert s.exec(select(Notification).where(Notification.to_address == ALEX)).all() == []
        client = s.get(Client, alex)
        assert client is not None and client.archived_at is None and not client.sms_opted_out


def _out_of_reach(alex: int) -> None:
    patel = principal_of(PATEL)
    assert alex not in [r.id for r in list_clients(patel).rows]
    assert alex not in [o.id for o in search_clients(patel, "alex")]
    with pytest.raises(ClientNotFound):
        client_detail(patel, alex)


def test_a_practitioner_cannot_use_a_client_id_she_may_not_reach(demo) -> None:
    alex = _alex()
    _out_of_reach(alex)

    # The service, as any caller would reach it.
    with pytest.raises(AppointmentInvalid) as refused:
        book_appointments(principal_of(PATEL), AppointmentDraft(
            client_id=alex, practitioner_id=user_id(PATEL), date=_day(), hour="10:00", duration_minutes=50,
            telehealth=False, timezone="America/New_York"))
    assert refused.value.errors == {"client": "Choose one of your clients."}

    # The calendar's dialog: the client chosen by id, then Save; and the client page's link.
    dialog = page_state(AppointmentDialogState, "/calendar", PATEL)
    run(dialog.open_new("", _day(), "10:00"))
    dialog.choose_client(str(alex), "Alex Rivera")
    run(dialog.save())
    assert dialog.errors.get("client") == "Choose one of your clients." and dialog.open
    dialog = page_state(AppointmentDialogState, "/calendar", PATEL, query={"new": "1", "client": str(alex)})
    assert [level for level, _ in toasts(run(dialog.open_new_for(str(alex))))] == ["error"]
    assert dialog.client == ""

    # New meeting, with Alex's id as the patient.
    meeting = page_state(NewMeetingState, "/meetings", PATEL)
    run(meeting.open_form())
    for field, value in (("patient", str(alex)), ("topic", "Access"), ("date", _day()), ("hour", "11:00")):
        meeting.edit(field, value)
    run(meeting.save())
    assert "patient" in meeting.errors

    # The client's page and its buttons; the Clients list's; the edit form.
    record = page_state(ClientRecordState, f"/clients/{alex}", PATEL)
    run(record.load())
    assert not record.found and record.email == "" and record.details == []
    for attempt in (record.archive(alex), record.restore(alex), record.send_invite(alex),
                    record.set_sms_consent(alex, False), record.set_email_reminders(alex, False)):
        assert [level for level, _ in toasts(run(attempt))] in (["error"], [])
    clients = page_state(ClientsState, "/clients", PATEL)
    for attempt in (clients.send_invite(alex), clients.restore(alex)):
        assert [level for level, _ in toasts(run(attempt))] in (["error"], [])
    form = page_state(ClientFormState, f"/clients/{alex}", PATEL)
    run(form.open_edit(alex))
    assert not form.open and form.first_name == ""

    # The Meetings page's patient filter with Alex's id lists nothing of Alex's.
    meetings = page_state(MeetingsState, "/meetings", PATEL)
    run(meetings.load())
    run(meetings.set_patient(str(alex)))
    assert meetings.rows == []

    _alex_untouched(alex)
    _out_of_reach(alex)


def test_a_cancelled_visit_gives_the_practitioner_nothing(demo) -> None:
    """The front desk books Alex with Dr. Patel: she reaches Alex while the visit stands; once it is
    cancelled she does not (her calendar keeps the cancelled visit, not the record)."""
    alex = _alex()
    [visit] = book_appointments(principal_of(DESK), AppointmentDraft(
        client_id=alex, practitioner_id=user_id(PATEL), date=_day(), hour="10:00", duration_minutes=50,
        telehealth=False, timezone="America/New_York")).ids
    assert client_detail(principal_of(PATEL), alex).name == "Alex Rivera"
    cancel_appointment(principal_of(DESK), visit, "Booked by mistake")
    with unit_of_work() as s:
        row = s.get(Appointment, visit)
        assert row is not None and row.status == AppointmentStatus.CANCELLED
    _out_of_reach(alex)
