"""Issue 24 items 2 and 4: a family's shared mobile number, and Twilio's keyword rules as Twilio
documents them (services.notify.sms.inbound), through the same inbound code as Twilio's webhook."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import Appointment, AuditEvent, Client, Notification, Practice
from rxapp.services.clients.records import client_detail
from rxapp.services.notify.sms import inbound
from rxapp.services.scheduling.appointments import AppointmentDraft, book_appointments
from tests.integration.zoom_helpers import principal_of, user_id

FAMILY = "+13125550101"  # Alex's number; Sam (a child, say) is given it too
DESK = "frontdesk@demo.clinic"


def _client(email: str) -> Client:
    with unit_of_work() as s:
        return s.exec(select(Client).where(Client.email == email)).one()


def _share_and_book(demo) -> tuple[int, int]:
    """Sam on Alex's number; the practice asks clients to confirm; Sam's visit is sooner than Alex's."""
    with unit_of_work() as s:
        s.exec(select(Client).where(Client.email == "sam@demo.client")).one().phone = FAMILY
        practice = s.exec(select(Practice)).one()
        practice.ask_clients_to_confirm, practice.phone = True, "+13125550199"
    ids = []
    for email, days in (("alex@demo.client", 3), ("sam@demo.client", 2)):
        ids += book_appointments(principal_of(DESK), AppointmentDraft(
            client_id=_client(email).id, practitioner_id=user_id("dr.lee@demo.clinic"),
            date=(now() + timedelta(days=days)).date().isoformat(), hour="10:00", duration_minutes=50,
            telehealth=False, timezone="America/New_York", allow_overlap=True)).ids
    return ids[0], ids[1]


def _text(body: str) -> str | None:
    with unit_of_work() as s:
        return inbound.handle_inbound(s, FAMILY, body)


def _confirmed(appointment_id: int) -> bool:
    with unit_of_work() as s:
        row = s.get(Appointment, appointment_id)
        return row is not None and row.confirmed_at is not None


def _opted_out() -> tuple[bool, bool]:
    return _client("alex@demo.client").sms_opted_out, _client("sam@demo.client").sms_opted_out


def test_yes_from_a_shared_number_confirms_the_soonest_visit_of_everyone_on_it_and_says_whose(demo) -> None:
    alex_visit, sam_visit = _share_and_book(demo)
    first = _text("Yes!")
    assert first is not None and first.startswith("Thank you: Sam Taylor's appointment with Dr. Dana Lee on ")
    assert _confirmed(sam_visit) and not _confirmed(alex_visit)
    second = _text("yes")
    assert second is not None and second.startswith("Thank you: Alex Rivera's appointment")
    assert _confirmed(alex_visit)
    assert _text("YES") == "You have no upcoming appointment waiting for confirmation."
    # Each record says the number is shared (the desk sees both names).
    assert client_detail(principal_of(DESK), _client("alex@demo.client").id or 0).phone_shared_with == "Sam Taylor"


def test_stop_and_start_apply_to_every_client_on_the_number_and_only_as_whole_messages(demo) -> None:
    _share_and_book(demo)
    for body in (" Stop please", "please stop", "stop it", "STOP STOP"):
        assert _text(body) is None and _opted_out() == (False, False), body
    for word in ("STOP", "stop.", " Unsubscribe ", "end", "QUIT!", "stopall", "revoke", "OptOut", "cancel"):
        assert _text(word) is None and _opted_out() == (True, True), word
        assert _text("START") is None and _opted_out() == (False, False)
    _text("STOP")
    assert _text("unstop") is None and _opted_out() == (False, False)
    with unit_of_work() as s:
        actions = [a.action for a in s.exec(select(AuditEvent).where(AuditEvent.action.like("client.sms_opted%")))]  # type: ignore[attr-defined]
    assert actions.count("client.sms_opted_out") == 2 * 10 and actions.count("client.sms_opted_in") == 2 * 10


def test_yes_from_an_opted_out_number_opts_it_back_in_tells_the_practice_and_confirms(demo) -> None:
    _, sam_visit = _share_and_book(demo)
    _text("STOP")
    reply = _text("YES")
    assert _opted_out() == (False, False)  # Twilio re-subscribed the number at the carrier
    assert reply is not None and reply.startswith("Thank you: Sam Taylor's") and _confirmed(sam_visit)
    with unit_of_work() as s:
        told = s.exec(select(Notification).where(Notification.subject.like("%receives text messages again"))).all()  # type: ignore[attr-defined]
        entries = s.exec(select(AuditEvent).where(AuditEvent.action == "client.sms_opted_in")).all()
    assert sorted(n.to_address for n in told) == sorted(["owner@demo.clinic", "frontdesk@demo.clinic"] * 2)
    assert len(entries) == 2 and all('"by": "SMS YES"' in e.detail for e in entries)
    assert _text("YES") is not None
    with unit_of_work() as s:  # nothing to re-subscribe the second time: nobody told again
        assert len(s.exec(select(Notification).where(
            Notification.subject.like("%receives text messages again"))).all()) == 4  # type: ignore[attr-defined]


def test_help_and_info_answer_with_the_practices_name_and_phone(demo) -> None:
    _share_and_book(demo)
    for word in ("HELP", "info", "Help?"):
        reply = _text(word)
        assert reply is not None and "Demo Practice" in reply and "+13125550199" in reply, reply
        assert "Reply STOP to opt out" in reply
    assert _text("help me please") is None  # not a keyword: nothing registered for HELP
