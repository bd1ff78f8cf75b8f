"""Issue 28.1: the waitlist, on both databases. A cancellation is offered to the waiting clients in
order of their wish's age; the first to claim books it (through the appointment book, under the
practitioner's booking lock), the others are told it has gone; ten clients claiming one slot at once
give exactly one appointment; an unclaimed offer expires and the slot goes to the next wish; opted-out
channels get nothing; bad input, other people's wishes and unknown links are refused."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select
from starlette.testclient import TestClient

from rxapp import clock
from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import (
    Appointment,
    AppointmentStatus,
    AuditEvent,
    AvailabilityBlock,
    Channel,
    Client,
    Notification,
    NotificationStatus,
    WaitlistOffer,
    WaitlistWish,
)
from rxapp.services.permissions import NotAllowed
from rxapp.services.scheduling import appointments, availability, self_booking, waitlist
from rxapp.services.scheduling.appointments import AppointmentDraft
from rxapp.services.scheduling.slots import Slot
from rxapp.settings import get_settings
from tests.integration.zoom_helpers import principal_of, user_id

APP = "http://localhost:3000"
SAME_ORIGIN = {"origin": APP, "sec-fetch-site": "same-origin"}
DESK = "frontdesk@demo.clinic"


@pytest.fixture
def web(demo: None, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    from rxapp import api

    monkeypatch.setenv("APP_URL", APP)
    get_settings.cache_clear()
    return TestClient(api.build(), base_url=APP, follow_redirects=False)


def _lee_slot() -> Slot:
    """An in-person slot of Dr. Lee's a few days ahead (she publishes weekdays 9-17 in person)."""
    with unit_of_work() as s:
        if not s.exec(select(AvailabilityBlock)).first():
            practice_id = _client("alex@demo.client").practice_id
            for weekday in range(5):
                s.add(AvailabilityBlock(practice_id=practice_id, practitioner_id=user_id("dr.lee@demo.clinic"),
                                        weekday=weekday, start_minute=9 * 60, end_minute=17 * 60, mode="in_person"))
    with unit_of_work() as s:
        found = availability.open_slots_for(s, user_id("dr.lee@demo.clinic"), now() + timedelta(days=3),
                                            now() + timedelta(days=10), length=50).slots
    return next(slot for slot in found if slot.mode.value in ("in_person", "both"))


def _client(email: str) -> Client:
    with unit_of_work() as s:
        return s.exec(select(Client).where(Client.email == email)).one()


def _new_client(name: str, email: str, phone: str | None = None) -> int:
    with unit_of_work() as s:
        practice_id = _client("alex@demo.client").practice_id
        client = Client(practice_id=practice_id, full_name=name, first_name=name.split()[0], email=email,
                        phone=phone, timezone="America/New_York")
        s.add(client)
        s.flush()
        return client.id or 0


def _book(client_email: str, slot: Slot) -> int:
    local = slot.start_at.astimezone(ZoneInfo("America/New_York"))
    draft = AppointmentDraft(client_id=_client(client_email).id, practitioner_id=user_id("dr.lee@demo.clinic"),
                             date=local.date().isoformat(), hour=local.strftime("%H:%M"),
                             duration_minutes=slot.length_minutes, telehealth=False, timezone="America/New_York")
    return appointments.book_appointments(principal_of(DESK), draft).ids[0]


def _wish_for(client_id: int, slot: Slot) -> waitlist.WishForm:
    """A wish exactly around `slot` (its weekday, time and day, in the client's zone), with Dr. Lee."""
    with unit_of_work() as s:
        zone = ZoneInfo(s.get(Client, client_id).timezone)  # type: ignore[union-attr]
    local = slot.start_at.astimezone(zone)
    end = local + timedelta(minutes=slot.length_minutes)
    return waitlist.WishForm(practitioner_id=str(user_id("dr.lee@demo.clinic")), mode="in_person",
                             weekdays=(local.weekday(),), earliest=local.strftime("%H:%M"),
                             latest=end.strftime("%H:%M"), first_date=local.date().isoformat(),
                             last_date=local.date().isoformat())


def _cancel(appointment_id: int) -> None:
    appointments.cancel_appointment(principal_of(DESK), appointment_id, "The client moved away.")


