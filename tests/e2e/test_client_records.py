"""Client records in the real app and Chromium: the front desk adds a client (a bad phone first, nothing
typed is lost), saves and invites in one step, archives and restores; a client's history in the portal."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.dev.demo_data import DEMO_PASSWORD
from rxapp.models import Appointment, Client, User
from rxapp.services.clients.records import PHONE_PROBLEM
from rxapp.services.identity.passwords import hash_password
from tests.e2e.flows import sign_in_as
from tests.e2e.stack import Stack

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def _row(page: Page, name: str):
    return page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name))


def test_the_front_desk_adds_a_client_invites_archives_and_restores(page: Page, stack: Stack) -> None:
    sign_in_as(page, stack, "frontdesk")
    page.goto(f"{stack.url}/clients")
    page.get_by_role("button", name="Add client").click()
    form = page.get_by_role("dialog", name="Add client")
    form.get_by_label("First name").fill("Robin")
    form.get_by_label("Last name").fill("Okafor")
    form.get_by_label("Email").fill("Robin.Okafor@e2e.client")
    form.get_by_label("Mobile phone").fill("415 555")
    form.get_by_label("Timezone").select_option("America/Chicago")
    form.get_by_label("Notes").fill("Prefers evening sessions.")

    form.get_by_role("button", name="Save and invite").click()

    expect(form.locator("#client-phone-error")).to_have_text(PHONE_PROBLEM)
    for label, typed in (("First name", "Robin"), ("Last name", "Okafor"), ("Email", "Robin.Okafor@e2e.client"),
                         ("Mobile phone", "415 555"), ("Timezone", "America/Chicago"),
                         ("Notes", "Prefers evening sessions.")):
        expect(form.get_by_label(label)).to_have_value(typed)  # nothing typed is lost

    form.get_by_label("Mobile phone").fill("+1 (415) 555-2671")
    form.get_by_role("button", name="Save and invite").click()

    expect(form).to_be_hidden(timeout=15_000)  # saved, and the invite queued
    expect(page.locator("#client-notice")).to_have_text(
        "Saved Robin Okafor. Portal invite sent to Robin Okafor at robin.okafor@e2e.client.")
    row = _row(page, "Robin Okafor")
    expect(row).to_contain_text("+14155552671")
    expect(row).to_contain_text("America/Chicago")
    expect(row.get_by_role("button")).to_have_text("Resend portal invite")
    assert stack.mail_to("robin.okafor@e2e.client", "client portal")
    page.goto(f"{stack.url}/dev/mail")
    expect(page.locator(".caught-mail").filter(has_text="To: robin.okafor@e2e.client")).to_contain_text(
        "client portal")

    page.goto(f"{stack.url}/clients")
    page.get_by_role("link", name="Robin Okafor").click()
    expect(page).to_have_url(re.compile(r"/clients/\d+$"))
    expect(page.locator("#client-name")).to_have_text("Robin Okafor")
    expect(page.get_by_text("Prefers evening sessions.")).to_be_visible()
    page.get_by_role("button", name="Edit").click()
    page.locator("#client-save").click()
    expect(page.locator("#client-notice")).to_have_text("Saved Robin Okafor.")
    page.get_by_role("button", name="Archive").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Archive").click()
    expect(page.locator("#archived-badge")).to_be_visible()
    expect(page.get_by_role("button", name="Restore")).to_be_visible()
    expect(page.locator("#client-notice")).to_have_count(0)  # the save's notice is stale after Archive

    page.get_by_role("link", name="All clients").click()
    expect(_row(page, "Alex Rivera")).to_be_visible()
    expect(_row(page, "Robin Okafor")).to_have_count(0)
    page.get_by_label("Show archived").click()
    expect(_row(page, "Robin Okafor")).to_be_visible()
    page.get_by_role("button", name="Restore Robin Okafor").click()
    expect(_row(page, "Robin Okafor")).to_have_count(0)
    page.get_by_label("Show archived").click()
    expect(_row(page, "Robin Okafor")).to_be_visible()


def test_the_same_email_twice_is_refused_on_the_form(page: Page, stack: Stack) -> None:
    sign_in_as(page, stack, "manager")
    page.goto(f"{stack.url}/clients")
    page.get_by_role("button", name="Add client").click()
    form = page.get_by_role("dialog", name="Add client")
    form.get_by_label("First name").fill("Alexis")
    form.get_by_label("Last name").fill("Copy")
    form.get_by_label("Email").fill("ALEX@demo.client")
    form.get_by_role("button", name="Save", exact=True).click()
    expect(form.locator("#client-email-error")).to_have_text(
        "Another client of this practice, Alex Rivera, already has this email address.")
    expect(form.get_by_label("First name")).to_have_value("Alexis")


def test_a_client_sees_their_appointments_in_the_portal_on_a_phone(browser: Browser, stack: Stack) -> None:
    with unit_of_work() as s:
        jo = s.exec(select(Client).where(Client.email == "jo@demo.client")).one()
        patel = s.exec(select(User).where(User.email == "dr.patel@demo.clinic")).one()
        # Far from the days other journeys book, so no calendar or overlap there sees them.
        # In person: a telehealth visit would need its Zoom side, which only the booking service makes.
        for days, status, reason in ((300, "booked", ""), (-300, "completed", ""), (-299, "cancelled", "Snowed in")):
            s.add(Appointment(practice_id=jo.practice_id, practitioner_id=patel.id or 0, client_id=jo.id or 0,
                              start_at=now() + timedelta(days=days), duration_minutes=50, telehealth=False,
                              status=status, cancel_reason=reason))
        # Another journey (password reset) may have given Jo a new password: sign in with a known one.
        jo_user = s.get(User, jo.user_id)
        assert jo_user is not None
        jo_user.password_hash = hash_password(DEMO_PASSWORD)
    page = browser.new_context(**PHONE).new_page()
    sign_in_as(page, stack, "jo")

    upcoming, past = page.locator("#portal-upcoming"), page.locator("#portal-past")
    soon = upcoming.locator(".client-visit").filter(has_text="Dr. Priya Patel · In person")
    expect(soon).to_contain_text(re.compile(r" P[SD]T"))  # Jo's timezone, America/Los_Angeles
    expect(soon).to_contain_text("Booked")
    expect(past.locator(".client-visit").filter(has_text="Completed")).to_contain_text("Dr. Priya Patel · In person")
    expect(past.locator(".client-visit").filter(has_text="Cancelled")).to_contain_text("Reason: Snowed in")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390


def test_a_clients_page_fits_a_phone(browser: Browser, stack: Stack) -> None:
    page = browser.new_context(**PHONE).new_page()
    sign_in_as(page, stack, "frontdesk")
    page.goto(f"{stack.url}/clients")
    page.get_by_role("link", name="Sam Taylor").click()
    expect(page.locator("#client-name")).to_have_text("Sam Taylor")
    expect(page.get_by_role("button", name="Edit")).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    page.get_by_role("button", name="Edit").click()
    form = page.get_by_role("dialog", name="Edit client")
    expect(form.get_by_label("Last name")).to_have_value("Taylor")
    save = form.get_by_role("button", name="Save and invite")
    save.scroll_into_view_if_needed()  # the form scrolls inside the dialog
    expect(save).to_be_in_viewport()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
