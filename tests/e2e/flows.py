"""Page helpers that speak the domain, for writing a browser journey in a few lines: the README's
"Testing flows in the browser" shows one (tests/e2e/test_readme_example.py runs it as written).

Every helper drives the real pages (no service shortcuts), waits until its step has visibly
happened, and returns the page (or the row / tab it produced) so steps chain. The demo people are
in `DEMO` (password `telehealth-demo`). The Zoom sandbox's control API is `stack.zoom(method, path)`;
`zoom_fault` and `advance_zoom_clock` wrap the two calls a journey needs most.
"""

from __future__ import annotations

import asyncio
import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Locator, Page, expect
from sqlmodel import select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.dev.demo_data import DEMO_PASSWORD
from rxapp.models import AppointmentStatus, Client, SyncState, User
from rxapp.services.telehealth.meeting_list import meeting_search_text
from rxapp.services.telehealth.meetings.sync import sync_meeting
from tests.e2e.stack import Stack
from tests.factories import telehealth_visit

# Who is who in the demo practice (README "Demo sign-ins"): short name -> (email, landing page).
DEMO: dict[str, tuple[str, str]] = {
    "owner": ("owner@demo.clinic", "/calendar"),
    "manager": ("manager@demo.clinic", "/calendar"),
    "lee": ("dr.lee@demo.clinic", "/calendar"),  # practitioner, America/New_York, Zoom user lee@zoom.demo
    "patel": ("dr.patel@demo.clinic", "/calendar"),  # practitioner, Europe/London, Zoom user patel@zoom.demo
    "frontdesk": ("frontdesk@demo.clinic", "/calendar"),  # staff
    "alex": ("alex@demo.client", "/portal"),  # client Alex Rivera, trusts Dr. Lee
    "sam": ("sam@demo.client", "/portal"),  # client Sam Taylor, trusts Dr. Lee
    "jo": ("jo@demo.client", "/portal"),  # client Jo Kim, trusts Dr. Patel
}
PRACTITIONER_TIMEZONES = {"lee": "America/New_York", "patel": "Europe/London"}
ZOOM_PASSWORD = "zoom-demo"


