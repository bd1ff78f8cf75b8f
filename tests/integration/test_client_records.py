"""Client records on the real database (SQLite and PostgreSQL): add, edit, duplicate email, archive,
restore, who may see or change which record, pages of the list, and the client's appointments."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import Appointment, AuditEvent, Client, Meeting, Notification, Practice
from rxapp.services.changes import AppointmentChanged
from rxapp.services.clients import history as client_history
from rxapp.services.clients.directory import list_clients, search_clients
from rxapp.services.clients.records import (
    PHONE_PROBLEM,
    ClientForm,
    ClientInvalid,
    ClientNotFound,
    add_client,
    client_detail,
    edit_form,
    set_archived,
    update_client,
)
from rxapp.services.permissions import NotAllowed
from rxapp.services.telehealth.meeting_list import meeting_search_text
from rxapp.state.client_form import ClientFormState
from rxapp.state.client_record import ClientRecordState
from rxapp.state.clients import ClientsState
from rxapp.state.portal import PortalState
from tests.factories import telehealth_visit
from tests.integration.page_states import page_state, run, toasts
from tests.integration.zoom_helpers import principal_of, user_id

DESK, OWNER, MANAGER = "frontdesk@demo.clinic", "owner@demo.clinic", "manager@demo.clinic"
LEE, PATEL, ALEX = "dr.lee@demo.clinic", "dr.patel@demo.clinic", "alex@demo.client"


def _form(**changes: str) -> ClientForm:
    values = {"first_name": "Casey", "last_name": "Brook", "email": "casey@new.client",
              "phone": "+1 (415) 555-2671", "timezone": "America/Denver"} | changes
    return ClientForm(**values)


def _client(client_id: int) -> Client:
    with unit_of_work() as s:
        return s.get(Client, client_id)


def _client_id(name: str) -> int:
    with unit_of_work() as s:
        return s.exec(select(Client.id).where(Client.full_name == name)).one() or 0


def _appointment(client: str, practitioner: str, hours_from_now: float, status: str = "booked",
                 telehealth: bool = False, reason: str = "") -> int:
    with unit_of_work() as s:
        practice_id = s.exec(select(Practice.id)).first() or 0
        row = Appointment(practice_id=practice_id, practitioner_id=user_id(practitioner), client_id=_client_id(client),
                          start_at=now() + timedelta(hours=hours_from_now), duration_minutes=50,
                          telehealth=telehealth, status=status, cancel_reason=reason)
        s.add(row)
        s.flush()
        return row.id or 0


# Add and edit

def test_the_front_desk_adds_a_client_with_a_cleaned_up_record(demo) -> None:
    client_id = add_client(principal_of(DESK), _form(email="Casey@New.Client", date_of_birth="1990-04-23",
                                                     preferred_name="Case", notes="Prefers mornings."))

    c = _client(client_id)
    assert (c.first_name, c.last_name, c.preferred_name, c.full_name) == ("Casey", "Brook", "Case", "Case Brook")
    assert (c.email, c.phone, c.timezone, c.date_of_birth.isoformat(), c.notes) == (
        "casey@new.client", "+14155552671", "America/Denver", "1990-04-23", "Prefers mornings.")
    assert c.archived_at is None and c.practice_id == principal_of(DESK).practice_id
    with unit_of_work() as s:
        assert s.exec(select(AuditEvent.action).where(AuditEvent.subject_id == str(client_id))).all() == [
            "client.added"]


def test_a_bad_phone_saves_nothing_and_names_the_field(demo) -> None:
    with pytest.raises(ClientInvalid) as refused:
        add_client(principal_of(DESK), _form(phone="415 555"))
    assert refused.value.errors == {"phone": PHONE_PROBLEM}
    with unit_of_work() as s:
        assert s.exec(select(Client).where(Client.last_name == "Brook")).first() is None


@pytest.mark.parametrize("email", ["ALEX@demo.client", "alex@demo.client "])
def test_an_email_another_client_of_the_practice_has_is_refused_in_any_case(demo, email: str) -> None:
    with pytest.raises(ClientInvalid) as refused:
        add_client(principal_of(DESK), _form(email=email))
    assert refused.value.errors == {
        "email": "Another client of this practice, Alex Rivera, already has this email address."}


def test_an_archived_clients_email_is_still_taken(demo) -> None:
    set_archived(principal_of(DESK), _client_id("Alex Rivera"), archived=True)
    with pytest.raises(ClientInvalid, match=r"Alex Rivera \(archived\)"):
        add_client(principal_of(DESK), _form(email="alex@demo.client"))


def test_the_same_email_in_another_practice_and_a_client_keeping_their_own_email_are_fine(demo) -> None:
    with unit_of_work() as s:
        other = Practice(name="Another Practice")
        s.add(other)
        s.flush()
        s.add(Client(practice_id=other.id or 0, full_name="Casey Elsewhere", email="casey@new.client"))
    casey = add_client(principal_of(DESK), _form())
    update_client(principal_of(DESK), casey, _form(notes="Same email, new notes."))
    assert _client(casey).notes == "Same email, new notes."
    with pytest.raises(ClientInvalid, match="Casey Brook"):
        update_client(principal_of(DESK), _client_id("Sam Taylor"), _form(first_name="Sam", last_name="Taylor"))


def test_a_rename_keeps_the_meetings_page_search_in_step(demo) -> None:
    alex = _client_id("Alex Rivera")
    appointment_id = _appointment("Alex Rivera", LEE, hours_from_now=24, telehealth=True)
    with unit_of_work() as s:
        row = s.get(Appointment, appointment_id)
        row.topic, row.notes = "Check-in", "agenda"
        row.search_text = meeting_search_text("Check-in", "agenda", "Alex Rivera")

    update_client(principal_of(DESK), alex, _form(first_name="Alexandra", last_name="Rivera-Diaz",
                                                  email="alex@demo.client"))

    assert _client(alex).full_name == "Alexandra Rivera-Diaz"
    with unit_of_work() as s:
        assert s.get(Appointment, appointment_id).search_text == meeting_search_text(
            "Check-in", "agenda", "Alexandra Rivera-Diaz")


def test_a_record_from_before_the_name_fields_opens_in_the_edit_form_with_its_name(demo) -> None:
    with unit_of_work() as s:  # as other code still writes a client: the display name only
        s.add(Client(practice_id=principal_of(DESK).practice_id, full_name="Mary Ann Smith", email="mas@x.org",
                     timezone="Europe/Paris"))
    form = edit_form(principal_of(DESK), _client_id("Mary Ann Smith"))
    assert (form.first_name, form.last_name, form.email, form.timezone) == (
        "Mary Ann", "Smith", "mas@x.org", "Europe/Paris")


# Archive and restore

def test_archiving_hides_a_client_from_the_list_and_pickers_and_restoring_brings_them_back(demo) -> None:
    desk, alex = principal_of(DESK), _client_id("Alex Rivera")

    assert set_archived(desk, alex, archived=True) == "Alex Rivera"

    assert [r.name for r in list_clients(desk).rows] == ["Jo Kim", "Sam Taylor"]
    assert [(r.name, r.archived) for r in list_clients(desk, archived=True).rows] == [("Alex Rivera", True)]
    assert [o.name for o in search_clients(desk, "")] == ["Jo Kim", "Sam Taylor"]
    assert search_clients(desk, "alex") == []
    assert client_detail(desk, alex).archived_at is not None  # the record and its history stay

    set_archived(desk, alex, archived=False)

    assert [r.name for r in list_clients(desk).rows] == ["Alex Rivera", "Jo Kim", "Sam Taylor"]
    assert [o.name for o in search_clients(desk, "rivera")] == ["Alex Rivera"]
    with unit_of_work() as s:
        assert s.exec(select(AuditEvent.action).where(AuditEvent.subject_id == str(alex))
                      .order_by(col(AuditEvent.id))).all() == ["client.archived", "client.restored"]


def test_the_picker_search_takes_wildcards_literally_and_respects_its_limit(demo) -> None:
    desk = principal_of(DESK)
    assert search_clients(desk, "%") == [] and search_clients(desk, "_") == []
    assert len(search_clients(desk, "", limit=2)) == 2


def test_names_are_found_whatever_their_case_and_accents(demo) -> None:
    """Clients list, the pickers' search and the Meetings search fold case and accents alike."""
    from rxapp.services.telehealth.meeting_list import MeetingFilters, list_meetings

    desk = principal_of(DESK)
    for first, last, email in (("Élodie", "Durand", "elodie@new.client"), ("Jürgen", "Müller", "jm@new.client"),
                               ("Zoë", "Adams", "zoe@new.client")):
        add_client(desk, _form(first_name=first, last_name=last, email=email))
    cases = {"élodie": "Élodie Durand", "Élo": "Élodie Durand", "ELODIE": "Élodie Durand",
             "elodie": "Élodie Durand", "muller": "Jürgen Müller", "MÜLLER": "Jürgen Müller", "jurgen": "Jürgen Müller",
             "zoe": "Zoë Adams", "ZOË": "Zoë Adams"}
    for typed, name in cases.items():
        assert [r.name for r in list_clients(desk, typed).rows] == [name], typed
        assert [o.name for o in search_clients(desk, typed)] == [name], typed
    with unit_of_work() as s:  # a telehealth visit, its search text written as the booking use case writes it
        visit = telehealth_visit(s, practice_id=desk.practice_id, practitioner_id=user_id(LEE),
                                 client_id=_client_id("Élodie Durand"), topic="Check-in",
                                 start_at=now() + timedelta(hours=30), duration_minutes=50,
                                 search_text=meeting_search_text("Check-in", "", "Élodie Durand")).id
    owner = principal_of(OWNER)
    for typed in ("elodie", "ÉLODIE", "durand élo"):
        assert visit in [r.id for r in list_meetings(owner, MeetingFilters(search=typed, page_size=100)).rows], typed