def _offers(client_id: int) -> list[WaitlistOffer]:
    with unit_of_work() as s:
        return list(s.exec(select(WaitlistOffer).join(WaitlistWish, col(WaitlistWish.id) == WaitlistOffer.wish_id)
                           .where(WaitlistWish.client_id == client_id).order_by(col(WaitlistOffer.id))))


def _link_to(address: str) -> str:
    """The newest offer link emailed to `address` (as the client finds it in their inbox)."""
    with unit_of_work() as s:
        mails = s.exec(select(Notification).where(Notification.to_address == address,
                                                  Notification.channel == Channel.EMAIL,
                                                  col(Notification.idempotency_key).startswith("waitlist-offer:"))
                       .order_by(col(Notification.id).desc())).all()
    found = re.search(r"http://localhost:3000(/w/[A-Za-z0-9_-]+)", mails[0].body_text)
    assert found, mails[0].body_text
    return found.group(1)


def _appointments_at(slot: Slot) -> list[Appointment]:
    with unit_of_work() as s:
        return list(s.exec(select(Appointment).where(Appointment.start_at == slot.start_at,
                                                     Appointment.practitioner_id == user_id("dr.lee@demo.clinic"),
                                                     Appointment.status == AppointmentStatus.BOOKED)))


def test_a_cancellation_goes_to_the_oldest_wishes_the_first_claim_books_and_the_other_hears_it_has_gone(
        web: TestClient) -> None:
    slot = _lee_slot()
    taken = _book("sam@demo.client", slot)
    alex, jo = _client("alex@demo.client").id or 0, _client("jo@demo.client").id or 0
    waitlist.add_wish(principal_of(DESK), _wish_for(alex, slot), alex)  # the older wish
    waitlist.add_wish(principal_of(DESK), _wish_for(jo, slot), jo)
    assert _offers(alex) == [] and _offers(jo) == []  # the time is taken: nothing to offer yet
    _cancel(taken)
    [alex_offer], [jo_offer] = _offers(alex), _offers(jo)
    assert alex_offer.id < jo_offer.id  # offered in order of the wish's age
    assert alex_offer.start_at == slot.start_at and not alex_offer.telehealth
    with unit_of_work() as s:
        sms = s.exec(select(Notification).where(Notification.channel == Channel.SMS,
                                                col(Notification.idempotency_key).startswith("waitlist-offer:"))).all()
        assert {n.to_address for n in sms} == {"+13125550101", "+12135550103"}  # SMS too: both take SMS

    alex_link, jo_link = _link_to("alex@demo.client"), _link_to("jo@demo.client")
    shown = web.get(alex_link)
    assert shown.status_code == 200 and "Book this time" in shown.text and "Dr. Dana Lee" in shown.text
    assert _appointments_at(slot) == []  # opening the link (a mail scanner) books nothing
    assert web.post(alex_link, headers={"origin": "https://evil.example"}).status_code == 403
    booked = web.post(alex_link, headers=SAME_ORIGIN)
    assert booked.status_code == 200 and "Booked" in booked.text
    [appointment] = _appointments_at(slot)
    assert appointment.client_id == alex
    lost = web.post(jo_link, headers=SAME_ORIGIN)
    assert lost.status_code == 410 and "Someone else booked this time" in lost.text
    assert web.post(alex_link, headers=SAME_ORIGIN).status_code == 410  # used
    with unit_of_work() as s:
        gone = s.exec(select(Notification).where(col(Notification.idempotency_key).startswith("waitlist-gone:"),
                                                 Notification.to_address == "jo@demo.client")).one()
        assert "booked by someone else" in gone.body_text
        wishes = {w.client_id: w for w in s.exec(select(WaitlistWish))}
        assert wishes[alex].removed_reason == "booked" and wishes[jo].removed_at is None  # Jo keeps waiting
        actions = [a.action for a in s.exec(select(AuditEvent).where(col(AuditEvent.action).startswith("waitlist.")))]
        assert actions.count("waitlist.offered") == 2 and "waitlist.booked" in actions
    assert len(_appointments_at(slot)) == 1