def sign_in(page: Page, stack: Stack, email: str, password: str = DEMO_PASSWORD, landing: str = "") -> None:
    """Submit the sign-in form; with `landing`, wait until the browser is there."""
    page.goto(f"{stack.url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    if landing:
        expect(page).to_have_url(re.compile(rf"{re.escape(landing)}/?(\?.*)?$"), timeout=20_000)


def sign_in_as(page: Page, stack: Stack, who: str, password: str = DEMO_PASSWORD) -> Page:
    """Sign in as a demo person (`"owner"`, `"lee"`, `"alex"`, … or any email) and wait for their home page."""
    email, landing = DEMO.get(who, (who, ""))
    sign_in(page, stack, email, password, landing)
    if not landing:
        expect(page).not_to_have_url(re.compile(r"/login/?(\?.*)?$"), timeout=20_000)
    return page


def allow_zoom(page: Page, stack: Stack, allowed: bool = True) -> Page:
    """As the owner or a manager: Practice settings → Allow Zoom Integration? Yes/No → Save."""
    page.goto(f"{stack.url}/settings")
    page.get_by_label("Yes" if allowed else "No", exact=True).click()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#settings-saved")).to_contain_text("is allowed" if allowed else "is not allowed")
    return page


def zoom_sign_in_and_allow(page: Page, zoom_email: str) -> None:
    """On Zoom's own pages (the sandbox): sign in, then consent."""
    expect(page.get_by_role("button", name="Sign In")).to_be_visible(timeout=15_000)
    page.get_by_label("Email").fill(zoom_email)
    page.get_by_label("Password").fill(ZOOM_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.get_by_role("button", name="Allow").click()


def connect_zoom(page: Page, stack: Stack, zoom_email: str = "lee@zoom.demo") -> Page:
    """As a practitioner: My profile → Connect to Zoom → Zoom's sign-in and consent → back, Connected."""
    page.goto(f"{stack.url}/profile")
    expect(page.locator("#zoom-status")).to_be_visible(timeout=20_000)
    page.get_by_role("button", name="Connect to Zoom").click()
    page.get_by_role("button", name="Continue to Zoom").click()
    zoom_sign_in_and_allow(page, zoom_email)
    expect(page.locator("#zoom-review-title")).to_contain_text("Zoom connected", timeout=20_000)
    page.get_by_role("link", name="Done").click()
    expect(page.locator("#zoom-status")).to_have_text("Connected")
    return page


def meeting_row(page: Page, topic: str) -> Locator:
    """The row of a meeting on the Meetings page."""
    return page.locator(".meeting-row").filter(has_text=topic)


def new_meeting(page: Page, stack: Stack, topic: str, patient: str = "Alex Rivera", *, minutes_ahead: int = 60,
                practitioner: str = "lee", wait_for_zoom: bool = True) -> Locator:
    """As a practitioner: Meetings → New meeting → fill in → Save. Returns the meeting's row, once it is
    Scheduled at Zoom (or just listed, with `wait_for_zoom=False`)."""
    tz = PRACTITIONER_TIMEZONES.get(practitioner, "America/New_York")
    start = datetime.now(ZoneInfo(tz)) + timedelta(minutes=minutes_ahead)
    page.goto(f"{stack.url}/meetings")
    page.get_by_role("button", name="New meeting").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Topic").fill(topic)
    dialog.get_by_label("Date").fill(start.date().isoformat())
    dialog.get_by_label("Hour").fill(start.strftime("%H:%M"))
    dialog.get_by_label("Patient").select_option(label=patient)
    dialog.get_by_role("button", name=re.compile(r"^Save")).click()
    save_anyway = dialog.get_by_role("button", name="Save anyway")
    deadline = time.monotonic() + 20
    while dialog.count() and time.monotonic() < deadline:  # closes on success; an overlap asks first
        if save_anyway.is_visible():
            save_anyway.click()
        page.wait_for_timeout(200)
    expect(dialog).to_have_count(0)
    row = meeting_row(page, topic)
    if wait_for_zoom:
        expect(row.locator(".meeting-status")).to_have_text("Scheduled", timeout=30_000)
    return row


def start_meeting(page: Page, stack: Stack, topic: str) -> Page:
    """As the host: Meetings → Start meeting on the row. Returns Zoom's host tab (close it when done)."""
    page.goto(f"{stack.url}/meetings")
    with page.context.expect_page() as host_tab:
        meeting_row(page, topic).get_by_role("link", name="Start meeting").click()
    return host_tab.value


def open_waiting_room(page: Page, stack: Stack, topic: str) -> Page:
    """As a client: My sessions → the session's waiting room, waiting for the provider."""
    page.goto(f"{stack.url}/portal")
    session = page.locator("#portal-upcoming .client-visit").filter(has_text=topic)
    session.get_by_role("link", name=re.compile("Launch telehealth session|Open waiting room")).click()
    expect(page.locator("#waiting-message")).to_be_visible(timeout=20_000)
    return page


def zoom_fault(stack: Stack, operation: str, kind: str = "500", count: int = 1, **extra: object) -> dict:
    """Make the sandbox fail the next `count` calls of `operation` (e.g. "meetings.create") with `kind`
    ("500", "502", "429", "429-daily", "timeout", "timeout-after", "xml")."""
    return stack.zoom("POST", "/faults", json={"operation": operation, "kind": kind, "count": count, **extra})


def advance_zoom_clock(stack: Stack, seconds: float) -> dict:
    """Move the sandbox's clock forward (token expiry, daily limits); returns its new time."""
    return stack.zoom("POST", "/clock/advance", json={"seconds": seconds})


def quiet_meeting_at_zoom(topic: str, minutes_ahead: int = 10) -> int:
    """A meeting of Dr. Lee's with Alex, created at Zoom, written straight to the database so that Alex
    gets no "Telehealth session on" email (other journeys in the same stack count those); its id."""
    with unit_of_work() as s:
        lee = s.exec(select(User).where(User.email == "dr.lee@demo.clinic")).one()
        alex = s.exec(select(Client).where(Client.email == "alex@demo.client")).one()
        meeting = telehealth_visit(
            s, practice_id=lee.practice_id, practitioner_id=lee.id or 0, client_id=alex.id or 0, topic=topic,
            start_at=now() + timedelta(minutes=minutes_ahead), duration_minutes=50, timezone="America/New_York",
            status=AppointmentStatus.BOOKED, sync_state=SyncState.PENDING_CREATE, next_sync_at=now(),
            search_text=meeting_search_text(topic, "", alex.full_name))
        meeting_id = meeting.id or 0
    # In a worker thread: Playwright's sync API keeps an event loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(lambda: asyncio.run(sync_meeting(meeting_id, force=True))).result()
    return meeting_id
