"""Each role signs in and sees exactly its navigation; refusals, sign-out and bad passwords."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import sign_in
from tests.e2e.stack import Stack

ROLES = [
    ("owner@demo.clinic", "/calendar", ["Calendar", "Meetings", "Today", "Clients", "Availability", "Dashboard",
                                        "Team", "Practice settings", "Needs attention", "Audit", "My profile"]),
    ("manager@demo.clinic", "/calendar", ["Calendar", "Meetings", "Today", "Clients", "Availability", "Dashboard",
                                          "Team", "Practice settings", "Needs attention", "Audit", "My profile"]),
    ("dr.lee@demo.clinic", "/calendar", ["Calendar", "Meetings", "Today", "Clients", "Availability",
                                         "My profile"]),
    ("frontdesk@demo.clinic", "/calendar", ["Calendar", "Clients", "Availability"]),
    ("alex@demo.client", "/portal", ["My sessions"]),
]


@pytest.mark.parametrize(("email", "landing", "navigation"), ROLES)
def test_each_role_sees_exactly_its_navigation(page: Page, stack: Stack, email: str, landing: str,
                                               navigation: list[str]) -> None:
    sign_in(page, stack, email, landing=landing)
    nav = page.get_by_role("navigation", name="Main navigation")
    expect(nav.get_by_role("link")).to_have_text(navigation)


def test_a_client_typing_a_staff_page_is_refused(page: Page, stack: Stack) -> None:
    sign_in(page, stack, "alex@demo.client", landing="/portal")
    page.goto(f"{stack.url}/clients")
    expect(page.locator("#not-allowed")).to_be_visible()
    expect(page.get_by_text("Sam Taylor")).to_have_count(0)


def test_staff_see_the_practice_clients(page: Page, stack: Stack) -> None:
    sign_in(page, stack, "frontdesk@demo.clinic", landing="/calendar")
    page.get_by_role("link", name="Clients").click()
    expect(page.get_by_role("rowheader", name="Alex Rivera")).to_be_visible()
    page.get_by_label("Search clients").fill("jo@")
    expect(page.get_by_role("rowheader")).to_have_text(["Jo Kim"])


def test_signed_out_users_are_sent_to_sign_in_and_back(page: Page, stack: Stack) -> None:
    page.goto(f"{stack.url}/clients")
    expect(page).to_have_url(re.compile(r"/login/?\?next=(%2F|/)clients"))
    page.get_by_label("Email").fill("frontdesk@demo.clinic")
    page.get_by_label("Password").fill("telehealth-demo")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/clients/?$"))


def test_after_sign_out_the_old_cookie_no_longer_works(browser: Browser, stack: Stack) -> None:
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, stack, "owner@demo.clinic", landing="/calendar")
    [cookie] = [c for c in context.cookies() if c["name"] == "th_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    context.close()

    replay = browser.new_context()
    replay.add_cookies([cookie])
    page = replay.new_page()
    page.goto(f"{stack.url}/settings")
    expect(page).to_have_url(re.compile(r"/login/?\?next=(%2F|/)settings"))
    replay.close()


def test_a_wrong_password_shows_the_message(page: Page, stack: Stack) -> None:
    sign_in(page, stack, "dr.patel@demo.clinic", password="not-the-password")
    expect(page.locator("#login-error")).to_have_text("That email and password do not match an account.")
    expect(page).to_have_url(re.compile(r"/login/?$"))
