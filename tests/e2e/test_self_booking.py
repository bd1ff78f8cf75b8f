"""Issue 13 item 6 in the browser: Dr. Lee publishes Tuesday telehealth 9-12 and Wednesday in person
13-17; Alex (on a phone) books a telehealth slot in the portal, Lee sees it appear on her calendar
without a reload, Alex moves it, and cancelling inside the practice's cancellation window is refused
with the practice's message. "Now" is controlled by choosing dates at least three days ahead.

Everything added is removed afterwards: the bookings (forget_bookings), Lee's published hours, the
practice's self-booking settings, the mail to Alex, and Lee's Zoom connection unless it was there
before (the session-wide zoom_ready fixture)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import delete
from sqlmodel import col, select

from rxapp.db import unit_of_work
from rxapp.dev.demo_data import PRACTICE_NAME  # the main stack holds other practices too
from rxapp.models import (
    Appointment,
    AvailabilityBlock,
    AvailabilityOverride,
    BookingRule,
    Practice,
    User,
    ZoomConnection,
)
from rxapp.services.scheduling.availability import HOLDING_STATUSES
from tests.e2e.conftest import allow_zoom_and_connect_lee, in_thread
from tests.e2e.flows import sign_in_as
from tests.e2e.stack import Stack
from tests.e2e.test_accessibility import assert_accessible

pytestmark = pytest.mark.usefixtures("forget_bookings")

NY, CHICAGO = ZoneInfo("America/New_York"), ZoneInfo("America/Chicago")
MESSAGE = "Please call the practice on 555-0100."


@dataclass
class Journey:
    lee_id: int
    tuesday: date  # New York; at least three days ahead, so outside notice and the 24-hour window


@pytest.fixture
def journey(stack: Stack) -> Iterator[Journey]:
    with unit_of_work() as s:
        lee_id = s.exec(select(User).where(User.email == "dr.lee@demo.clinic")).one().id or 0
        practice = s.exec(select(Practice).where(Practice.name == PRACTICE_NAME)).one()
        settings = {k: getattr(practice, k) for k in ("allow_zoom", "self_booking_enabled",
                                                      "self_booking_any_practitioner", "cancellation_window_hours",
                                                      "cancellation_message")}
        was_connected = s.exec(select(ZoomConnection).where(ZoomConnection.practitioner_id == lee_id)).first() \
            is not None
    if not was_connected:
        allow_zoom_and_connect_lee(stack)
    mail_before = set(stack.mail_dir.glob("*.eml")) if stack.mail_dir.exists() else set()
    yield Journey(lee_id=lee_id, tuesday=_free_tuesday(lee_id))
    with unit_of_work() as s:
        for table in (AvailabilityBlock, AvailabilityOverride):
            s.execute(delete(table).where(table.practitioner_id == lee_id))
        s.execute(delete(BookingRule).where(BookingRule.practitioner_id == lee_id))
        practice = s.exec(select(Practice).where(Practice.name == PRACTICE_NAME)).one()
        for name, value in settings.items():
            setattr(practice, name, value)
    if not was_connected:
        from rxapp.services.telehealth.zoom import connections
        from tests.integration.zoom_helpers import principal_of

        lee = principal_of("dr.lee@demo.clinic")
        in_thread(lambda: asyncio.run(connections.disconnect(lee, lee.user_id)))
    for path in set(stack.mail_dir.glob("*.eml")) - mail_before:
        path.unlink(missing_ok=True)


def _free_tuesday(lee_id: int) -> date:
    """The first Tuesday (New York) at least three days ahead on which Dr. Lee has no appointment that
    holds its time (booked, in progress or completed): another journey's (the Meetings journey runs a
    meeting three days ahead at 09:00, a Tuesday on Saturday nights) must not take the slots this
    journey expects, whatever day of the week the suite runs on."""
    day = datetime.now(NY).date() + timedelta(days=3)
    tuesday = day + timedelta(days=(1 - day.weekday()) % 7)
    while True:
        start = datetime(tuesday.year, tuesday.month, tuesday.day, tzinfo=NY)
        with unit_of_work() as s:
            taken = s.exec(select(Appointment.id).where(  # e.g. the Meetings journey's ended meeting
                Appointment.practitioner_id == lee_id, col(Appointment.status).in_(HOLDING_STATUSES),
                Appointment.start_at >= start, Appointment.start_at < start + timedelta(days=2))).first()
        if taken is None:
            return tuesday
        tuesday += timedelta(days=7)


def _publish(lee: Page, stack: Stack) -> None:
    """Through the availability editor: Tuesday telehealth 9-12, Wednesday in person 13-17."""
    lee.goto(f"{stack.url}/availability")
    for weekday, name, start, end, mode in ((1, "Tuesday", "09:00", "12:00", "telehealth"),
                                            (2, "Wednesday", "13:00", "17:00", "in_person")):
        lee.get_by_role("button", name=re.compile(rf"^Add (a )?block on {name}$")).click()
        block = lee.locator(f"#weekday-{weekday} .availability-block")
        expect(block).to_have_count(1)
        block.get_by_label("From").fill(start)
        block.get_by_label("To").fill(end)
        block.get_by_label("Mode").select_option(mode)
    lee.get_by_role("button", name="Save availability").click()
    expect(lee.locator("#availability-saved")).to_contain_text("Saved.")


def _week_of(alex: Page, day: date) -> None:
    """On the booking page (which opens on the first week with an open slot): next week until the
    week holding `day` shows."""
    monday = day - timedelta(days=day.weekday())
    wanted = f"{monday:%a %d %b} to"
    expect(alex.locator("#week-label")).to_contain_text(" to ")
    for _ in range(8):
        label = alex.locator("#week-label").inner_text()
        if label.startswith(wanted):
            return
        alex.get_by_role("button", name="Next week").click()
        expect(alex.locator("#week-label")).not_to_have_text(label)
    raise AssertionError(f"the booking page never showed the week of {day}")


def _slot_name(day: date, chicago_time: str, mode: str) -> str:
    return f"{day.strftime('%A %d %B')} {chicago_time} {mode}"


def _calendar_button(day: date, times: str) -> re.Pattern[str]:
    return re.compile(rf"^{day.strftime('%A')} {day.day} {day.strftime('%b')}\w* {times}, Dr\. Dana Lee, Alex Rivera")


def _alex_booked() -> Appointment:
    with unit_of_work() as s:
        [row] = s.exec(select(Appointment).join(User, User.id == Appointment.created_by_user_id)  # type: ignore[arg-type]
                       .where(User.email == "alex@demo.client", Appointment.status == "booked")).all()
        return row


def test_alex_books_moves_and_cannot_cancel_inside_the_window_while_lee_watches(
        browser: Browser, stack: Stack, journey: Journey) -> None:
    tuesday = journey.tuesday
    lee = sign_in_as(browser.new_context().new_page(), stack, "lee")
    _publish(lee, stack)
    monday = tuesday - timedelta(days=1)
    lee.goto(f"{stack.url}/calendar?date={monday.isoformat()}&view=week&p={journey.lee_id}")
    expect(lee.locator(".calendar-col").first).to_be_visible(timeout=20_000)
    lee.evaluate("() => { window.__calendarNotReloaded = true; }")

    alex = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in_as(alex, stack, "alex")
    alex.get_by_role("link", name="Book a session").click()
    expect(alex).to_have_url(re.compile(r"/portal/book$"))
    expect(alex.locator("#slot-legend")).to_contain_text("Telehealth (video)")
    expect(alex.locator("#slot-legend")).to_contain_text("In person")
    expect(alex.get_by_text("Times are shown in America/Chicago.")).to_be_visible()
    _week_of(alex, tuesday)
    # 9:00-12:00 in New York is 8:00-11:00 in Chicago: Alex sees her own times, each labelled by mode.
    slot = alex.get_by_role("button", name=_slot_name(tuesday, "8:00 AM", "Telehealth"))
    expect(slot).to_contain_text("Telehealth")
    expect(alex.get_by_role("button", name=_slot_name(tuesday + timedelta(days=1), "12:00 PM", "In person")))\
        .to_be_visible()
    assert alex.evaluate("document.scrollingElement.scrollWidth") <= 390  # fits the phone
    slot.click()
    expect(alex.locator("#chosen-slot")).to_contain_text("08:00")
    assert_accessible(alex, "/portal/book as Alex, a slot chosen")
    alex.get_by_role("button", name="Confirm booking").click()
    expect(alex).to_have_url(re.compile(r"/portal/?$"), timeout=20_000)

    # Lee's calendar shows it without a reload.
    expect(lee.get_by_role("button", name=_calendar_button(tuesday, "09:00-09:50"))).to_be_visible(timeout=15_000)
    assert lee.evaluate("() => window.__calendarNotReloaded") is True
    booked = _alex_booked()
    assert booked.telehealth and booked.start_at.astimezone(NY).strftime("%H:%M") == "09:00"
    assert stack.mail_to("alex@demo.client", "")  # the confirmation
    expect(alex.locator("#portal-upcoming").get_by_role("button", name=re.compile("^Reschedule")).first)\
        .to_be_visible()
    # (the app's green success toast is below AA contrast: checked once it has gone)
    expect(alex.locator("[data-sonner-toast]")).to_have_count(0, timeout=15_000)
    assert_accessible(alex, "/portal as Alex, with Reschedule and Cancel")
    assert alex.evaluate("document.scrollingElement.scrollWidth") <= 390

    # Alex moves it to 10:00 New York (9:00 AM Chicago). (Other journeys may have left Alex other
    # appointments that day: the card is the one at this journey's time.)
    card = alex.locator("#portal-upcoming .client-visit").filter(has_text="Telehealth").filter(
        has_text=f"{tuesday.strftime('%d %b')} {tuesday.year}, 08:00")
    card.get_by_role("button", name=re.compile("^Reschedule")).click()
    expect(alex).to_have_url(re.compile(rf"/portal/book\?move={booked.id}$"))
    expect(alex.locator("#moving")).to_contain_text("Moving your appointment")
    _week_of(alex, tuesday)
    alex.get_by_role("button", name=_slot_name(tuesday, "9:00 AM", "Telehealth")).click()
    alex.get_by_role("button", name="Move my appointment").click()
    expect(alex).to_have_url(re.compile(r"/portal/?$"), timeout=20_000)
    expect(lee.get_by_role("button", name=_calendar_button(tuesday, "10:00-10:50"))).to_be_visible(timeout=15_000)
    expect(lee.get_by_role("button", name=_calendar_button(tuesday, "09:00-09:50"))).to_have_count(0)
    assert _alex_booked().id == booked.id

    # The manager widens the cancellation window past the appointment, with the practice's message.
    manager = sign_in_as(browser.new_context().new_page(), stack, "manager")
    manager.goto(f"{stack.url}/settings")
    window = manager.get_by_label("Cancellation window (hours before the start)")
    window.fill(str(24 * 12))  # past the appointment, 3 to 9 days ahead
    manager.get_by_label("Message shown inside the window").fill(MESSAGE)
    manager.get_by_role("button", name="Save self-booking").click()
    expect(manager.locator("#self-booking-saved")).to_contain_text("Saved.")

    alex.reload()
    card = alex.locator("#portal-upcoming .client-visit").filter(has_text="Telehealth").filter(
        has_text=f"{tuesday.strftime('%d %b')} {tuesday.year}, 09:00")
    card.get_by_role("button", name="Cancel appointment").click()
    alex.get_by_role("alertdialog").get_by_role("button", name="Cancel appointment").click()
    expect(alex.locator("#portal-change-problem")).to_contain_text(MESSAGE)
    expect(alex.locator("#portal-change-problem")).to_contain_text("cannot be cancelled online")
    assert _alex_booked().status == "booked"
    expect(lee.get_by_role("button", name=_calendar_button(tuesday, "10:00-10:50"))).to_be_visible()

    # Outside the window the client cancels, and may say why (the practice reads it).
    booked_id = _alex_booked().id
    with unit_of_work() as s:
        s.exec(select(Practice).where(Practice.name == PRACTICE_NAME)).one().cancellation_window_hours = 0
    alex.reload()
    card.get_by_role("button", name="Cancel appointment").click()
    dialog = alex.get_by_role("alertdialog")
    dialog.get_by_label("Reason (optional)").fill("Feeling unwell")
    dialog.get_by_role("button", name="Cancel appointment").click()
    expect(alex.get_by_text("Your appointment is cancelled.")).to_be_visible()
    with unit_of_work() as s:
        cancelled = s.get(Appointment, booked_id)
        assert cancelled is not None and cancelled.status == "cancelled"
        assert cancelled.cancel_reason.endswith("Reason given: Feeling unwell")