# Who may do what, for the record's id

@pytest.mark.parametrize("who", [DESK, OWNER, MANAGER])
def test_staff_managers_and_owners_manage_every_client(demo, who: str) -> None:
    jo = _client_id("Jo Kim")
    update_client(principal_of(who), jo, _form(first_name="Joanne", last_name="Kim", email="jo@demo.client"))
    set_archived(principal_of(who), jo, archived=True)
    set_archived(principal_of(who), jo, archived=False)
    assert _client(jo).full_name == "Joanne Kim"
    assert add_client(principal_of(who), _form(email=f"casey.{who.split('@')[0]}@new.client"))


@pytest.mark.parametrize("who", [LEE, ALEX])
def test_practitioners_and_clients_change_no_client_record(demo, who: str) -> None:
    sam = _client_id("Sam Taylor")
    for attempt in (lambda: add_client(principal_of(who), _form()),
                    lambda: update_client(principal_of(who), sam, _form(first_name="Hacked")),
                    lambda: set_archived(principal_of(who), sam, archived=True),
                    lambda: edit_form(principal_of(who), sam)):
        with pytest.raises(NotAllowed):
            attempt()
    assert _client(sam).full_name == "Sam Taylor" and _client(sam).archived_at is None


def test_a_practitioner_sees_only_the_clients_they_work_with(demo) -> None:
    lee, patel = principal_of(LEE), principal_of(PATEL)
    assert [r.name for r in list_clients(lee).rows] == ["Alex Rivera", "Sam Taylor"]  # they trust her
    assert [r.name for r in list_clients(patel).rows] == ["Jo Kim"]
    with pytest.raises(ClientNotFound):
        client_detail(lee, _client_id("Jo Kim"))
    assert client_history.client_history(lee, _client_id("Jo Kim")) is None

    _appointment("Alex Rivera", PATEL, hours_from_now=24)  # an appointment is enough

    assert [r.name for r in list_clients(patel).rows] == ["Alex Rivera", "Jo Kim"]
    assert client_detail(patel, _client_id("Alex Rivera")).name == "Alex Rivera"
    assert [o.name for o in search_clients(patel, "")] == ["Alex Rivera", "Jo Kim"]


