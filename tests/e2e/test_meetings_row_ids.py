"""Row actions act on the meeting the user clicked, even when a live push reorders the list
between the click and the confirm (issue 10 item 2); buttons a role cannot use are not shown."""

from __future__ import annotations

import asyncio
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from rxapp.db import unit_of_work
from rxapp.models import Appointment, Client
from rxapp.services.telehealth.meetings.schedule import MeetingDraft, schedule_meeting
from rxapp.services.telehealth.meetings.sync import sync_meeting
from tests.e2e.conftest import in_thread, sign_in
from tests.e2e.stack import Stack
from tests.integration.zoom_helpers import sign_in as service_sign_in

pytestmark = pytest.mark.usefixtures("forget_bookings")  # Alex's later journeys see only their own bookings

NEW_YORK = ZoneInfo("America/New_York")
CHOSEN, INSERTED = "Chosen session", "Inserted session"


def _day() -> date:
    return (datetime.now(NEW_YORK) + timedelta(days=6)).date()


def _schedule_for_alex(topic: str, day: date, hour: str) -> int:
    lee = service_sign_in("dr.lee@demo.clinic").principal
    with unit_of_work() as s:
        alex = s.exec(select(Client).where(Client.email == "alex@demo.client")).one().id
    draft = MeetingDraft(topic=topic, description="", date=day.isoformat(), hour=hour, timezone="America/New_York",
                         client_id=alex, duration_minutes=50)
    meeting_id = schedule_meeting(lee, draft, overlap_confirmed=True).meeting_id
    assert meeting_id is not None
    assert in_thread(lambda: asyncio.run(sync_meeting(meeting_id, force=True)))
    return meeting_id


def _new_meeting_in_the_browser(page: Page, topic: str, day: date, hour: str, patient: str) -> None:
    page.get_by_role("button", name="New meeting").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Topic").fill(topic)
    dialog.get_by_label("Date").fill(day.isoformat())
    dialog.get_by_label("Hour").fill(hour)
    dialog.get_by_label("Patient").select_option(label=patient)
    dialog.get_by_role("button", name="Save meeting").click()
    expect(dialog).to_have_count(0)


def _wait_for_mail(stack: Stack, address: str, text: str, timeout: float = 15.0) -> bool:
    """Whether a cancellation carrying `text` reaches `address` (others may already be there)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if any(text in m.text for m in stack.mail_to(address, "cancelled", timeout=0)):
            return True
        time.sleep(0.2)
    return False


def _status(meeting_id: int) -> str:
    with unit_of_work() as s:
        appointment = s.get(Appointment, meeting_id)
        assert appointment is not None
        return appointment.status


def test_cancel_cancels_the_meeting_clicked_when_a_push_puts_another_above_it(browser: Browser, stack: Stack,
                                                                              zoom_ready) -> None:
    chosen = _schedule_for_alex(CHOSEN, _day(), "10:00")
    page = browser.new_context().new_page()
    sign_in(page, stack, "dr.lee@demo.clinic", landing="/calendar")
    page.goto(f"{stack.url}/meetings")
    rows = page.locator(".meeting-row")
    expect(rows.filter(has_text=CHOSEN).locator(".meeting-status")).to_have_text("Scheduled", timeout=20_000)
    rows.filter(has_text=CHOSEN).get_by_role("button", name="Cancel meeting").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.locator("#cancel-subject")).to_contain_text(f"{CHOSEN} with Alex Rivera")
    dialog.get_by_label("Reason (sent to the patient)").fill("Dr. Lee is on leave that day")

    # Meanwhile Dr. Lee, in another browser, books Sam earlier the same day: the live push puts
    # that meeting above the chosen one in the first browser while its dialog is open.
    other = browser.new_context().new_page()
    sign_in(other, stack, "dr.lee@demo.clinic", landing="/calendar")
    other.goto(f"{stack.url}/meetings")
    _new_meeting_in_the_browser(other, INSERTED, _day(), "08:00", "Sam Taylor")
    expect(rows.filter(has_text=INSERTED)).to_have_count(1, timeout=20_000)
    topics = rows.all_inner_texts()
    assert next(i for i, t in enumerate(topics) if INSERTED in t) < next(i for i, t in enumerate(topics) if CHOSEN in t)

    dialog.get_by_role("button", name="Cancel meeting").click()
    expect(rows.filter(has_text=CHOSEN).locator(".meeting-status")).to_have_text("Cancelled", timeout=15_000)
    expect(rows.filter(has_text=INSERTED).locator(".meeting-status")).not_to_have_text("Cancelled")
    assert _status(chosen) == "cancelled"
    # Only the chosen meeting's patient is told.
    assert _wait_for_mail(stack, "alex@demo.client", "Dr. Lee is on leave that day")
    assert stack.mail_to("sam@demo.client", "cancelled", timeout=3) == []


def test_the_owner_is_not_offered_new_meeting_but_manages_rows(browser: Browser, stack: Stack, zoom_ready) -> None:
    _schedule_for_alex("Owner view session", _day(), "14:00")
    page = browser.new_context().new_page()
    sign_in(page, stack, "owner@demo.clinic", landing="/calendar")
    page.goto(f"{stack.url}/meetings")
    row = page.locator(".meeting-row").filter(has_text="Owner view session")
    expect(row.get_by_role("button", name="Cancel meeting")).to_be_visible(timeout=20_000)
    expect(row.get_by_role("link", name="Start meeting")).to_have_count(0)  # only the host starts
    expect(row.get_by_role("button", name="End meeting")).to_have_count(0)  # not started, not yet due
    expect(page.get_by_role("button", name="New meeting")).to_have_count(0)
