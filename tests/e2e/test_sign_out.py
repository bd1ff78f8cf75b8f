"""Signing out forgets everything that browser session held, in every tab (issue 10, items 1 and 12)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, WebSocket, expect
from sqlmodel import select

from rxapp.db import unit_of_work
from rxapp.models import Client
from rxapp.services.notify.outbox import OutgoingEmail, queue_email
from rxapp.services.telehealth.meetings.schedule import MeetingDraft, schedule_meeting
from tests.e2e.conftest import in_thread, sign_in
from tests.e2e.stack import Stack
from tests.integration.zoom_helpers import principal_of

LEE_TOPIC = "Grief support, second session"
MAIL_SUBJECT = "Notes from your intake with Dr. Lee"
# What only Dr. Lee's pages show: her patients (not Alex), her meeting, the mail Sam was sent.
LEE_ONLY = ("Sam Taylor", "sam@demo.client", "Jo Kim", "jo@demo.client", LEE_TOPIC, MAIL_SUBJECT)


def _lee_meeting_with_sam() -> None:
    with unit_of_work() as s:
        sam = s.exec(select(Client).where(Client.email == "sam@demo.client")).one()
        # Mail the practice sent Sam, for Lee's caught-mail page (through the real outbox).
        queue_email(s, practice_id=sam.practice_id, key=f"e2e-sign-out:{uuid.uuid4()}", email=OutgoingEmail(
            to="sam@demo.client", subject=MAIL_SUBJECT, text="Hello Sam Taylor, here are your notes."))
    day = (datetime.now(ZoneInfo("America/New_York")) + timedelta(days=5)).date().isoformat()
    draft = MeetingDraft(topic=LEE_TOPIC, description="", date=day, hour="14:00", timezone="America/New_York",
                         client_id=sam.id)
    in_thread(lambda: schedule_meeting(principal_of("dr.lee@demo.clinic"), draft, overlap_confirmed=True))


def _fill_with_lee_pages(page: Page, stack: Stack) -> None:
    """Dr. Lee's pages fill this tab's state: her meeting, the practice's clients, the caught mail."""
    sign_in(page, stack, "dr.lee@demo.clinic", landing="/calendar")
    page.get_by_role("link", name="Meetings").click()
    expect(page.get_by_text(LEE_TOPIC)).to_be_visible(timeout=20_000)
    page.get_by_role("link", name="Clients").click()
    expect(page.get_by_role("rowheader", name="Sam Taylor")).to_be_visible()
    page.goto(f"{stack.url}/dev/mail")
    expect(page.get_by_text(MAIL_SUBJECT)).to_be_visible()


def _record_frames(page: Page) -> list[str]:
    """Every websocket frame the page receives from now on (on sockets it opens from now on)."""
    frames: list[str] = []

    def record(ws: WebSocket) -> None:
        ws.on("framereceived", lambda payload: frames.append(payload if isinstance(payload, str)
                                                             else payload.decode(errors="replace")))

    page.on("websocket", record)
    return frames


def _alex_signs_in(page: Page, landing: str = "/portal") -> None:
    page.get_by_label("Email").fill("alex@demo.client")
    page.get_by_label("Password", exact=True).fill("telehealth-demo")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(rf"{landing}/?$"), timeout=20_000)
    expect(page.get_by_role("navigation", name="Main navigation").get_by_role("link")).to_have_text(["My sessions"])
    page.wait_for_timeout(1500)  # let any late push arrive


def _assert_nothing_of_lee(frames: list[str]) -> None:
    assert frames, "no websocket frame was recorded"
    leaked = sorted({secret for frame in frames for secret in LEE_ONLY if secret in frame})
    assert not leaked, f"Alex's browser received Dr. Lee's data: {leaked}"


@pytest.fixture(scope="module")
def lee_meeting_with_sam(stack: Stack, zoom_ready: None) -> None:
    _lee_meeting_with_sam()
    assert stack.mail_to("sam@demo.client", MAIL_SUBJECT, timeout=30), "the mail to Sam was not caught"


def test_the_next_person_in_the_tab_receives_nothing_of_the_previous_one(browser: Browser, stack: Stack,
                                                                          lee_meeting_with_sam: None) -> None:
    page = browser.new_context().new_page()
    _fill_with_lee_pages(page, stack)
    frames = _record_frames(page)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    _alex_signs_in(page)
    _assert_nothing_of_lee(frames)


def test_signed_out_in_another_tab_the_next_person_here_receives_nothing(browser: Browser, stack: Stack,
                                                                           lee_meeting_with_sam: None) -> None:
    """This tab never ran Sign out (its browser session state was never told): the state tree is
    still forgotten because it was filled for another user than the one now signed in."""
    context = browser.new_context()
    page = context.new_page()
    _fill_with_lee_pages(page, stack)
    page.get_by_role("link", name="Clients").click()
    expect(page.get_by_role("rowheader", name="Sam Taylor")).to_be_visible()
    other = context.new_page()
    other.goto(f"{stack.url}/calendar")
    other.get_by_role("button", name="Sign out").click()
    expect(other.get_by_text("You have signed out.")).to_be_visible()
    other.close()

    frames = _record_frames(page)
    page.get_by_label("Search clients").fill("sam")
    expect(page.get_by_label("Password", exact=True)).to_be_visible()
    _alex_signs_in(page, landing="/clients")  # back where the sign-in page was asked to return
    expect(page.locator("#not-allowed")).to_be_visible()
    _assert_nothing_of_lee(frames)
    context.close()


def test_signing_out_in_one_tab_signs_out_the_other_tabs(browser: Browser, stack: Stack) -> None:
    context = browser.new_context()
    first = context.new_page()
    sign_in(first, stack, "dr.lee@demo.clinic", landing="/calendar")
    meetings, clients = context.new_page(), context.new_page()
    meetings.goto(f"{stack.url}/meetings")
    expect(meetings.get_by_label("Status")).to_be_visible()
    clients.goto(f"{stack.url}/clients")
    expect(clients.get_by_role("rowheader", name="Alex Rivera")).to_be_visible()

    first.bring_to_front()
    first.get_by_role("button", name="Sign out").click()
    expect(first.get_by_text("You have signed out.")).to_be_visible()

    # The other tabs' next event takes them to sign-in (and back to their page afterwards).
    meetings.bring_to_front()
    meetings.get_by_label("Status").select_option(label="Cancelled")
    expect(meetings).to_have_url(re.compile(r"/login/?\?next=(%2F|/)meetings"))
    expect(meetings.get_by_label("Password", exact=True)).to_be_visible()
    clients.bring_to_front()
    clients.get_by_label("Search clients").fill("jo")
    expect(clients).to_have_url(re.compile(r"/login/?\?next=(%2F|/)clients"))
    expect(clients.get_by_label("Password", exact=True)).to_be_visible()
    context.close()
