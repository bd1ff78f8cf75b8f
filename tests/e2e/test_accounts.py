"""Portal invites, forgot password and trusted practitioners, in the real app and real Chromium."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from rxapp.db import unit_of_work
from rxapp.dev import demo_data
from rxapp.models import Client, Practice
from tests.e2e.conftest import sign_in
from tests.e2e.stack import Stack

NEW_PASSWORD = "my own new secret"


def _add_client(name: str, email: str | None) -> None:
    """A client of the demo practice without a portal account, written straight into the stack's database."""
    with unit_of_work() as s:
        practice_id = s.exec(select(Practice.id).where(Practice.name == demo_data.PRACTICE_NAME)).one()
        s.add(Client(practice_id=practice_id or 0, full_name=name, email=email))


def _link_in_mail(stack: Stack, to: str, subject: str, kind: str) -> str:
    [mail] = stack.mail_to(to, subject)
    found = re.search(rf"{re.escape(stack.url)}/{kind}/[A-Za-z0-9_-]+", mail.text)
    assert found, mail.text
    assert found.group(0) in mail.html
    return found.group(0)


def _invite_button(page: Page, client_name: str):
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=client_name))
    return row.get_by_role("button")


def test_an_invited_client_sets_a_password_and_lands_in_the_portal(browser: Browser, page: Page,
                                                                   stack: Stack) -> None:
    _add_client("Casey New", "casey@demo.client")
    sign_in(page, stack, "frontdesk@demo.clinic", landing="/calendar")
    page.goto(f"{stack.url}/clients")
    button = _invite_button(page, "Casey New")
    expect(button).to_have_text("Send portal invite")
    button.click()
    expect(page.get_by_text("Portal invite sent to Casey New at casey@demo.client.")).to_be_visible()
    expect(button).to_have_text("Resend portal invite")
    link = _link_in_mail(stack, "casey@demo.client", "client portal", "invite")

    client = browser.new_context().new_page()
    client.goto(link)
    expect(client.get_by_text("casey@demo.client")).to_be_visible()
    client.get_by_label("New password").fill(NEW_PASSWORD)
    client.get_by_label("Confirm password").fill("something else entirely")
    client.get_by_role("button", name="Set password").click()
    expect(client.get_by_text("The two passwords do not match.")).to_be_visible()
    client.get_by_label("Confirm password").fill(NEW_PASSWORD)
    client.get_by_role("button", name="Set password").click()
    expect(client).to_have_url(re.compile(r"/portal/?$"), timeout=20_000)
    expect(client.locator("#signed-in-user")).to_contain_text("Casey New")

    client.goto(link)
    expect(client.get_by_role("alert")).to_have_text(
        "This invite link was already used. Ask your practice to send a new one.")
    expect(client.get_by_label("New password")).to_have_count(0)
    client.context.close()


def test_a_client_without_email_cannot_be_invited(page: Page, stack: Stack) -> None:
    _add_client("Nomail Person", None)
    sign_in(page, stack, "manager@demo.clinic", landing="/calendar")
    page.goto(f"{stack.url}/clients")
    _invite_button(page, "Nomail Person").click()
    expect(page.get_by_text("Nomail Person has no email address.")).to_be_visible()


def test_forgot_password_sends_a_link_to_choose_a_new_one(page: Page, stack: Stack) -> None:
    page.goto(f"{stack.url}/login")
    page.get_by_role("link", name="Forgot password?").click()
    expect(page).to_have_url(re.compile(r"/forgot-password/?$"))
    page.get_by_label("Email").fill("jo@demo.client")
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_text("If an account exists for that email, we sent a link")).to_be_visible()
    link = _link_in_mail(stack, "jo@demo.client", "Reset", "reset-password")

    page.goto(link)
    page.get_by_label("New password").fill("short")
    page.get_by_label("Confirm password").fill("short")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_text("Use at least 10 characters.").first).to_be_visible()
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_label("Confirm password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password").click()
    expect(page.locator("#reset-done")).to_be_visible()
    page.get_by_role("link", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/login/?$"))
    sign_in(page, stack, "jo@demo.client", password=NEW_PASSWORD, landing="/portal")

    page.goto(link)
    expect(page.get_by_role("alert")).to_have_text("This password reset link was already used. Request a new one.")


def test_a_client_chooses_a_trusted_practitioner(page: Page, stack: Stack) -> None:
    sign_in(page, stack, "alex@demo.client", landing="/portal")
    page.goto(f"{stack.url}/portal/practitioners")
    patel = page.get_by_label("Dr. Priya Patel")
    expect(page.get_by_label("Dr. Dana Lee")).to_be_checked()
    expect(patel).not_to_be_checked()
    patel.click()
    expect(page.get_by_text("Dr. Priya Patel is now one of your practitioners.")).to_be_visible()
    page.reload()
    expect(page.get_by_label("Dr. Priya Patel")).to_be_checked()
    expect(page.get_by_text("Sam Taylor")).to_have_count(0)


def test_a_client_who_already_signs_in_gets_a_password_reset_not_an_invite(page: Page, stack: Stack) -> None:
    sign_in(page, stack, "frontdesk@demo.clinic", landing="/calendar")
    page.goto(f"{stack.url}/clients")
    button = _invite_button(page, "Sam Taylor")
    expect(button).to_have_text("Send password reset")
    button.click()
    expect(page.get_by_text("Password reset link sent to Sam Taylor at sam@demo.client.")).to_be_visible()
    expect(button).to_have_text("Send password reset")
    link = _link_in_mail(stack, "sam@demo.client", "Reset", "reset-password")
    assert "/invite/" not in link
