"""Issue 15.3 in Chromium: the Meetings list pages by keyset with Previous and Next (no total)."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Browser, expect
from sqlmodel import select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import Appointment, Client, Meeting, SyncState, User
from rxapp.services.telehealth.meeting_list import meeting_search_text
from tests.e2e.conftest import sign_in
from tests.e2e.stack import Stack
from tests.factories import telehealth_visit

TOPIC = "Paging check"


def _meetings(count: int) -> list[int]:
    """Dr. Patel's meetings with Jo, an hour apart, already at Zoom as far as the list cares."""
    with unit_of_work() as s:
        patel = s.exec(select(User).where(User.email == "dr.patel@demo.clinic")).one()
        jo = s.exec(select(Client).where(Client.email == "jo@demo.client")).one()
        rows = [telehealth_visit(s, practice_id=patel.practice_id, practitioner_id=patel.id or 0,
                                 client_id=jo.id or 0, topic=f"{TOPIC} {n:02d}",
                                 start_at=now() + timedelta(days=30, hours=n), timezone="Europe/London",
                                 sync_state=SyncState.SYNCED,
                                 search_text=meeting_search_text(f"{TOPIC} {n:02d}", "", jo.full_name))
                for n in range(count)]
        return [m.id or 0 for m in rows]


def test_next_and_previous_walk_the_list_by_keyset(browser: Browser, stack: Stack) -> None:
    made = _meetings(25)
    try:
        page = browser.new_context().new_page()
        sign_in(page, stack, "dr.patel@demo.clinic", landing="/calendar")
        page.goto(f"{stack.url}/meetings?q=paging+check")
        rows = page.locator(".meeting-row")
        expect(rows).to_have_count(20)
        expect(rows.first).to_contain_text(f"{TOPIC} 00")
        expect(page.locator("#meeting-pages")).to_have_text("Page 1")
        expect(page.get_by_role("button", name="Previous")).to_be_disabled()
        page.get_by_role("button", name="Next").click()
        expect(rows).to_have_count(5)
        expect(rows.first).to_contain_text(f"{TOPIC} 20")
        expect(page.locator("#meeting-pages")).to_have_text("Page 2")
        expect(page.get_by_role("button", name="Next")).to_be_disabled()
        expect(page).to_have_url(re.compile(r"page=2.*after="))
        page.reload()  # the page's place is in the URL
        expect(rows).to_have_count(5)
        page.get_by_role("button", name="Previous").click()
        expect(rows).to_have_count(20)
        expect(rows.first).to_contain_text(f"{TOPIC} 00")
        expect(page.get_by_role("button", name="Previous")).to_be_disabled()
    finally:
        with unit_of_work() as s:
            for meeting_id in made:
                s.delete(s.get(Meeting, meeting_id))
                s.flush()
                s.delete(s.get(Appointment, meeting_id))
