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
