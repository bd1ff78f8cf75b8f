"""The appointment book against the real Zoom sandbox over HTTP: an appointment owns the visit,
its Zoom meeting follows it (create, move with the same link, re-assign across accounts,
convert both ways, cancel), Zoom being down never loses or duplicates anything, and every
bad input gets a clear message."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import Appointment, AuditEvent, Client, Meeting, Notification, Practice
from rxapp.services.permissions import NotAllowed
from rxapp.services.scheduling.appointments import (
    AppointmentChange,
    AppointmentDraft,
    AppointmentInvalid,
    AppointmentRefused,
    OverlapWarning,
    PastTimeWarning,
    Repeat,
    book_appointments,
    cancel_appointment,
    change_appointment,
    set_outcome,
)
from rxapp.services.telehealth import portal
from rxapp.services.telehealth.meeting_list import MeetingFilters, list_meetings
from rxapp.services.telehealth.meetings import sync
from tests.integration.conftest import ZoomSandbox
from tests.integration.zoom_helpers import SignedIn, connect, control, demo_practice, sign_in, user_id, visit

NY = ZoneInfo("America/New_York")


def _client_id(email: str = "alex@demo.client") -> int:
    with unit_of_work() as s:
        return s.exec(select(Client).where(Client.email == email)).one().id or 0


def _day(days: int = 3) -> str:
    return (now() + timedelta(days=days)).astimezone(NY).date().isoformat()


def _draft(telehealth: bool = True, hour: str = "10:00", days: int = 3, **changes: object) -> AppointmentDraft:
    values: dict[str, object] = {
        "client_id": _client_id(), "practitioner_id": user_id("dr.lee@demo.clinic"), "date": _day(days),
        "hour": hour, "duration_minutes": 50, "telehealth": telehealth, "timezone": "America/New_York"}
    values.update(changes)
    return AppointmentDraft(**values)  # type: ignore[arg-type]


def _sync(appointment_id: int) -> bool:
    return asyncio.run(sync.sync_meeting(appointment_id, force=True))


def _zoom_meetings(zoom: ZoomSandbox) -> list[dict]:
    return [m for m in control(zoom.url, "GET", "/meetings")["meetings"] if not m["deleted"]]


def _mails(subject_contains: str, to: str = "alex@demo.client") -> list[Notification]:
    with unit_of_work() as s:
        return [n for n in s.exec(select(Notification).where(Notification.to_address == to))
                if subject_contains in n.subject]


@pytest.fixture
def desk(zoom: ZoomSandbox) -> SignedIn:
    demo_practice()
    return sign_in("frontdesk@demo.clinic")


def _patel_connected(zoom: ZoomSandbox) -> SignedIn:
    patel = sign_in("dr.patel@demo.clinic")
    connect(zoom.url, patel, "patel@zoom.demo")
    return patel


def test_the_front_desk_books_an_in_person_visit_that_never_touches_zoom(zoom: ZoomSandbox, lee: SignedIn,
                                                                        desk: SignedIn) -> None:
    [appointment_id] = book_appointments(desk.principal, _draft(telehealth=False)).ids
    row = visit(appointment_id)
    assert (row.telehealth, row.pos_code, row.status, row.zoom) == (False, "11", "booked", False)
    assert row.created_by_user_id == desk.principal.user_id and row.practitioner_id == user_id("dr.lee@demo.clinic")
    assert _zoom_meetings(zoom) == []
    [mail] = _mails("Appointment booked")
    assert "Dr. Dana Lee" in mail.body_text and "In person at" in mail.body_text and "zoom" not in mail.body_text


def test_a_weekly_telehealth_series_gets_one_zoom_meeting_per_occurrence_at_the_same_local_time(
        zoom: ZoomSandbox, lee: SignedIn, desk: SignedIn) -> None:
    saved = book_appointments(desk.principal, _draft(repeat=Repeat(every_weeks=1, count=3)))
    assert len(saved.ids) == 3 and saved.zoom_notice == ""
    assert all(_sync(i) for i in saved.ids)
    rows = [visit(i) for i in saved.ids]
    assert len({r.series_id for r in rows}) == 1 and rows[0].series_id
    assert [r.start_at.astimezone(NY).strftime("%a %H:%M") for r in rows] == [rows[0].start_at.astimezone(NY)
                                                                            .strftime("%a %H:%M")] * 3
    assert all(r.pos_code == "10" and r.sync_state == "synced" for r in rows)  # the practice's telehealth POS
    at_zoom = _zoom_meetings(zoom)
    assert sorted(m["id"] for m in at_zoom) == sorted(r.zoom_meeting_id for r in rows)
    [mail] = _mails("booked")  # one email for the series, listing the later dates
    assert "Then also:" in mail.body_text and "Telehealth" in mail.subject


def test_moving_a_telehealth_appointment_patches_the_same_zoom_meeting_and_keeps_the_link(
        zoom: ZoomSandbox, lee: SignedIn, desk: SignedIn) -> None:
    [appointment_id] = book_appointments(desk.principal, _draft()).ids
    assert _sync(appointment_id)
    before = visit(appointment_id)
    change_appointment(desk.principal, appointment_id, AppointmentChange(hour="14:15", duration_minutes=30))
    assert _sync(appointment_id)
    after = visit(appointment_id)
    assert (after.zoom_meeting_id, after.join_url_encrypted) == (before.zoom_meeting_id, before.join_url_encrypted)
    [at_zoom] = _zoom_meetings(zoom)
    assert at_zoom["start_time"] == sync.zoom_time(after.start_at) and at_zoom["duration"] == 30
    assert after.start_at.astimezone(NY).strftime("%H:%M") == "14:15"
    assert any("14:15" in m.body_text or "changed" in m.subject for m in _mails("changed"))


def test_reassigning_deletes_the_meeting_in_the_old_account_and_creates_it_in_the_new_one(
        zoom: ZoomSandbox, lee: SignedIn, desk: SignedIn) -> None:
    [appointment_id] = book_appointments(desk.principal, _draft()).ids
    assert _sync(appointment_id)
    lee_zoom_id = visit(appointment_id).zoom_meeting_id
    patel = _patel_connected(zoom)
    change_appointment(desk.principal, appointment_id, AppointmentChange(practitioner_id=patel.principal.user_id))
    assert _sync(appointment_id)
    row = visit(appointment_id)
    [at_zoom] = _zoom_meetings(zoom)
    assert at_zoom["id"] == row.zoom_meeting_id != lee_zoom_id and at_zoom["host_email"] == "patel@zoom.demo"
    assert row.zoom_holder_practitioner_id == patel.principal.user_id and row.status == "booked"
    [mail] = _mails("changed")
    assert "Dr. Priya Patel" in mail.body_text and "new video meeting" in mail.body_text


def test_after_a_reassign_every_name_is_the_new_practitioners(zoom: ZoomSandbox, lee: SignedIn,
                                                              desk: SignedIn) -> None:
    """The title is derived from the current practitioner: the Zoom topic in the new account, the
    change email and its invite, Patel's Meetings row and the client's portal card all say Patel,
    and nothing says "with X with X"."""
    [appointment_id] = book_appointments(desk.principal, _draft()).ids
    assert _sync(appointment_id)
    patel = _patel_connected(zoom)
    change_appointment(desk.principal, appointment_id, AppointmentChange(practitioner_id=patel.principal.user_id))
    assert _sync(appointment_id)
    [at_zoom] = _zoom_meetings(zoom)
    assert at_zoom["topic"] == "Telehealth session with Dr. Priya Patel"
    [mail] = _mails("changed")
    assert "What: Telehealth session\nWith: Dr. Priya Patel" in mail.body_text
    assert "Dana Lee" not in mail.body_text + mail.body_html + mail.ics
    assert "SUMMARY:Telehealth session with Dr. Priya Patel" in mail.ics
    [row] = list_meetings(patel.principal, MeetingFilters()).rows
    assert (row.id, row.topic, row.practitioner_name) == (appointment_id, "Telehealth session", "Dr. Priya Patel")
    [card] = portal.my_sessions(sign_in("alex@demo.client").principal)
    assert (card.topic, card.practitioner_name) == ("Telehealth session", "Dr. Priya Patel")


def test_a_topic_the_practitioner_typed_stays_the_visits_own(
        zoom: ZoomSandbox, lee: SignedIn, desk: SignedIn) -> None:
    """A topic the practitioner typed is the visit's own: the invite says "<topic> with <name>"."""
    [appointment_id] = book_appointments(desk.principal, _draft()).ids
    with unit_of_work() as s:
        row = s.get(Appointment, appointment_id)
        assert row is not None
        row.topic = "Weekly check-in"
    assert _sync(appointment_id)
    [at_zoom] = _zoom_meetings(zoom)
    assert at_zoom["topic"] == "Weekly check-in"
    change_appointment(desk.principal, appointment_id, AppointmentChange(hour="11:00"))
    [mail] = _mails("changed")
    assert "SUMMARY:Weekly check-in with Dr. Dana Lee" in mail.ics and "What: Weekly check-in" in mail.body_text


