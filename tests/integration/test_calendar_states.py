"""The Calendar page and its appointment dialog as a browser drives them (real state tree, real
session cookie, real database): who may book for whom, the slot prefill, the type-ahead, and errors
that keep what was typed."""

from __future__ import annotations

from datetime import UTC, datetime

from rxapp.db import unit_of_work
from rxapp.models import Appointment
from rxapp.state.appointment_dialog import AppointmentDialogState
from rxapp.state.calendar import CalendarState
from tests.integration.page_states import page_state, run, toasts
from tests.integration.zoom_helpers import user_id


def _calendar(email: str, query: dict[str, str]) -> CalendarState:
    return page_state(CalendarState, "/calendar", email, query=query)


def test_a_bookmarked_calendar_opens_on_its_day_view_and_practitioners(demo: None) -> None:
    lee, patel = user_id("dr.lee@demo.clinic"), user_id("dr.patel@demo.clinic")
    state = _calendar("frontdesk@demo.clinic", {"date": "2027-03-10", "view": "day", "p": f"{patel},{lee},999"})
    run(state.load())
    assert (state.view, state.day, state.chosen, state.timezone) == ("day", "2027-03-10", [str(patel), str(lee)],
                                                                      "America/New_York")
    assert [c["practitioner"] for c in state.columns] == ["Dr. Priya Patel", "Dr. Dana Lee"]
    assert state.title == "Wednesday 10 March 2027"


def test_a_practitioner_sees_their_own_calendar_first_and_the_front_desk_everyones(demo: None) -> None:
    state = _calendar("dr.patel@demo.clinic", {})
    run(state.load())
    assert state.chosen == [str(user_id("dr.patel@demo.clinic"))] and state.timezone == "Europe/London"
    desk = _calendar("frontdesk@demo.clinic", {})
    run(desk.load())
    assert desk.chosen == [str(user_id("dr.lee@demo.clinic")), str(user_id("dr.patel@demo.clinic"))]


def test_an_empty_slot_opens_new_appointment_prefilled(demo: None) -> None:
    patel = user_id("dr.patel@demo.clinic")
    dialog = page_state(AppointmentDialogState, "/calendar", "frontdesk@demo.clinic")
    run(dialog.open_new(str(patel), "2027-03-10", "14:30"))
    assert dialog.open and not dialog.editing and not dialog.practitioner_fixed
    assert (dialog.practitioner, dialog.date, dialog.start, dialog.length, dialog.mode) == (
        str(patel), "2027-03-10", "14:30", "50", "in_person")
    assert [o["label"] for o in dialog.practitioner_options] == ["Dr. Dana Lee", "Dr. Priya Patel"]


def test_a_practitioner_books_only_for_themself(demo: None) -> None:
    lee, patel = user_id("dr.lee@demo.clinic"), user_id("dr.patel@demo.clinic")
    dialog = page_state(AppointmentDialogState, "/calendar", "dr.lee@demo.clinic")
    run(dialog.open_new(str(patel), "2027-03-10", "09:00"))  # a slot in Dr. Patel's column
    assert dialog.practitioner == str(lee) and dialog.practitioner_fixed
    assert dialog.practitioner_options == [{"value": str(lee), "label": "Dr. Dana Lee"}]


def test_a_client_cannot_open_the_dialog(demo: None) -> None:
    dialog = page_state(AppointmentDialogState, "/calendar", "alex@demo.client")
    assert toasts(run(dialog.open_new("1", "2027-03-10", "09:00"))) == [
        ("error", "You are not allowed to book appointments.")]
    assert not dialog.open


def test_the_client_type_ahead_finds_the_practices_clients(demo: None) -> None:
    dialog = page_state(AppointmentDialogState, "/calendar", "frontdesk@demo.clinic")
    run(dialog.open_new("", "2027-03-10", "09:00"))
    run(dialog.search_clients("riv"))
    assert [r["label"] for r in dialog.client_results] == ["Alex Rivera"]
    dialog.choose_client(dialog.client_results[0]["value"], "Alex Rivera")
    assert (dialog.client_name, dialog.client_results, dialog.client_query) == ("Alex Rivera", [], "")