def test_clients_never_reach_client_records(demo) -> None:
    alex = principal_of(ALEX)
    with pytest.raises(NotAllowed):
        list_clients(alex)
    with pytest.raises(NotAllowed):
        search_clients(alex, "")
    with pytest.raises(NotAllowed):
        client_detail(alex, _client_id("Alex Rivera"))


def test_another_practices_client_is_not_found_for_anyone(demo) -> None:
    with unit_of_work() as s:
        other = Practice(name="Another Practice")
        s.add(other)
        s.flush()
        stranger = Client(practice_id=other.id or 0, full_name="Olive Other", email="olive@other.client")
        s.add(stranger)
        s.flush()
        stranger_id = stranger.id or 0
    desk = principal_of(DESK)
    for attempt in (lambda: update_client(desk, stranger_id, _form(first_name="Olive", last_name="Mine")),
                    lambda: set_archived(desk, stranger_id, archived=True),
                    lambda: client_detail(desk, stranger_id), lambda: edit_form(desk, stranger_id)):
        with pytest.raises(ClientNotFound):
            attempt()
    assert _client(stranger_id).full_name == "Olive Other" and _client(stranger_id).archived_at is None


# Pages of the list

def test_the_list_pages_by_25_forwards_and_back(demo) -> None:
    desk = principal_of(DESK)
    with unit_of_work() as s:
        practice_id = s.exec(select(Practice.id)).first() or 0
        s.add_all(Client(practice_id=practice_id, full_name=f"Pat Number{n:02d}") for n in range(57))
    names = sorted([f"Pat Number{n:02d}" for n in range(57)] + ["Alex Rivera", "Jo Kim", "Sam Taylor"])

    first = list_clients(desk)
    second = list_clients(desk, after=first.next_cursor)
    third = list_clients(desk, after=second.next_cursor)
    back = list_clients(desk, before=second.previous_cursor)

    assert [r.name for r in first.rows + second.rows + third.rows] == names
    assert (len(first.rows), len(second.rows), len(third.rows)) == (25, 25, 10)
    assert (first.has_previous, first.has_next, second.has_previous, second.has_next) == (False, True, True, True)
    assert (third.has_next, third.next_cursor) == (False, "")
    assert [r.name for r in back.rows] == names[:25] and not back.has_previous
    assert [r.name for r in list_clients(desk, "number5").rows] == [f"Pat Number{n}" for n in range(50, 57)]
    assert list_clients(desk, after="not-a-cursor").rows == first.rows