def test_reassigning_to_a_practitioner_without_zoom_keeps_the_appointment_and_marks_it_pending(
        zoom: ZoomSandbox, lee: SignedIn, desk: SignedIn) -> None:
    [appointment_id] = book_appointments(desk.principal, _draft()).ids
    assert _sync(appointment_id)
    saved = change_appointment(desk.principal, appointment_id,
                               AppointmentChange(practitioner_id=user_id("dr.patel@demo.clinic")))
    assert "connect Zoom" in saved.zoom_notice
    assert not _sync(appointment_id)
    row = visit(appointment_id)
    assert row.status == "booked" and row.sync_state == "needs_attention" and row.zoom_meeting_id is None
    assert _zoom_meetings(zoom) == []  # Lee's copy is gone, through Lee's connection
    patel = _patel_connected(zoom)  # connecting hands it back to the sync job
    assert asyncio.run(sync.sync_due()) == 1
    [at_zoom] = _zoom_meetings(zoom)
    assert at_zoom["host_email"] == "patel@zoom.demo" and visit(appointment_id).zoom_holder_practitioner_id == \
        patel.principal.user_id


def test_converting_creates_the_meeting_and_converting_back_deletes_it_and_tells_the_client(
        zoom: ZoomSandbox, lee: SignedIn, desk: SignedIn) -> None:
    [appointment_id] = book_appointments(desk.principal, _draft(telehealth=False)).ids
    change_appointment(desk.principal, appointment_id, AppointmentChange(telehealth=True))
    assert visit(appointment_id).pos_code == "10"
    assert _sync(appointment_id) and len(_zoom_meetings(zoom)) == 1
    change_appointment(desk.principal, appointment_id, AppointmentChange(telehealth=False))
    assert _sync(appointment_id)
    row = visit(appointment_id)
    assert (row.telehealth, row.pos_code, row.zoom, row.status) == (False, "11", False, "booked")
    assert _zoom_meetings(zoom) == []
    assert any("now in person" in m.body_text for m in _mails("changed"))


