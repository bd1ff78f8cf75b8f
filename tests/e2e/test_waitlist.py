"""Issue 28.1 in the browser: the front desk puts Alex on the waitlist from his record, Jo joins it
herself in the portal; a cancellation is offered to both; Alex claims first and is booked, Jo is told
the time has gone and stays on the waitlist."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import col, delete, select

from rxapp.db import unit_of_work
from rxapp.models import Appointment, AppointmentStatus, AvailabilityBlock, Client, User, WaitlistWish
from rxapp.services.scheduling import appointments
from rxapp.services.scheduling.appointments import AppointmentDraft
from tests.e2e.flows import sign_in_as
from tests.e2e.stack import Stack
from tests.integration.zoom_helpers import principal_of

# What each journey books goes with it: the stack is shared with the other files (in any order).
pytestmark = pytest.mark.usefixtures("forget_bookings")

LONDON = ZoneInfo("Europe/London")  # Dr. Patel's zone: 17:00 there is the same morning for every client


def _day() -> date:
    """A Thursday 10 to 16 days ahead (inside the booking horizon, clear of other journeys)."""
    day = datetime.now(LONDON).date() + timedelta(days=10)
    return day + timedelta(days=(3 - day.weekday()) % 7)


@pytest.fixture
def patel_hour(stack: Stack) -> Iterator[tuple[int, date]]:
    """Dr. Patel publishes Thursdays 17:00-18:00 (London), one 50-minute slot; cleaned up afterwards."""
    with unit_of_work() as s:
        patel = s.exec(select(User).where(User.email == "dr.patel@demo.clinic")).one()
        block = AvailabilityBlock(practice_id=patel.practice_id, practitioner_id=patel.id or 0, weekday=3,
                                  start_minute=17 * 60, end_minute=18 * 60, mode="in_person")
        s.add(block)
        s.flush()
        block_id, patel_id = block.id, patel.id or 0
    yield patel_id, _day()
    with unit_of_work() as s:
        s.execute(delete(AvailabilityBlock).where(col(AvailabilityBlock.id) == block_id))
        for wish in s.exec(select(WaitlistWish).where(col(WaitlistWish.removed_at).is_(None))):
            wish.removed_at, wish.removed_reason = datetime.now(LONDON), "removed"
    with unit_of_work() as s:
        since = datetime.combine(_day(), datetime.min.time(), LONDON)
        for row in s.exec(select(Appointment).where(Appointment.practitioner_id == patel_id,
                                                    Appointment.status == AppointmentStatus.BOOKED,
                                                    Appointment.start_at >= since)):
            row.status = AppointmentStatus.CANCELLED


def _wish(page: Page, day: date) -> None:
    """Fill in the waitlist form for Dr. Patel, in person, on `day`, any time of the morning."""
    page.get_by_role("button", name="Join the waitlist").first.click()
    form = page.locator("#wish-form")
    form.get_by_label("With").select_option(label="Dr. Priya Patel")
    form.get_by_label("How").select_option("in_person")
    for name in ("Mon", "Tue", "Wed", "Fri"):  # controlled by the server: a click, then its answer
        form.get_by_label(name, exact=True).click()
        expect(form.get_by_label(name, exact=True)).not_to_be_checked()
    form.get_by_label("From").fill("08:00")
    form.get_by_label("To").fill("14:00")
    form.get_by_label("First day").fill(day.isoformat())
    form.get_by_label("Last day").fill(day.isoformat())
    form.get_by_role("button", name="Join the waitlist").click()
    expect(page.locator("#wish-form")).to_have_count(0, timeout=10_000)
    expect(page.locator(".waitlist-wish")).to_contain_text("Dr. Priya Patel")


def _link(stack: Stack, email: str) -> str:
    [mail] = stack.mail_to(email, "A time opened", timeout=30)
    found = re.search(r"https?://\S+/w/[A-Za-z0-9_-]+", mail.text)
    assert found, mail.text
    return found.group(0)


def test_a_cancellation_goes_to_two_waiting_clients_and_the_first_claim_books_it(
        browser: Browser, stack: Stack, patel_hour: tuple[int, date]) -> None:
    patel_id, day = patel_hour
    start = datetime.combine(day, datetime.min.time().replace(hour=17), LONDON)
    with unit_of_work() as s:
        sam = s.exec(select(Client).where(Client.email == "sam@demo.client")).one().id
    taken = appointments.book_appointments(principal_of("frontdesk@demo.clinic"), AppointmentDraft(
        client_id=sam, practitioner_id=patel_id, date=day.isoformat(), hour="17:00", duration_minutes=50,
        telehealth=False, timezone="Europe/London")).ids[0]

    desk = sign_in_as(browser.new_context().new_page(), stack, "frontdesk")
    desk.goto(f"{stack.url}/clients")
    desk.get_by_role("link", name="Alex Rivera").first.click()
    expect(desk.locator("#client-name")).to_have_text("Alex Rivera", timeout=15_000)
    _wish(desk, day)  # the front desk, on Alex's record: the older wish

    jo = sign_in_as(browser.new_context(viewport={"width": 390, "height": 844}).new_page(), stack, "jo")
    _wish(jo, day)  # Jo herself, on a phone
    assert jo.evaluate("document.scrollingElement.scrollWidth") <= 390

    appointments.cancel_appointment(principal_of("frontdesk@demo.clinic"), taken, "Sam moved away.")
    alex_link, jo_link = _link(stack, "alex@demo.client"), _link(stack, "jo@demo.client")

    alex = browser.new_context().new_page()  # straight from the email: no sign-in needed
    alex.goto(alex_link)
    expect(alex.get_by_role("heading", name="A time with Dr. Priya Patel")).to_be_visible()
    alex.get_by_role("button", name="Book this time").click()
    expect(alex.get_by_role("heading", name="Booked")).to_be_visible()

    jo.goto(jo_link)  # a moment too late: the link says so (and there is nothing to press)
    expect(jo.get_by_role("heading", name="That time has gone")).to_be_visible()
    expect(jo.get_by_role("button", name="Book this time")).to_have_count(0)
    assert stack.mail_to("jo@demo.client", "That time has gone", timeout=30)

    with unit_of_work() as s:
        booked = s.exec(select(Appointment).where(Appointment.practitioner_id == patel_id,
                                                  Appointment.start_at == start,
                                                  Appointment.status == AppointmentStatus.BOOKED)).all()
        alex_id = s.exec(select(Client).where(Client.email == "alex@demo.client")).one().id
    assert [a.client_id for a in booked] == [alex_id]
    jo.goto(f"{stack.url}/portal")
    expect(jo.locator(".waitlist-wish")).to_have_count(1, timeout=15_000)  # Jo keeps waiting
    desk.reload()
    expect(desk.locator("#waitlist")).to_contain_text("Not on the waitlist.", timeout=15_000)  # Alex's is done