# The client's appointments

def test_a_clients_page_lists_upcoming_and_past_appointments(demo) -> None:
    soon = _appointment("Alex Rivera", LEE, hours_from_now=26, telehealth=True)
    later = _appointment("Alex Rivera", PATEL, hours_from_now=24 * 8)
    done = _appointment("Alex Rivera", LEE, hours_from_now=-24 * 7, status="completed")
    cancelled = _appointment("Alex Rivera", LEE, hours_from_now=48, status="cancelled", reason="Client unwell")
    missed = _appointment("Alex Rivera", LEE, hours_from_now=-3, status="no_show", telehealth=True)
    _appointment("Sam Taylor", LEE, hours_from_now=5)  # someone else's

    history = client_history.client_history(principal_of(DESK), _client_id("Alex Rivera"))

    assert [v.appointment_id for v in history.upcoming] == [soon, later]
    assert [(v.practitioner_name, v.mode) for v in history.upcoming] == [("Dr. Dana Lee", "Telehealth"),
                                                                        ("Dr. Priya Patel", "In person")]
    # A cancelled visit whose time is still to come is not history: it has its own list.
    assert [(v.appointment_id, v.status_text, v.cancel_reason) for v in history.cancelled] == [
        (cancelled, "Cancelled", "Client unwell")]
    assert [v.appointment_id for v in history.past] == [missed, done]
    assert [v.status_text for v in history.past] == ["No-show", "Completed"]


