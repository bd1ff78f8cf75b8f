"""Issue 12 item 7 in the browser: an owner books for a practitioner from the Meetings page (the
calendar's form asks for whom), the telehealth appointment shows on both the calendar and the
Meetings page, and a link to one appointment (the Team page's) opens it on the calendar."""

from __future__ import annotations

import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, expect
from sqlmodel import select

from rxapp.db import unit_of_work
from rxapp.models import Appointment, Client, User
from tests.e2e.flows import sign_in_as
from tests.e2e.stack import Stack

pytestmark = pytest.mark.usefixtures("forget_bookings")

DAY = "2027-09-14"  # a Tuesday, clear of the other journeys' bookings


def test_an_owner_books_for_a_practitioner_from_the_meetings_page(browser: Browser, stack: Stack) -> None:
    page = sign_in_as(browser.new_context().new_page(), stack, "owner")
    page.goto(f"{stack.url}/meetings")
    page.get_by_role("button", name="New appointment").click()
    expect(page).to_have_url(re.compile(r"/calendar\?new=1"))
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="New appointment")).to_be_visible(timeout=20_000)
    with unit_of_work() as s:
        patel = s.exec(select(User).where(User.email == "dr.patel@demo.clinic")).one().id
    dialog.locator("#appt-practitioner").select_option(str(patel))
    dialog.locator("#appt-date").fill(DAY)
    dialog.locator("#appt-start").fill("08:15")
    dialog.get_by_label("Client", exact=True).fill("kim")
    dialog.get_by_role("button", name=re.compile(r"^Jo Kim")).click()
    dialog.locator("#appt-mode-telehealth").click()
    dialog.locator("#appt-save").click()
    expect(dialog).to_have_count(0, timeout=15_000)
    with unit_of_work() as s:
        jo = s.exec(select(Client).where(Client.email == "jo@demo.client")).one().id
        booked = s.exec(select(Appointment).where(Appointment.client_id == jo,
                                                  Appointment.practitioner_id == patel)).all()
    [appointment] = [a for a in booked if a.start_at.date().isoformat() == DAY]
    assert appointment.telehealth and appointment.created_by_user_id is not None
    # The Meetings page lists the same visit (a telehealth appointment is a meeting there).
    page.goto(f"{stack.url}/meetings?period=all&q=Kim")
    expect(page.locator("tbody tr").filter(has_text="Jo Kim").first).to_be_visible(timeout=15_000)
    # A link to that one appointment opens it on its day's calendar.
    page.goto(f"{stack.url}/calendar?appointment={appointment.id}")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Jo Kim", timeout=20_000)
    expect(dialog.locator("#appt-date")).to_have_value(DAY)


def test_the_front_desk_books_from_a_client_page_and_is_asked_before_recording_a_past_visit(
        browser: Browser, stack: Stack) -> None:
    """Issue 23.9: the client page's Book appointment opens the form with that client chosen; a time
    that has passed is asked about ("record a past visit?") before anything is saved."""
    with unit_of_work() as s:
        sam = s.exec(select(Client).where(Client.email == "sam@demo.client")).one().id
    page = sign_in_as(browser.new_context().new_page(), stack, "frontdesk")
    page.goto(f"{stack.url}/clients/{sam}")
    page.get_by_role("button", name="Book appointment").click()
    expect(page).to_have_url(re.compile(rf"/calendar\?new=1&client={sam}"))
    dialog = page.get_by_role("dialog")
    expect(dialog.locator("#appt-client-chosen")).to_have_text("Sam Taylor", timeout=20_000)
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    dialog.locator("#appt-date").fill(yesterday)
    dialog.locator("#appt-start").fill("10:00")
    dialog.locator("#appt-save").click()
    expect(dialog.locator("#appt-past")).to_have_text("This time has passed: record a past visit?")
    with unit_of_work() as s:
        assert [a for a in s.exec(select(Appointment).where(Appointment.client_id == sam)).all()
                if a.start_at.astimezone(ZoneInfo("America/New_York")).date().isoformat() == yesterday] == []
    dialog.get_by_role("button", name="Record past visit").click()
    expect(dialog).to_have_count(0, timeout=15_000)
    with unit_of_work() as s:
        recorded = [a for a in s.exec(select(Appointment).where(Appointment.client_id == sam)).all()
                    if a.start_at.astimezone(ZoneInfo("America/New_York")).date().isoformat() == yesterday]
    assert len(recorded) == 1 and not recorded[0].telehealth
    # Another practice's client id (or an unknown one) chooses nobody.
    page.goto(f"{stack.url}/calendar?new=1&client=999999")
    expect(page.get_by_text("That client cannot be booked from here")).to_be_visible(timeout=20_000)
    expect(page.get_by_role("dialog").locator("#appt-client-chosen")).to_have_count(0)
