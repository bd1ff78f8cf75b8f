"""The owner's Needs attention page: a poison Zoom event's reason and a failed message, on a phone;
a practitioner cannot open it."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlmodel import select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import Notification, NotificationStatus, Practice, WebhookEvent
from rxapp.services.practice import profiles
from rxapp.services.timezones import format_local
from tests.conftest import reset_app_caches
from tests.e2e.conftest import sign_in
from tests.e2e.stack import Stack
from tests.integration.zoom_helpers import principal_of

REASON = "RuntimeError: the meeting row could not be updated (poison event for the e2e test)"


def _poison_event_and_failed_message() -> str:
    """What a poison event and a failed email look like once every attempt failed (how they get
    there is covered by tests/integration/test_webhooks.py and test_outbox.py)."""
    reset_app_caches()
    failed_at = now() - timedelta(minutes=3)
    with unit_of_work() as s:
        practice_id = s.exec(select(Practice.id)).first()
        s.add(WebhookEvent(practice_id=practice_id, dedupe_key="e2e-poison", event="meeting.started", payload="{}",
                           attempts=5, error=REASON, processed_at=failed_at, failed_at=failed_at))
        s.add(Notification(practice_id=practice_id or 0, idempotency_key="e2e-failed-mail",
                           to_address="alex@demo.client", subject="Telehealth session on Tue 01 Dec 2026",
                           body_text="x", status=NotificationStatus.FAILED, attempts=8, failed_at=failed_at,
                           last_error="SMTPRecipientsRefused: {'alex@demo.client': (550, b'mailbox full')}"))
    return format_local(failed_at, profiles.viewer_timezone(principal_of("owner@demo.clinic")))


def test_the_owner_sees_a_poison_event_s_reason_on_a_phone(stack: Stack, page: Page) -> None:
    when = _poison_event_and_failed_message()
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, stack, "owner@demo.clinic", landing="/calendar")
    page.goto(f"{stack.url}/attention")
    events = page.locator("#failed-zoom-events")
    expect(events).to_contain_text(REASON, timeout=20_000)
    expect(events).to_contain_text("meeting.started")
    expect(events).to_contain_text(when)
    expect(events).to_contain_text("Given up after 5 attempts.")
    messages = page.locator("#failed-messages")
    expect(messages).to_contain_text("Telehealth session on Tue 01 Dec 2026")
    expect(messages).to_contain_text("To alex@demo.client · 8 attempts · given up")
    expect(messages).to_contain_text("mailbox full")
    expect(page.locator("#meetings-needing-attention")).to_contain_text("No meetings need attention.")
    # Nothing in the lists is wider than its column: long reasons and addresses wrap. (The page as a
    # whole fits 390 px once the app shell collapses its sidebar into a menu on phones.)
    for section in (events, messages):
        overflow = section.evaluate("""e => {
            const right = e.getBoundingClientRect().right;
            const wider = [...e.querySelectorAll('*')].filter(c => c.getBoundingClientRect().right > right + 1);
            return {scroll: e.scrollWidth, client: e.clientWidth, wider: wider.map(c => c.textContent.slice(0, 40))};
        }""")
        assert overflow["scroll"] <= overflow["client"] + 1 and not overflow["wider"], overflow
    page.get_by_role("link", name="Open them on the Meetings page").click()
    expect(page).to_have_url(re.compile(r"/meetings/?\?.*status=needs_attention"), timeout=20_000)


def test_a_practitioner_cannot_open_the_attention_page(stack: Stack, page: Page) -> None:
    sign_in(page, stack, "dr.lee@demo.clinic", landing="/calendar")
    expect(page.get_by_role("link", name="Needs attention")).to_have_count(0)
    page.goto(f"{stack.url}/attention")
    expect(page.locator("#not-allowed")).to_be_visible(timeout=20_000)
    expect(page.locator("#failed-zoom-events")).to_have_count(0)