def test_the_client_sees_their_own_history_in_the_portal_and_nobody_elses(demo) -> None:
    mine = _appointment("Alex Rivera", LEE, hours_from_now=30, telehealth=True)
    _appointment("Sam Taylor", LEE, hours_from_now=30)
    past = _appointment("Alex Rivera", LEE, hours_from_now=-30, status="completed")

    history = client_history.my_history(principal_of(ALEX))

    assert [v.appointment_id for v in history.upcoming] == [mine]
    assert [v.appointment_id for v in history.past] == [past]
    with pytest.raises(NotAllowed):
        client_history.my_history(principal_of(DESK))


# The pages, as the browser drives them

def test_the_form_keeps_what_was_typed_through_errors_then_saves_and_invites(demo) -> None:
    page = page_state(ClientFormState, "/clients", DESK)
    run(page.open_add())
    assert page.open and page.timezone == "America/New_York"  # the practice's
    for name, value in (("first_name", "Casey"), ("last_name", "Brook"), ("email", "casey@new.client"),
                        ("phone", "415-555"), ("notes", "Referred by Dr. Lee.")):
        page.set_field(name, value)

    events = run(page.save_and_invite())

    assert page.errors == {"phone": PHONE_PROBLEM} and page.open
    assert ("error", "Check the highlighted fields: nothing was saved yet.") in toasts(events)
    assert (page.first_name, page.email, page.phone, page.notes) == (
        "Casey", "casey@new.client", "415-555", "Referred by Dr. Lee.")
    with unit_of_work() as s:
        assert s.exec(select(Client).where(Client.last_name == "Brook")).first() is None

    page.set_field("phone", "+1 415-555-2671")
    run(page.save_and_invite())

    assert not page.open and page.errors == {}
    assert page.notice == "Saved Casey Brook. Portal invite sent to Casey Brook at casey@new.client."
    assert _client(_client_id("Casey Brook")).phone == "+14155552671"
    with unit_of_work() as s:
        assert len(s.exec(select(Notification).where(Notification.to_address == "casey@new.client")).all()) == 1
    clients = run(page.get_state(ClientsState))
    assert "Casey Brook" in [r["name"] for r in clients.rows]
    run(page.save())  # a second click queued behind the first: nothing more is added
    with unit_of_work() as s:
        assert len(s.exec(select(Client).where(Client.last_name == "Brook")).all()) == 1


def test_save_and_invite_without_an_email_saves_and_says_why_no_invite_went(demo) -> None:
    page = page_state(ClientFormState, "/clients", DESK)
    run(page.open_add())
    page.set_field("first_name", "Nomail")
    page.set_field("last_name", "Person")
    run(page.save_and_invite())
    assert page.notice.startswith("Saved Nomail Person. The portal invite was not sent: ")
    assert "no email address" in page.notice


def test_the_client_page_acts_on_the_id_it_was_given_and_rechecks_it(demo) -> None:
    jo = _client_id("Jo Kim")
    page = page_state(ClientRecordState, f"/clients/{jo}", LEE)
    run(page.load())
    assert not page.found and page.name == ""  # not one of Dr. Lee's clients

    [(level, _)] = toasts(run(page.archive(jo)))
    assert level == "error" and _client(jo).archived_at is None

    desk = page_state(ClientRecordState, f"/clients/{jo}", DESK)
    run(desk.load())
    assert desk.found and desk.name == "Jo Kim" and desk.can_manage
    run(desk.archive(jo))
    assert desk.archived and _client(jo).archived_at is not None
    run(desk.restore(jo))
    assert not desk.archived and _client(jo).archived_at is None


def test_a_practitioner_opens_their_clients_page_read_only(demo) -> None:
    sam = _client_id("Sam Taylor")
    _appointment("Sam Taylor", LEE, hours_from_now=20, telehealth=True)
    page = page_state(ClientRecordState, f"/clients/{sam}", LEE)
    run(page.load())
    assert page.found and not page.can_manage
    assert [r["mode"] for r in page.upcoming] == ["Telehealth"]
    form = page_state(ClientFormState, f"/clients/{sam}", LEE)
    [(level, _)] = toasts(run(form.open_edit(sam)))
    assert level == "error" and not form.open



