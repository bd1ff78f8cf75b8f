"""Issue 27 in the browser: Dr. Lee's Today panel follows where each client is as Zoom reports it;
Alex joins through the sandbox's meeting page and leaves after 49 minutes, and the ended session
shows his minutes and offers Completed; Sam never joins and is offered as No-show; "Running 10 min
late" appears in a waiting client's room without a reload."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.flows import advance_zoom_clock, open_waiting_room, sign_in_as
from tests.e2e.stack import Stack
from tests.e2e.test_waiting_room import _meeting_soon

# What each journey books goes with it: the stack is shared with the other files (in any order).
pytestmark = pytest.mark.usefixtures("forget_bookings")

LEE_ZONE = ZoneInfo("America/New_York")


def _row(page: Page, topic: str) -> Locator:
    return page.locator(".meeting-row").filter(has_text=topic)


def _state(page: Page, topic: str) -> Locator:
    return _row(page, topic).locator(".client-state")


def _start(page: Page, topic: str) -> Page:
    with page.context.expect_page() as host_tab:
        _row(page, topic).get_by_role("link", name="Start meeting").click()
    expect(host_tab.value.get_by_text("Meeting in progress")).to_be_visible()
    return host_tab.value


def _end(page: Page, topic: str) -> None:
    _row(page, topic).get_by_role("button", name="End meeting").click()
    page.get_by_role("alertdialog").get_by_role("button", name="End meeting").click()
    expect(_row(page, topic).locator(".meeting-status")).to_have_text("Ended", timeout=15_000)


def test_today_follows_the_clients_and_offers_each_outcome(browser: Browser, stack: Stack, zoom_ready) -> None:
    now = datetime.now(LEE_ZONE)
    if (now + timedelta(minutes=45)).date() != now.date():
        pytest.skip("the sessions would cross midnight in Dr. Lee's timezone: 'today' is a different day")
    _meeting_soon("Attended today", "alex@demo.client", minutes_ahead=5)
    _meeting_soon("Missed today", "sam@demo.client", minutes_ahead=7)
    _meeting_soon("Late today", "alex@demo.client", minutes_ahead=40)

    lee = sign_in_as(browser.new_context().new_page(), stack, "lee")
    lee.get_by_role("link", name="Today").click()
    expect(lee).to_have_url(re.compile(r"/today/?$"))
    expect(_state(lee, "Attended today")).to_have_text("Not arrived", timeout=15_000)
    expect(lee.locator("#launch-prompt")).to_be_visible()

    # Alex opens his waiting room: the panel says so without a reload.
    alex = open_waiting_room(sign_in_as(browser.new_context().new_page(), stack, "alex"), stack, "Attended today")
    expect(_state(lee, "Attended today")).to_have_text("In the waiting room", timeout=5_000)

    host = _start(lee, "Attended today")
    join = alex.get_by_role("link", name="Join session")
    expect(join).to_be_visible(timeout=5_000)
    join.click()
    expect(alex.get_by_text("You have joined the meeting")).to_be_visible()
    expect(_state(lee, "Attended today")).to_have_text("In the meeting", timeout=10_000)

    advance_zoom_clock(stack, 49 * 60)  # Zoom's clock: the session lasts 49 minutes
    try:
        alex.get_by_role("button", name="Leave meeting").click()
        expect(alex.get_by_text("You left the meeting")).to_be_visible()
        expect(_state(lee, "Attended today")).to_have_text("Left the meeting", timeout=10_000)
        host.close()
        _end(lee, "Attended today")
    finally:
        advance_zoom_clock(stack, -49 * 60)
    row = _row(lee, "Attended today")
    expect(row.locator(".meeting-attended")).to_contain_text("(49 min)", timeout=10_000)
    expect(row.locator(".outcome-offer button").first).to_have_text("Record completed")  # suggested first
    row.get_by_role("button", name="Record completed").click()
    expect(row.locator(".meeting-outcome")).to_have_text("Completed", timeout=10_000)
    expect(row.locator(".outcome-offer")).to_have_count(0)

    # Sam never comes: once ended, No-show is what is offered.
    _start(lee, "Missed today").close()
    _end(lee, "Missed today")
    missed = _row(lee, "Missed today")
    expect(missed.locator(".outcome-offer button").first).to_have_text("Record no-show", timeout=10_000)
    expect(missed.locator(".meeting-attended")).to_have_count(0)
    missed.get_by_role("button", name="Record no-show").click()
    expect(missed.locator(".meeting-status")).to_have_text("No show", timeout=10_000)

    # Running late: Alex waits for his next session and sees it at once.
    room = open_waiting_room(alex, stack, "Late today")
    _row(lee, "Late today").get_by_role("button", name="Running late").click()
    dialog = lee.get_by_role("dialog")
    dialog.get_by_role("radio", name="10 min").click()
    dialog.get_by_label("Message to the client (optional)").fill("The session before ran over.")
    dialog.get_by_role("button", name="Tell the client").click()
    expect(lee.get_by_text("shown in their waiting room")).to_be_visible(timeout=10_000)
    expect(room.locator("#running-late")).to_contain_text("Dr. Dana Lee is running 10 minutes late", timeout=5_000)
    expect(room.locator("#running-late")).to_contain_text("The session before ran over.")

    # A phone: the panel, its rows and actions fit 390 px.
    lee.set_viewport_size({"width": 390, "height": 844})
    lee.reload()
    expect(_row(lee, "Late today")).to_be_visible(timeout=15_000)
    assert lee.evaluate("document.scrollingElement.scrollWidth") <= 390
