"""Issue 24 items 5 and 6 in the browser: a manager turns on two-step sign-in on My profile (QR code,
key, first code, recovery codes shown once), signs in on a second device with a recovery code, and
signs that device out from the first one's list of sessions."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect
from sqlmodel import select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import User
from rxapp.services.identity import mfa, sessions
from tests.e2e.flows import sign_in
from tests.e2e.stack import Stack

MANAGER = "manager@demo.clinic"


def _reset_manager() -> None:
    """No two-step sign-in and no session of the manager (other journeys sign the manager in too)."""
    with unit_of_work() as s:
        manager = s.exec(select(User).where(User.email == MANAGER)).one()
        mfa.turn_off(s, manager, None)
        sessions.end_all(s, manager.id or 0)


@pytest.fixture
def manager_cleared(stack: Stack) -> Iterator[None]:
    _reset_manager()
    yield
    _reset_manager()


def test_a_manager_turns_on_two_step_sign_in_and_signs_another_device_out(
        browser: Browser, stack: Stack, manager_cleared: None) -> None:
    desk = browser.new_context().new_page()
    sign_in(desk, stack, MANAGER, landing="/calendar")
    desk.goto(f"{stack.url}/profile")
    desk.get_by_role("tab", name="Security").click()
    desk.get_by_role("button", name="Set up two-step sign-in").click()
    expect(desk.locator("#mfa-qr")).to_have_attribute("src", re.compile(r"^data:image/svg\+xml"))
    secret = desk.locator("#mfa-secret").inner_text().strip()
    desk.get_by_label("Code from the app").fill("000000")
    desk.get_by_role("button", name="Turn on").click()
    expect(desk.locator("#security-error")).to_contain_text("not right")
    desk.get_by_label("Code from the app").fill(mfa.code_at(secret, now()))
    desk.get_by_role("button", name="Turn on").click()
    codes = desk.locator("#recovery-codes li")
    expect(codes).to_have_count(10)
    recovery = codes.first.inner_text().strip()
    expect(desk.locator("#mfa-on")).to_contain_text("10 recovery codes left")

    # A second device: the password, then a recovery code (the app's code of this step is used up).
    phone = browser.new_context().new_page()
    sign_in(phone, stack, MANAGER)
    expect(phone.get_by_role("heading", name="Two-step sign-in")).to_be_visible(timeout=20_000)
    phone.get_by_label("Code").fill(recovery)
    phone.get_by_role("button", name="Continue").click()
    expect(phone).to_have_url(re.compile(r"/calendar/?(\?.*)?$"), timeout=20_000)

    # The first device lists both and signs the other one out.
    desk.reload()
    desk.get_by_role("tab", name="Security").click()
    sessions = desk.locator(".signed-in-session")
    expect(sessions).to_have_count(2, timeout=15_000)
    expect(sessions.filter(has_text="This browser")).to_have_count(1)
    sessions.get_by_role("button", name=re.compile("^Sign out")).click()
    expect(sessions).to_have_count(1, timeout=15_000)
    phone.goto(f"{stack.url}/meetings")
    expect(phone).to_have_url(re.compile(r"/login"), timeout=20_000)