def test_cancelling_deletes_the_zoom_meeting_and_emails_the_reason(zoom: ZoomSandbox, lee: SignedIn,
                                                                   desk: SignedIn) -> None:
    [appointment_id] = book_appointments(desk.principal, _draft()).ids
    assert _sync(appointment_id)
    with pytest.raises(AppointmentInvalid):
        cancel_appointment(desk.principal, appointment_id, "  ")
    cancel_appointment(desk.principal, appointment_id, "Clinic closed for a storm")
    assert _sync(appointment_id)
    row = visit(appointment_id)
    assert (row.status, row.cancel_reason, row.zoom_meeting_id) == ("cancelled", "Clinic closed for a storm", None)
    assert _zoom_meetings(zoom) == []
    [mail] = _mails("cancelled")
    assert "Clinic closed for a storm" in mail.body_text
    with pytest.raises(AppointmentRefused):
        change_appointment(desk.principal, appointment_id, AppointmentChange(hour="11:00"))


@pytest.mark.parametrize("operation", ["meetings.create", "meetings.update", "meetings.delete"])
def test_zoom_down_during_each_change_loses_nothing_and_creates_nothing_twice(
        zoom: ZoomSandbox, short_zoom_timeout: float, lee: SignedIn, desk: SignedIn, operation: str) -> None:
    if operation == "meetings.create":
        control(zoom.url, "POST", "/faults", json={"operation": operation, "kind": "timeout-after", "count": 1})
    [appointment_id] = book_appointments(desk.principal, _draft()).ids
    if operation != "meetings.create":
        assert _sync(appointment_id)
        control(zoom.url, "POST", "/faults", json={"operation": operation, "kind": "502", "count": 1})
        if operation == "meetings.update":
            change_appointment(desk.principal, appointment_id, AppointmentChange(hour="16:00"))
        else:
            cancel_appointment(desk.principal, appointment_id, "Client moved away")
    assert not _sync(appointment_id)  # Zoom failed: the appointment is saved, its meeting pending
    assert visit(appointment_id).sync_state.startswith("pending")
    assert _sync(appointment_id)  # the retry finishes it
    at_zoom = _zoom_meetings(zoom)
    if operation == "meetings.delete":
        assert at_zoom == [] and visit(appointment_id).status == "cancelled"
    else:
        assert len(at_zoom) == 1 and at_zoom[0]["id"] == visit(appointment_id).zoom_meeting_id
        assert at_zoom[0]["start_time"] == sync.zoom_time(visit(appointment_id).start_at)


