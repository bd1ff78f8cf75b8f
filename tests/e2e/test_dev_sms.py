"""The caught-SMS page in the real app: an SMS the outbox sent through the embedded catcher shows
with its segments, encoding and the credits it cost (and the balance in practice settings drops)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import delete
from sqlmodel import select

from rxapp.db import unit_of_work
from rxapp.dev.demo_data import PRACTICE_NAME  # the main stack holds other practices too
from rxapp.models import Notification, Practice, SmsCreditEntry
from rxapp.services.notify import outbox
from rxapp.services.notify.sms import credits
from tests.e2e import flows
from tests.e2e.stack import Stack

KEY = "e2e-dev-sms"
# Not a demo client's number: no other journey in the shared stack sees this SMS.
TO = "+12125550188"
BODY = "Your telehealth session with Dr. Lee starts in 20 minutes. " * 3  # 177 GSM-7 characters: 2 parts


@pytest.fixture
def queued_sms(stack: Stack) -> Iterator[int]:
    """Queues the SMS; yields the balance it will leave (4 credits less)."""
    folder = Path(stack.env["SMS_CATCHER_DIR"])
    with unit_of_work() as s:
        practice_id = s.exec(select(Practice.id)).first()
        before = credits.balance(s, practice_id)
        assert outbox.queue_sms(s, practice_id=practice_id, key=KEY, to=TO, body=BODY, telehealth=True) == ""
    yield before - 4
    with unit_of_work() as s:  # leave the shared stack as it was: no charge, no message, no caught file
        row = s.exec(select(Notification).where(Notification.idempotency_key == KEY)).one()
        s.execute(delete(SmsCreditEntry).where(SmsCreditEntry.notification_id == row.id))
        s.delete(row)
    for path in folder.glob("*.json"):
        if json.loads(path.read_text()).get("to") == TO:
            path.unlink()


def test_a_caught_sms_shows_its_segments_encoding_and_credits(browser: Browser, stack: Stack,
                                                               queued_sms: int) -> None:
    page = flows.sign_in_as(browser.new_context().new_page(), stack, "owner")
    page.goto(f"{stack.url}/dev/sms")
    card = page.locator(".caught-sms").filter(has_text=f"To {TO}")
    for _ in range(20):  # the outbox sends every half second; Refresh reloads the list
        if card.count():
            break
        page.get_by_role("button", name="Refresh").click()
        page.wait_for_timeout(500)
    expect(card).to_contain_text("starts in 20 minutes")
    expect(card.locator(".sms-segments")).to_have_text("2 segments")
    expect(card.locator(".sms-encoding")).to_have_text("GSM-7")
    expect(card.locator(".sms-credits")).to_have_text("4 credits charged")  # telehealth: 2 per segment

    # Twilio's routes are mounted in the running app and refuse what Twilio did not sign.
    unsigned = httpx.post(f"{stack.url}/sms/twilio/inbound", data={"From": TO, "Body": "STOP"}, timeout=10)
    assert unsigned.status_code == 403

    page.goto(f"{stack.url}/settings")
    expect(page.locator("#sms-balance")).to_have_text(str(queued_sms))
    expect(page.locator("#sms-history")).to_contain_text(f"SMS to {TO}")
    page.context.close()


def test_a_tester_answers_a_text_as_the_client_yes_confirms_stop_and_start_opt_out_and_in(
        browser: Browser, stack: Stack, forget_bookings: None) -> None:
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from rxapp.clock import now
    from rxapp.models import Appointment, Client
    from rxapp.services.scheduling.appointments import AppointmentDraft, book_appointments
    from tests.e2e.conftest import in_thread
    from tests.integration.zoom_helpers import principal_of, user_id

    folder = Path(stack.env["SMS_CATCHER_DIR"])
    before = set(folder.glob("*.json")) if folder.exists() else set()
    with unit_of_work() as s:
        practice = s.exec(select(Practice).where(Practice.name == PRACTICE_NAME)).one()
        asked, practice.ask_clients_to_confirm = practice.ask_clients_to_confirm, True
        alex = s.exec(select(Client).where(Client.email == "alex@demo.client")).one()
        alex_id, alex_phone = alex.id or 0, alex.phone
    start = (now() + timedelta(days=1)).astimezone(ZoneInfo("America/New_York"))
    try:
        [visit] = in_thread(lambda: book_appointments(principal_of("frontdesk@demo.clinic"), AppointmentDraft(
            client_id=alex_id, practitioner_id=user_id("dr.lee@demo.clinic"), date=start.date().isoformat(),
            hour="06:40", duration_minutes=30, telehealth=False, timezone="America/New_York",
            allow_overlap=True)).ids)
        page = flows.sign_in_as(browser.new_context().new_page(), stack, "frontdesk")
        page.goto(f"{stack.url}/dev/sms")
        card = page.locator(".caught-sms").filter(has_text=f"To {alex_phone}").filter(has_text="Reply YES to confirm")
        for _ in range(20):
            if card.count():
                break
            page.get_by_role("button", name="Refresh").click()
            page.wait_for_timeout(500)
        card = card.first
        card.get_by_role("button", name="Reply YES").click()
        expect(card.locator(".sms-reply-outcome")).to_contain_text("The app answered: Thank you: your appointment")
        with unit_of_work() as s:
            assert s.get(Appointment, visit).confirmed_at is not None  # type: ignore[union-attr]
        for word, opted_out in (("STOP", True), ("START", False)):
            card.get_by_role("button", name=f"Reply {word}").click()
            expect(card.locator(".sms-reply-outcome")).to_contain_text(f"Replied \u201c{word}\u201d")
            with unit_of_work() as s:
                assert s.get(Client, alex_id).sms_opted_out is opted_out  # type: ignore[union-attr]
        card.get_by_label("Reply text").fill("See you then")
        card.get_by_role("button", name="Send reply").click()
        expect(card.locator(".sms-reply-outcome")).to_contain_text("The app sent no answer")
        page.context.close()
    finally:
        with unit_of_work() as s:
            s.exec(select(Practice).where(Practice.name == PRACTICE_NAME)).one().ask_clients_to_confirm = asked
            s.get(Client, alex_id).sms_opted_out = False  # type: ignore[union-attr]
        for path in set(folder.glob("*.json")) - before:
            path.unlink(missing_ok=True)