def test_ten_clients_claiming_one_slot_at_once_give_exactly_one_appointment(
        demo: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(waitlist, "OFFER_BATCH", 10)
    slot = _lee_slot()
    taken = _book("sam@demo.client", slot)
    ids = [_new_client(f"Racer {n} Client", f"racer{n}@clients.example") for n in range(10)]
    for client_id in ids:
        waitlist.add_wish(principal_of(DESK), _wish_for(client_id, slot), client_id)
    _cancel(taken)
    tokens = []
    for n in range(10):
        tokens.append(_link_to(f"racer{n}@clients.example").removeprefix("/w/"))
    results: list[str] = []
    barrier = threading.Barrier(10)

    def racer(token: str) -> None:
        barrier.wait()
        results.append(waitlist.claim(token, self_booking.book_waitlist_offer))

    threads = [threading.Thread(target=racer, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.startswith("Booked") for r in results) == 1, results
    assert len(_appointments_at(slot)) == 1


def test_an_unclaimed_offer_expires_and_the_slot_goes_to_the_next_wish(
        demo: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(waitlist, "OFFER_BATCH", 1)
    slot = _lee_slot()
    taken = _book("sam@demo.client", slot)
    alex, jo = _client("alex@demo.client").id or 0, _client("jo@demo.client").id or 0
    waitlist.add_wish(principal_of(DESK), _wish_for(alex, slot), alex)
    waitlist.add_wish(principal_of(DESK), _wish_for(jo, slot), jo)
    _cancel(taken)
    assert len(_offers(alex)) == 1 and _offers(jo) == []  # one at a time here: the oldest first
    later = now() + timedelta(hours=2, minutes=1)
    clock.set_clock(lambda: later)
    try:
        assert waitlist.expire_offers() == 1
        assert _offers(alex)[0].outcome == waitlist.EXPIRED
        assert len(_offers(jo)) == 1 and _offers(jo)[0].outcome == waitlist.OPEN
        with pytest.raises(waitlist.OfferUnusable, match="expired"):
            waitlist.claim(_link_to("alex@demo.client").removeprefix("/w/"), self_booking.book_waitlist_offer)
    finally:
        clock.set_clock(None)


def test_opted_out_channels_get_nothing(demo: None) -> None:
    slot = _lee_slot()
    taken = _book("sam@demo.client", slot)
    with unit_of_work() as s:
        jo = s.exec(select(Client).where(Client.email == "jo@demo.client")).one()
        jo.sms_opted_out, jo.email_reminders_opt_out = True, True
        jo_id = jo.id or 0
    waitlist.add_wish(principal_of(DESK), _wish_for(jo_id, slot), jo_id)
    _cancel(taken)
    assert len(_offers(jo_id)) == 1
    with unit_of_work() as s:
        sent = s.exec(select(Notification).where(col(Notification.idempotency_key).startswith("waitlist-offer:"))).all()
    assert [n.channel for n in sent if n.status != NotificationStatus.SKIPPED] == []


def test_bad_wishes_and_other_peoples_wishes_are_refused(demo: None) -> None:
    alex = _client("alex@demo.client").id or 0
    with pytest.raises(waitlist.WishInvalid) as bad:
        waitlist.add_wish(principal_of(DESK), waitlist.WishForm(
            practitioner_id="999999", mode="fax", weekdays=(), earliest="12:00", latest="09:00",
            first_date="2026-13-01"), alex)
    assert set(bad.value.errors) == {"practitioner", "mode", "weekdays", "times", "dates"}
    with unit_of_work() as s:
        assert s.exec(select(WaitlistWish)).first() is None
    # A client adds their own wish (for themself only) and removes it; nobody else's.
    with pytest.raises(NotAllowed):  # a client's wish is for themself only
        waitlist.add_wish(principal_of("alex@demo.client"), waitlist.WishForm(), client_id=999)
    wish = waitlist.add_wish(principal_of("alex@demo.client"), waitlist.WishForm())
    with unit_of_work() as s:
        assert s.get(WaitlistWish, wish).client_id == alex  # type: ignore[union-attr]
    with pytest.raises(NotAllowed):
        waitlist.remove_wish(principal_of("sam@demo.client"), wish)
    with pytest.raises(NotAllowed):
        waitlist.remove_wish(principal_of(DESK), 10**9)
    assert [w.id for w in waitlist.wishes(principal_of("alex@demo.client"))] == [wish]
    assert waitlist.wishes(principal_of("sam@demo.client")) == []
    waitlist.remove_wish(principal_of("alex@demo.client"), wish)
    assert waitlist.wishes(principal_of(DESK)) == []
    with pytest.raises(waitlist.OfferUnusable, match="not valid"):
        waitlist.claim("forged-token", self_booking.book_waitlist_offer)