def test_a_practitioner_without_zoom_gets_the_appointment_saved_pending_and_is_told(zoom: ZoomSandbox,
                                                                                     desk: SignedIn) -> None:
    saved = book_appointments(desk.principal, _draft(practitioner_id=user_id("dr.patel@demo.clinic")))
    assert "Dr. Priya Patel must connect Zoom" in saved.zoom_notice
    row = visit(saved.ids[0])
    assert row.sync_state == "needs_attention" and "connect Zoom" in row.last_sync_error
    assert _mails("waiting for your Zoom", to="dr.patel@demo.clinic")


def test_overlaps_warn_and_may_be_booked_anyway_with_the_zoom_licence_explained(zoom: ZoomSandbox, lee: SignedIn,
                                                                              desk: SignedIn) -> None:
    book_appointments(desk.principal, _draft(telehealth=False))
    with pytest.raises(OverlapWarning) as in_person:
        book_appointments(desk.principal, _draft(telehealth=False, hour="10:30",
                                                 client_id=_client_id("sam@demo.client")))
    assert "Dr. Dana Lee already has an appointment then" in in_person.value.message
    assert "Zoom licence" not in in_person.value.message
    with pytest.raises(OverlapWarning) as telehealth:
        book_appointments(desk.principal, _draft(hour="10:30", client_id=_client_id("sam@demo.client")))
    assert "One Zoom licence hosts one meeting at a time" in telehealth.value.message
    assert book_appointments(desk.principal, _draft(hour="10:30", allow_overlap=True,
                                                    client_id=_client_id("sam@demo.client"))).ids


def test_bad_input_gets_a_message_per_field_and_saves_nothing(zoom: ZoomSandbox, lee: SignedIn,
                                                             desk: SignedIn) -> None:
    cases = [({"duration_minutes": 0}, "duration", "The end must be after the start"),
             ({"date": "2026-02-30"}, "date", "YYYY-MM-DD"),
             ({"hour": "25:00"}, "hour", "HH:MM"),
             ({"date": (now() - timedelta(days=2)).date().isoformat()}, "hour", "cannot start in the past"),
             ({"client_id": 999_999}, "client", "Choose one of your clients"),
             ({"repeat": Repeat(count=60)}, "repeat_count", "between 2 and 52"),
             ({"repeat": Repeat(until=_day(1))}, "repeat_until", "must end after"),
             ({"notes": "n" * 2001}, "notes", "2,000")]
    for changes, field, text in cases:
        with pytest.raises(AppointmentInvalid) as bad:
            book_appointments(desk.principal, _draft(**changes))
        assert text in bad.value.errors[field], (changes, bad.value.errors)
    # In person, a past time is asked about first, then recorded: the front desk records a visit that
    # happened. The client is not emailed about it (it is no news to them); the audit says so.
    with pytest.raises(PastTimeWarning, match=r"This time has passed: record a past visit\?"):
        book_appointments(desk.principal, _draft(telehealth=False, days=-2))
    with unit_of_work() as s:
        assert s.exec(select(Appointment)).all() == []
    assert book_appointments(desk.principal, _draft(telehealth=False, days=-2, record_past=True)).ids
    with unit_of_work() as s:
        assert len(s.exec(select(Appointment)).all()) == 1 and s.exec(select(Meeting)).all() == []
        [entry] = s.exec(select(AuditEvent).where(AuditEvent.action == "appointment.booked")).all()
        assert '"recorded_after": true' in entry.detail
    assert _mails("booked") == []
    # Earlier today counts too (the hour has passed, the day has not).
    earlier = (now() - timedelta(minutes=5)).astimezone(NY)
    with pytest.raises(PastTimeWarning):
        book_appointments(desk.principal, _draft(telehealth=False, date=earlier.date().isoformat(),
                                                  hour=earlier.strftime("%H:%M")))


