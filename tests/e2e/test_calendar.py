"""Issue 12 items 2 and 3: the front desk runs the week from the Calendar page (a time grid, an agenda
on a 390 px phone, the New appointment dialog from an empty slot)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from rxapp.db import unit_of_work
from rxapp.models import Appointment, AppointmentStatus, Client, User
from tests.e2e.flows import sign_in_as
from tests.e2e.stack import Stack
from tests.e2e.test_accessibility import assert_accessible

# A week of its own, far from the days other journeys use: Monday 8 March 2027 (New York, UTC-5).
WEEK = "2027-03-08"


def _ids(email: str) -> int:
    with unit_of_work() as s:
        return s.exec(select(User).where(User.email == email)).one().id or 0


@pytest.fixture(scope="module")
def seeded_week(stack: Stack) -> Iterator[dict[str, int]]:
    """Dr. Lee's week: Alex in person on Tuesday 10:00, Sam by telehealth on Wednesday 14:00, a cancelled
    visit on Thursday 09:00 (New York time), written straight to the database."""
    lee = _ids("dr.lee@demo.clinic")
    with unit_of_work() as s:
        clients = {c.full_name: c for c in s.exec(select(Client)).all()}
        practice_id = clients["Alex Rivera"].practice_id
        rows = [Appointment(practice_id=practice_id, practitioner_id=lee, client_id=clients[name].id or 0,
                            start_at=start, duration_minutes=50, telehealth=telehealth, status=status)
                for name, start, telehealth, status in (
                    ("Alex Rivera", datetime(2027, 3, 9, 15, 0, tzinfo=UTC), False, AppointmentStatus.BOOKED),
                    ("Sam Taylor", datetime(2027, 3, 10, 19, 0, tzinfo=UTC), True, AppointmentStatus.BOOKED),
                    ("Jo Kim", datetime(2027, 3, 11, 14, 0, tzinfo=UTC), False, AppointmentStatus.CANCELLED))]
        s.add_all(rows)
        s.flush()
        ids = [r.id or 0 for r in rows]
    yield {"lee": lee, "alex": ids[0], "sam": ids[1], "jo": ids[2]}
    with unit_of_work() as s:
        for appointment_id in ids:
            row = s.get(Appointment, appointment_id)
            if row is not None:
                s.delete(row)


def _open_week(page: Page, stack: Stack, lee: int) -> None:
    page.goto(f"{stack.url}/calendar?date={WEEK}&view=week&p={lee}")
    expect(page.locator("#calendar-title")).to_have_text("8 Mar - 14 Mar 2027", timeout=20_000)


def test_the_front_desk_sees_the_week_and_opens_new_appointment_from_an_empty_slot(
        page: Page, stack: Stack, seeded_week: dict[str, int]) -> None:
    sign_in_as(page, stack, "frontdesk")
    _open_week(page, stack, seeded_week["lee"])
    expect(page.locator("#calendar-timezone")).to_have_text("America/New_York")
    alex = page.get_by_role("button", name=re.compile(r"^Tuesday 9 March 10:00-10:50, Dr\. Dana Lee, Alex Rivera, "
                                                      r"In person$"))
    expect(alex).to_be_visible()
    sam = page.locator(f'[data-appointment-id="{seeded_week["sam"]}"]')
    expect(sam).to_contain_text("Telehealth")
    # Written without its Zoom meeting row: pending (and, while Dr. Lee has no Zoom, why).
    expect(sam).to_contain_text("Zoom meeting pending")
    # Cancelled visits are hidden until asked for, then struck through.
    cancelled = page.locator(f'[data-appointment-id="{seeded_week["jo"]}"]')
    expect(cancelled).to_have_count(0)
    page.get_by_text("Show cancelled").click()
    expect(cancelled).to_have_class(re.compile("calendar-cancelled"))
    expect(page).to_have_url(re.compile(r"cancelled=1"))
    # The grid opens at working hours; a slot is a button a keyboard reaches.
    assert page.locator("#calendar-scroll").evaluate("e => e.scrollTop") >= 400
    slot = page.get_by_role("button", name="Wednesday 10 March 11:00, Dr. Dana Lee, free")
    slot.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="New appointment")).to_be_visible()
    expect(dialog.locator("#appt-date")).to_have_value("2027-03-10")
    expect(dialog.locator("#appt-start")).to_have_value("11:00")
    expect(dialog.locator("#appt-practitioner")).to_have_value(str(seeded_week["lee"]))
    expect(dialog.locator("#appt-length")).to_have_value("50")
    assert_accessible(page, "/calendar with the New appointment dialog open")
    dialog.get_by_role("button", name="Close").click()
    # Next and Previous move by a week; the URL can be bookmarked.
    page.get_by_role("button", name="Next week").click()
    expect(page.locator("#calendar-title")).to_have_text("15 Mar - 21 Mar 2027")
    expect(page).to_have_url(re.compile(r"date=2027-03-15"))
    expect(alex).to_have_count(0)
    page.get_by_role("button", name="Previous week").click()
    expect(alex).to_be_visible()
    # Opening an appointment shows it in the edit dialog.
    alex.click()
    expect(page.get_by_role("dialog").locator("#appt-client-chosen")).to_have_text("Alex Rivera")
    expect(page.get_by_role("dialog").locator("#appt-start")).to_have_value("10:00")


def test_a_390_px_phone_shows_the_agenda_day_by_day(browser: Browser, stack: Stack,
                                                     seeded_week: dict[str, int]) -> None:
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    sign_in_as(phone, stack, "frontdesk")
    _open_week(phone, stack, seeded_week["lee"])
    agenda = phone.locator("#calendar-agenda")
    expect(agenda).to_be_visible()
    expect(phone.locator("#calendar-scroll")).to_be_hidden()
    expect(agenda.get_by_role("heading", name="Tuesday 9 March")).to_be_visible()
    expect(agenda.get_by_role("button").filter(has_text="Alex Rivera")).to_contain_text("10:00-10:50")
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390
    phone.get_by_role("button", name="New appointment").click()
    dialog = phone.get_by_role("dialog")
    expect(dialog.locator("#appt-client")).to_be_visible()
    box = dialog.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390
