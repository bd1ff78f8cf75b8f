"""Issue 25.2 in the browser: on an installation that takes new practices (the main stack runs with
PRACTICE_SIGNUP=open beside the demo practice), a new owner creates a practice from the sign-in page,
sees none of the other practice's data, is told to confirm their email, and confirms it from the
emailed link; on a phone the form fits the screen."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect

from tests.e2e.stack import Stack

PASSWORD = "a long new owner password"
EMAIL = "owner@north-shore.example"


def test_a_new_owner_creates_a_practice_confirms_the_email_and_sees_only_their_own(browser: Browser,
                                                                                    stack: Stack) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{stack.url}/login")
    page.get_by_role("link", name="Create your practice").click()
    expect(page.get_by_role("heading", name="Create your practice")).to_be_visible()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    page.get_by_label("Practice name").fill("North Shore Physio")
    page.get_by_label("Timezone").select_option("America/Los_Angeles")
    page.get_by_label("Your name (the owner)").fill("Noa Shore")
    page.get_by_label("Your email").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill("not the same")
    page.get_by_role("button", name="Create the practice").click()
    expect(page.get_by_role("alert")).to_contain_text("The two passwords differ.")
    expect(page.get_by_label("Practice name")).to_have_value("North Shore Physio")  # nothing typed is lost
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create the practice").click()

    expect(page).to_have_url(re.compile(r"/welcome/?$"), timeout=20_000)
    banner = page.locator("#confirm-email")
    expect(banner).to_contain_text(f"we sent a link to {EMAIL}")
    expect(banner).to_contain_text("nothing is sent to your clients or team")
    banner.get_by_role("button", name="Send the link again").click()
    expect(banner).to_contain_text("less than a minute ago")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390

    # The demo practice shares the installation: none of its clients or team shows here.
    page.goto(f"{stack.url}/clients")
    expect(page.get_by_role("heading", name="No clients found")).to_be_visible(timeout=15_000)
    expect(page.get_by_text("Alex Rivera")).to_have_count(0)
    page.goto(f"{stack.url}/team")
    expect(page.get_by_text(EMAIL).first).to_be_visible(timeout=15_000)
    expect(page.get_by_text("Dana Lee")).to_have_count(0)

    [mail] = stack.mail_to(EMAIL, "Confirm your email")
    link = re.search(r"https?://\S+/confirm-email/\S+", mail.text)
    assert link, mail.text
    page.goto(link.group(0))
    page.get_by_role("button", name="Confirm my email").click()
    expect(page.get_by_role("heading", name="Email confirmed")).to_be_visible()
    page.get_by_role("link", name="Go to Getting started").click()
    expect(page.locator("#welcome-steps li")).to_have_count(5, timeout=20_000)
    expect(page.locator("#confirm-email")).to_have_count(0)
    context.close()