def test_who_may_book_and_change_for_whom(zoom: ZoomSandbox, lee: SignedIn, desk: SignedIn) -> None:
    with pytest.raises(NotAllowed):
        book_appointments(lee.principal, _draft(practitioner_id=user_id("dr.patel@demo.clinic")))
    with pytest.raises(NotAllowed):
        book_appointments(sign_in("alex@demo.client").principal, _draft())
    [patels] = book_appointments(desk.principal, _draft(telehealth=False,
                                                        practitioner_id=user_id("dr.patel@demo.clinic"))).ids
    with pytest.raises(NotAllowed):  # a practitioner edits only their own appointments
        change_appointment(lee.principal, patels, AppointmentChange(hour="12:00"))
    with pytest.raises(NotAllowed):
        cancel_appointment(lee.principal, patels, "not mine")
    [own] = book_appointments(lee.principal, _draft(telehealth=False, hour="15:00")).ids
    with pytest.raises(NotAllowed):  # and do not hand them to a colleague
        change_appointment(lee.principal, own, AppointmentChange(practitioner_id=user_id("dr.patel@demo.clinic")))
    with unit_of_work() as s:
        other = Practice(name="Elsewhere")
        s.add(other)
    assert change_appointment(sign_in("manager@demo.clinic").principal, patels, AppointmentChange(hour="12:00")).ids


def test_this_and_following_moves_the_rest_of_the_series_and_splits_it(zoom: ZoomSandbox, lee: SignedIn,
                                                                      desk: SignedIn) -> None:
    ids = book_appointments(desk.principal, _draft(telehealth=False, repeat=Repeat(every_weeks=2, count=4))).ids
    change_appointment(desk.principal, ids[2], AppointmentChange(hour="13:00"), scope="following")
    rows = [visit(i) for i in ids]
    assert [r.start_at.astimezone(NY).strftime("%H:%M") for r in rows] == ["10:00", "10:00", "13:00", "13:00"]
    assert rows[0].series_id == rows[1].series_id != rows[2].series_id == rows[3].series_id
    cancel_appointment(desk.principal, ids[2], "Treatment finished early", scope="following")
    assert [visit(i).status for i in ids] == ["booked", "booked", "cancelled", "cancelled"]


def test_outcomes_are_recorded_only_once_a_visit_has_started(zoom: ZoomSandbox, lee: SignedIn,
                                                            desk: SignedIn) -> None:
    from rxapp.models import AppointmentStatus
    [future] = book_appointments(desk.principal, _draft(telehealth=False)).ids
    with pytest.raises(AppointmentRefused):
        set_outcome(desk.principal, future, AppointmentStatus.NO_SHOW)
    [past] = book_appointments(desk.principal, _draft(telehealth=False, days=-1, record_past=True)).ids
    set_outcome(desk.principal, past, AppointmentStatus.NO_SHOW)
    assert visit(past).status == "no_show"


def test_an_archived_client_cannot_be_booked_or_picked(zoom: ZoomSandbox, lee: SignedIn, desk: SignedIn) -> None:
    from rxapp.services.telehealth.meetings.schedule import trusted_patients

    with unit_of_work() as s:
        alex = s.exec(select(Client).where(Client.email == "alex@demo.client")).one()
        alex.archived_at = now()
    with pytest.raises(AppointmentInvalid) as bad:
        book_appointments(desk.principal, _draft(telehealth=False))
    assert "archived" in bad.value.errors["client"]
    assert "Alex Rivera" not in [name for _, name in trusted_patients(lee.principal)]
