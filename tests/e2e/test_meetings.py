"""Issue 5 journey in Chromium against the sandbox: Dr. Lee schedules, filters, searches, starts,
ends, cancels with a reason and deletes; Alex's emails arrive with the right time, link and reason."""

from __future__ import annotations

import re
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from rxapp.services.notify.mailbox import CaughtMail
from tests.e2e.conftest import sign_in
from tests.e2e.stack import Stack

# What each journey books goes with it: the stack is shared with the other files (in any order).
pytestmark = pytest.mark.usefixtures("forget_bookings")


def _new_meeting(page: Page, topic: str, day: date, hour: str, description: str = "") -> None:
    page.get_by_role("button", name="New meeting").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Topic").fill(topic)
    if description:
        dialog.get_by_label("Description (optional)").fill(description)
    dialog.get_by_label("Date").fill(day.isoformat())
    dialog.get_by_label("Hour").fill(hour)
    expect(dialog.get_by_label("Timezone")).to_have_value("America/New_York")
    dialog.get_by_label("Patient").select_option(label="Alex Rivera")
    dialog.get_by_role("button", name="Save meeting").click()
    expect(dialog).to_have_count(0)


def _row(page: Page, topic: str):
    return page.locator(".meeting-row").filter(has_text=topic)


def test_lee_runs_a_meeting_from_the_list_and_alex_is_told(browser: Browser, stack: Stack, zoom_ready) -> None:
    page = browser.new_context().new_page()
    sign_in(page, stack, "dr.lee@demo.clinic", landing="/calendar")
    page.get_by_role("link", name="Meetings").click()
    expect(page.get_by_text("No meetings yet")).to_be_visible()
    day = (datetime.now(ZoneInfo("America/New_York")) + timedelta(days=3)).date()

    # Inline validation: nothing saved while the topic is missing.
    page.get_by_role("button", name="New meeting").click()
    page.get_by_role("dialog").get_by_label("Patient").select_option(label="Alex Rivera")
    page.get_by_role("dialog").get_by_role("button", name="Save meeting").click()
    expect(page.locator("#error-topic")).to_have_text("Enter a topic.")
    page.get_by_role("dialog").get_by_role("button", name="Close").click()

    _new_meeting(page, "Anxiety follow-up", day, "09:00", description="Breathing exercises")
    row = _row(page, "Anxiety follow-up")
    expect(row.locator(".meeting-status")).to_have_text("Scheduled", timeout=20_000)
    expect(row).to_contain_text("09:00") and expect(row).to_contain_text("Alex Rivera")
    _new_meeting(page, "Sleep check-in", day, "11:00")
    expect(_row(page, "Sleep check-in").locator(".meeting-status")).to_have_text("Scheduled", timeout=20_000)

    # Search, filter, and the filters live in the URL.
    page.get_by_label("Search").fill("breathing")
    expect(page.locator(".meeting-row")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"q=breathing"))
    page.reload()
    expect(page.locator(".meeting-row")).to_have_count(1)
    page.get_by_label("Search").fill("")
    expect(page.locator(".meeting-row")).to_have_count(2)
    page.get_by_label("Status").select_option(label="Cancelled")
    expect(page.get_by_text("No meetings match")).to_be_visible()
    page.get_by_label("Status").select_option(label="All statuses")
    page.get_by_label("Patient").select_option(label="Alex Rivera")
    expect(page.locator(".meeting-row")).to_have_count(2)

    # Start: Zoom's host page opens in a new tab; the list shows In progress; then end it.
    with page.context.expect_page() as host_tab:
        _row(page, "Anxiety follow-up").get_by_role("link", name="Start meeting").click()
    expect(host_tab.value.get_by_text("Meeting in progress")).to_be_visible()
    expect(_row(page, "Anxiety follow-up").locator(".meeting-status")).to_have_text("In progress", timeout=15_000)
    _row(page, "Anxiety follow-up").get_by_role("button", name="End meeting").click()
    confirm = page.get_by_role("alertdialog")  # ending cannot be undone: it asks first
    expect(confirm.locator("#confirm-subject")).to_contain_text("Anxiety follow-up with Alex Rivera")
    confirm.get_by_role("button", name="End meeting").click()
    expect(page.get_by_text("Meeting ended.")).to_be_visible()
    expect(_row(page, "Anxiety follow-up").locator(".meeting-status")).to_have_text("Ended")

    # Cancel the other with a reason, then delete it.
    _row(page, "Sleep check-in").get_by_role("button", name="Cancel meeting").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Cancel meeting").click()
    expect(dialog.get_by_role("alert")).to_have_text("Enter the reason; it is sent to the patient.")
    dialog.get_by_label("Reason (sent to the patient)").fill("Dr. Lee is at a conference")
    dialog.get_by_role("button", name="Cancel meeting").click()
    expect(_row(page, "Sleep check-in").locator(".meeting-status")).to_have_text("Cancelled")
    _row(page, "Sleep check-in").get_by_role("button", name="Delete meeting").click()
    confirm = page.get_by_role("alertdialog")
    expect(confirm.locator("#confirm-subject")).to_contain_text("Sleep check-in with Alex Rivera")
    confirm.get_by_role("button", name="Keep meeting").click()  # changed their mind: nothing happens
    expect(confirm).to_have_count(0)
    expect(_row(page, "Sleep check-in")).to_have_count(1)
    _row(page, "Sleep check-in").get_by_role("button", name="Delete meeting").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Delete meeting").click()
    expect(page.get_by_text("Meeting deleted.")).to_be_visible()
    expect(_row(page, "Sleep check-in")).to_have_count(0)

    # Alex's mail: the time in Alex's own timezone (Chicago is an hour behind New York), the portal link, the reason.
    # (Other journeys on the same stack book Alex sessions too: only this journey's two count.)
    scheduled = [m for m in stack.mail_to("alex@demo.client", "Telehealth session on")
                 if "Anxiety follow-up" in m.text or "Sleep check-in" in m.text]
    assert len(scheduled) == 2
    first = next(m for m in scheduled if "Anxiety follow-up" in m.text)
    assert "08:00" in first.text and "America/Chicago" in first.text and f"{stack.url}/portal" in first.text
    assert first.attachments == ("session.ics",)
    cancelled = _mail_to_alex_about(stack, "cancelled", "at a conference")
    assert "Dr. Lee is at a conference" in cancelled.text and "Sleep check-in" not in cancelled.subject
    ended = _mail_to_alex_about(stack, "Telehealth session ended", "Anxiety follow-up")
    assert "Dr. Dana Lee ended" in ended.text


def _mail_to_alex_about(stack: Stack, subject: str, text: str, timeout: float = 15.0) -> CaughtMail:
    """The one mail to Alex with `subject` whose text has `text` (other journeys in this stack mail Alex
    too), waiting for it to arrive."""
    deadline = time.time() + timeout
    while True:
        found = [m for m in stack.mail_to("alex@demo.client", subject, timeout=0) if text in m.text]
        if found or time.time() > deadline:
            [mail] = found
            return mail
        time.sleep(0.2)