def test_an_incomplete_form_says_what_is_missing_and_keeps_what_was_typed(demo: None) -> None:
    dialog = page_state(AppointmentDialogState, "/calendar", "frontdesk@demo.clinic")
    run(dialog.open_new(str(user_id("dr.lee@demo.clinic")), "2027-03-10", "09:00"))
    dialog.edit("notes", "Bring the questionnaire")
    dialog.edit("repeat", "weekly")
    dialog.edit("occurrences", "99")
    dialog.edit("start", "")
    run(dialog.save())
    assert set(dialog.errors) == {"client", "start", "occurrences"}
    assert (dialog.notes, dialog.repeat, dialog.occurrences, dialog.date) == (
        "Bring the questionnaire", "weekly", "99", "2027-03-10")
    assert dialog.open


def test_an_appointment_opens_for_editing_by_its_id_only_within_the_practice(demo: None) -> None:
    lee = user_id("dr.lee@demo.clinic")
    with unit_of_work() as s:
        from sqlmodel import select

        from rxapp.models import Client
        alex = s.exec(select(Client).where(Client.full_name == "Alex Rivera")).one()
        row = Appointment(practice_id=alex.practice_id, practitioner_id=lee, client_id=alex.id or 0,
                          start_at=datetime(2027, 3, 10, 15, 0, tzinfo=UTC), duration_minutes=45, notes="Intake")
        s.add(row)
        s.flush()
        appointment_id = row.id or 0
    dialog = page_state(AppointmentDialogState, "/calendar", "frontdesk@demo.clinic")
    run(dialog.open_edit(str(appointment_id)))
    assert dialog.editing and dialog.open
    assert (dialog.client_name, dialog.date, dialog.start, dialog.length, dialog.notes) == (
        "Alex Rivera", "2027-03-10", "10:00", "45", "Intake")
    other = page_state(AppointmentDialogState, "/calendar", "frontdesk@demo.clinic")
    assert toasts(run(other.open_edit(str(appointment_id + 1000)))) == [
        ("error", "That appointment is not in this practice's calendar (any more).")]


def test_running_late_from_the_calendar_tells_a_client_who_is_not_waiting_by_sms(demo: None) -> None:
    """Issue 27.2 from the calendar: Running 5 / 10 / 15 min late on a telehealth appointment of one's own."""
    from datetime import timedelta

    from sqlmodel import col, select

    from rxapp.clock import now
    from rxapp.models import Client, Meeting, Notification

    with unit_of_work() as s:
        alex = s.exec(select(Client).where(Client.email == "alex@demo.client")).one()
        row = Appointment(practice_id=alex.practice_id, practitioner_id=user_id("dr.lee@demo.clinic"),
                          client_id=alex.id or 0, telehealth=True, start_at=now() + timedelta(minutes=20),
                          duration_minutes=50)
        s.add(row)
        s.flush()
        s.add(Meeting(id=row.id or 0))
        appointment_id = row.id or 0
    patel = page_state(AppointmentDialogState, "/calendar", "dr.patel@demo.clinic")
    run(patel.open_edit(str(appointment_id)))
    lee = page_state(AppointmentDialogState, "/calendar", "dr.lee@demo.clinic")
    run(lee.open_edit(str(appointment_id)))
    assert lee.can_run_late
    assert ("success", "Alex Rivera was told you are running 10 minutes late (by SMS).") in toasts(
        run(lee.running_late(10)))
    with unit_of_work() as s:
        assert s.get(Meeting, appointment_id).late_minutes == 10  # type: ignore[union-attr]
        assert s.exec(select(Notification).where(col(Notification.idempotency_key).startswith("running-late:"))).one()
    run(patel.running_late(15))  # another practitioner's session: refused, nothing changed
    with unit_of_work() as s:
        assert s.get(Meeting, appointment_id).late_minutes == 10  # type: ignore[union-attr]
