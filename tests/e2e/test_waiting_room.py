"""Issue 6 journey with two browsers: Alex waits; Dr. Lee starts; Alex's Join session appears
without a reload; Alex joins Zoom; Dr. Lee ends; Alex's link is refused. Nobody else gets in."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, expect
from sqlmodel import select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import Client, Meeting
from rxapp.services.telehealth.meetings.schedule import MeetingDraft, schedule_meeting
from rxapp.services.telehealth.meetings.sync import sync_meeting
from tests.e2e.conftest import in_thread
from tests.e2e.flows import meeting_row, open_waiting_room, sign_in_as, start_meeting
from tests.e2e.stack import Stack
from tests.integration.zoom_helpers import sign_in as service_sign_in

# What each journey books goes with it: the stack is shared with the other files (in any order).
pytestmark = pytest.mark.usefixtures("forget_bookings")


def _meeting_soon(topic: str, client_email: str, minutes_ahead: int = 10) -> int:
    """A meeting of Dr. Lee's starting shortly, created at Zoom (as the New meeting modal does)."""
    lee = service_sign_in("dr.lee@demo.clinic")
    with unit_of_work() as s:
        client_id = s.exec(select(Client).where(Client.email == client_email)).one().id
    start = (now() + timedelta(minutes=minutes_ahead)).astimezone(ZoneInfo("America/New_York"))
    draft = MeetingDraft(topic=topic, description="", date=start.date().isoformat(),
                         hour=start.strftime("%H:%M"), timezone="America/New_York", client_id=client_id)
    meeting_id = schedule_meeting(lee.principal, draft, overlap_confirmed=True).meeting_id
    assert meeting_id is not None
    assert in_thread(lambda: asyncio.run(sync_meeting(meeting_id, force=True)))
    return meeting_id


def test_the_spinner_turns_into_join_the_moment_the_provider_starts(browser: Browser, stack: Stack,
                                                                   zoom_ready) -> None:
    meeting_id = _meeting_soon("Live session", "alex@demo.client")
    alex = open_waiting_room(sign_in_as(browser.new_context().new_page(), stack, "alex"), stack, "Live session")
    expect(alex.locator("#waiting-message")).to_have_text("Waiting for your provider to start the session")

    lee = sign_in_as(browser.new_context().new_page(), stack, "lee")
    lee.get_by_role("link", name="Meetings").click()
    row = meeting_row(lee, "Live session")
    expect(row).to_contain_text("Client waiting")
    expect(lee.locator("#launch-prompt")).to_contain_text("Alex Rivera")
    expect(start_meeting(lee, stack, "Live session").get_by_text("Meeting in progress")).to_be_visible()

    join = alex.get_by_role("link", name="Join session")
    expect(join).to_be_visible(timeout=3_000)  # pushed: no reload, well inside the 10 s poll
    href = join.get_attribute("href")
    assert href and href.startswith("/join/")
    join.click()
    expect(alex.get_by_text("You have joined the meeting")).to_be_visible()

    # Another client can neither open this waiting room nor use Alex's link.
    sam = sign_in_as(browser.new_context().new_page(), stack, "sam")
    sam.goto(f"{stack.url}/portal/waiting?meeting={meeting_id}")
    expect(sam.locator("#session-missing")).to_be_visible()
    sam.goto(f"{stack.url}{href}")
    expect(sam.get_by_text("belongs to someone else")).to_be_visible()
    alex.goto(f"{stack.url}{href}")  # and Alex's own link works once
    expect(alex.get_by_text("already used")).to_be_visible()

    row.get_by_role("button", name="End meeting").click()
    lee.get_by_role("alertdialog").get_by_role("button", name="End meeting").click()  # it asks first
    expect(row.locator(".meeting-status")).to_have_text("Ended")
    alex.goto(f"{stack.url}/portal/waiting?meeting={meeting_id}")
    expect(alex.locator("#session-ended")).to_be_visible()
    alex.goto(f"{stack.url}{href}")
    expect(alex.get_by_text("This session has ended")).to_be_visible()
    assert stack.mail_to("alex@demo.client", "Your provider has started the session")


def test_a_link_issued_to_one_client_is_refused_to_another(browser: Browser, stack: Stack, zoom_ready) -> None:
    meeting_id = _meeting_soon("Second live session", "sam@demo.client", minutes_ahead=120)
    sam = sign_in_as(browser.new_context().new_page(), stack, "sam")
    lee = sign_in_as(browser.new_context().new_page(), stack, "lee")
    start_meeting(lee, stack, "Second live session")
    sam.goto(f"{stack.url}/portal/waiting?meeting={meeting_id}")
    href = sam.get_by_role("link", name="Join session").get_attribute("href")
    alex = sign_in_as(browser.new_context().new_page(), stack, "alex")
    alex.goto(f"{stack.url}{href}")
    expect(alex.get_by_text("belongs to someone else")).to_be_visible()
    sam.goto(f"{stack.url}{href}")
    expect(sam.get_by_text("You have joined the meeting")).to_be_visible()


IDLE_SECONDS = 12  # longer than the 10 s poll the room used to send


def test_an_idle_waiting_room_sends_nothing_while_connected_and_join_still_comes_by_push(
        browser: Browser, stack: Stack, zoom_ready) -> None:
    meeting_id = _meeting_soon("Quiet room", "alex@demo.client", minutes_ahead=60)
    alex = browser.new_context().new_page()
    sign_in_as(alex, stack, "alex")
    sent: list[str] = []
    alex.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(str(frame)))
            if "/_event" in ws.url else None)
    alex.goto(f"{stack.url}/portal/waiting?meeting={meeting_id}")
    expect(alex.locator("#waiting-message")).to_have_text("Waiting for your provider to start the session")
    alex.wait_for_timeout(1_000)  # the page's own load events are done
    before = len(sent)
    alex.wait_for_timeout(IDLE_SECONDS * 1000)
    events = [frame for frame in sent[before:] if frame.startswith("42")]  # Socket.IO events; pongs are "3"
    assert events == [], f"an idle room sent {len(events)} events in {IDLE_SECONDS} s: {events[:3]}"

    with unit_of_work() as s:
        zoom_id = s.get(Meeting, meeting_id).zoom_meeting_id  # type: ignore[union-attr]
    assert stack.zoom("POST", f"/meetings/{zoom_id}/start")["changed"]  # Zoom sends meeting.started
    expect(alex.get_by_role("link", name="Join session")).to_be_visible(timeout=5_000)