def test_the_portal_history_follows_a_pushed_change_while_my_sessions_is_open(demo) -> None:
    portal = page_state(PortalState, "/portal", ALEX)
    run(portal.load())
    assert portal.upcoming == []

    _appointment("Alex Rivera", LEE, hours_from_now=30, telehealth=True)
    run(portal._changed(AppointmentChanged(appointment_id=0, practice_id=0, practitioner_id=0, client_id=0)))

    assert [(v["practitioner"], v["mode"]) for v in portal.upcoming] == [("Dr. Dana Lee", "Telehealth")]
    assert portal.upcoming[0]["when"].endswith(("CST", "CDT"))  # Alex's timezone, America/Chicago


def test_my_sessions_lists_each_visit_once_with_its_actions_and_cancelled_ones_apart(demo) -> None:
    """A telehealth visit is one card with the waiting room, Reschedule and Cancel (not a session
    card and an appointment entry); a cancelled future visit is under Cancelled with its reason, never
    under Past; a visit the client booked says so in their words."""
    telehealth = _appointment("Alex Rivera", LEE, hours_from_now=30, telehealth=True)
    with unit_of_work() as s:
        s.add(Meeting(id=telehealth))
        alex = s.exec(select(Client).where(Client.email == ALEX)).one()
    in_person = _appointment("Alex Rivera", PATEL, hours_from_now=50)
    with unit_of_work() as s:
        row = s.get(Appointment, in_person)
        assert row is not None
        row.created_by_user_id = alex.user_id
    dropped = _appointment("Alex Rivera", LEE, hours_from_now=70, status="cancelled", reason="Travelling")
    done = _appointment("Alex Rivera", LEE, hours_from_now=-70, status="completed")
    portal = page_state(PortalState, "/portal", ALEX)
    run(portal.load())

    assert [r["id"] for r in portal.upcoming] == [str(telehealth), str(in_person)]
    first, second = portal.upcoming
    assert (first["mode"], first["status"], first["href"], first["change"]) == (
        "Telehealth", "Booked", f"/portal/waiting?meeting={telehealth}", "1")
    assert (second["mode"], second["href"], second["change"], second["booked_by"]) == (
        "In person", "", "1", "You booked this online")
    assert first["booked_by"] == ""
    assert [(r["id"], r["reason"]) for r in portal.cancelled] == [(str(dropped), "Travelling")]
    assert [r["id"] for r in portal.past] == [str(done)]

    staff = page_state(ClientRecordState, f"/clients/{alex.id}", DESK)
    run(staff.load())
    assert [r["id"] for r in staff.cancelled] == [str(dropped)] and [r["id"] for r in staff.past] == [str(done)]
    assert [r["booked_by"] for r in staff.upcoming] == ["", "Booked by the client online"]


def test_a_phone_without_a_country_code_is_of_the_practices_country_and_an_invalid_one_is_refused(demo) -> None:
    with unit_of_work() as s:
        practice = s.exec(select(Practice)).one()
        practice.timezone = "Europe/London"
    client_id = add_client(principal_of(DESK), _form(phone="020 7946 0958"))
    assert _client(client_id).phone == "+442079460958"
    with pytest.raises(ClientInvalid) as refused:
        add_client(principal_of(DESK), _form(email="other@new.client", phone="+1 555 555 0101"))
    assert refused.value.errors == {"phone": PHONE_PROBLEM}


def test_the_sms_consent_is_set_on_the_record_by_a_manager_of_the_practice_only(demo) -> None:
    from rxapp.services.clients.records import set_sms_opt_out

    alex = _client_id("Alex Rivera")
    assert set_sms_opt_out(principal_of(DESK), alex, True) == "Alex Rivera"
    assert _client(alex).sms_opted_out
    page = page_state(ClientRecordState, f"/clients/{alex}", DESK)
    run(page.load())
    assert page.sms_allowed is False
    run(page.set_sms_consent(alex, True))
    assert not _client(alex).sms_opted_out and page.sms_allowed
