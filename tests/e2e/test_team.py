"""The Team page in the real app and real Chromium: an invited staff member sets a password and
signs in; a deactivated practitioner is signed out and their future appointments are listed."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.dev import demo_data
from rxapp.models import Appointment, Client, PractitionerProfile, Role, User
from rxapp.services.identity.passwords import hash_password
from rxapp.services.practice import profiles
from tests.e2e.conftest import sign_in
from tests.e2e.stack import Stack

NEW_PASSWORD = "sky's own password"


def _team_row(page: Page, name: str):
    return page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name, exact=True))


def test_the_owner_invites_a_staff_member_who_sets_a_password_and_signs_in(browser: Browser, page: Page,
                                                                          stack: Stack) -> None:
    sign_in(page, stack, "owner@demo.clinic", landing="/calendar")
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Team").click()
    expect(page).to_have_url(re.compile(r"/team/?$"))
    page.get_by_label("Full name").fill("Sky Staff")
    page.get_by_label("Email").fill("sky.staff@demo.clinic")
    page.get_by_label("Role", exact=True).select_option("staff")
    page.get_by_role("button", name="Send invite", exact=True).click()
    expect(page.get_by_text("Invite sent to Sky Staff at sky.staff@demo.clinic.")).to_be_visible()
    expect(_team_row(page, "Sky Staff")).to_contain_text("Invited")

    # The same email again: a clear error, nothing sent twice.
    expect(page.get_by_label("Email")).to_have_value("")
    page.get_by_label("Full name").fill("Sky Again")
    page.get_by_label("Email").fill("Sky.Staff@demo.clinic")
    page.get_by_role("button", name="Send invite", exact=True).click()
    expect(page.locator("#invite-error")).to_have_text("sky.staff@demo.clinic is already on your team (Sky Staff).")

    assert stack.mail_to("sky.staff@demo.clinic", "team")  # delivered to the catcher
    page.goto(f"{stack.url}/dev/mail")
    card = page.locator(".caught-mail").filter(has_text="sky.staff@demo.clinic")
    expect(card).to_have_count(1)
    found = re.search(rf"{re.escape(stack.url)}/team-invite/[A-Za-z0-9_-]+", card.inner_text())
    assert found, card.inner_text()

    staff = browser.new_context().new_page()
    staff.goto(found.group(0))
    expect(staff.get_by_text("sky.staff@demo.clinic")).to_be_visible()
    staff.get_by_label("New password").fill(NEW_PASSWORD)
    staff.get_by_label("Confirm password").fill(NEW_PASSWORD)
    staff.get_by_role("button", name="Set password").click()
    expect(staff).to_have_url(re.compile(r"/calendar/?$"), timeout=20_000)
    expect(staff.locator("#signed-in-user")).to_contain_text("Sky Staff")
    staff.goto(found.group(0))
    expect(staff.get_by_role("alert")).to_contain_text("This invite link was already used.")
    staff.context.close()

    fresh = browser.new_context().new_page()
    sign_in(fresh, stack, "sky.staff@demo.clinic", NEW_PASSWORD, landing="/calendar")
    fresh.context.close()
    page.goto(f"{stack.url}/team")
    expect(_team_row(page, "Sky Staff")).to_contain_text("Active")


def _practitioner_with_appointments() -> list[int]:
    """Dr. Rowan Gone (a practitioner of the demo practice only this test uses) with two future
    appointments and a past one; returns the future appointments' ids in time order."""
    with unit_of_work() as s:
        alex = s.exec(select(Client).where(Client.email == "alex@demo.client")).one()
        rowan = User(practice_id=alex.practice_id, email="dr.rowan@demo.clinic", full_name="Dr. Rowan Gone",
                     role=Role.PRACTITIONER, password_hash=hash_password(demo_data.DEMO_PASSWORD))
        s.add(rowan)
        s.flush()
        s.add(PractitionerProfile(user_id=rowan.id or 0, practice_id=alex.practice_id, timezone="America/New_York"))
        rows = [Appointment(practice_id=alex.practice_id, practitioner_id=rowan.id or 0, client_id=alex.id or 0,
                            start_at=now() + ahead, telehealth=telehealth)
                for ahead, telehealth in ((timedelta(days=1), True), (timedelta(days=3), False),
                                          (-timedelta(days=2), False))]
        s.add_all(rows)
        s.flush()
        return [row.id or 0 for row in rows[:2]]


def _rowan_id() -> int:
    with unit_of_work() as s:
        return s.exec(select(User.id).where(User.email == "dr.rowan@demo.clinic")).one() or 0


def test_the_owner_deactivates_a_practitioner_and_sees_their_future_appointments(browser: Browser, page: Page,
                                                                                stack: Stack) -> None:
    future = _practitioner_with_appointments()
    rowan = browser.new_context().new_page()
    sign_in(rowan, stack, "dr.rowan@demo.clinic", landing="/calendar")

    sign_in(page, stack, "owner@demo.clinic", landing="/calendar")
    page.goto(f"{stack.url}/team")
    row = _team_row(page, "Dr. Rowan Gone")

    # The owner edits the practitioner's profile in a small dialog; a bad length loses nothing.
    row.get_by_role("button", name="Edit profile of Dr. Rowan Gone").click()
    edit = page.get_by_role("dialog")
    edit.get_by_label("Credentials (shown to clients)").fill("PhD, Licensed Psychologist")
    edit.get_by_label("Default appointment length (minutes)").fill("300")
    edit.get_by_role("button", name="Save profile").click()
    expect(edit.get_by_role("alert")).to_contain_text("from 15 to 240")
    expect(edit.get_by_label("Credentials (shown to clients)")).to_have_value("PhD, Licensed Psychologist")
    edit.get_by_label("Default appointment length (minutes)").fill("45")
    edit.get_by_role("button", name="Save profile").click()
    expect(page.get_by_text("Profile of Dr. Rowan Gone saved.")).to_be_visible()
    expect(edit).to_have_count(0)
    assert profiles.default_length(_rowan_id()) == 45

    row.get_by_role("button", name="Deactivate Dr. Rowan Gone").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("Dr. Rowan Gone can no longer sign in")
    expect(dialog).to_contain_text("Their 2 future appointments stay booked")
    dialog.get_by_role("button", name="Deactivate").click()

    expect(row).to_contain_text("Deactivated")
    waiting = page.locator(".needs-reassignment").filter(has_text="Dr. Rowan Gone")
    expect(waiting).to_contain_text("2 future appointments need another practitioner")
    links = waiting.get_by_role("link")
    expect(links).to_have_count(2)
    assert [links.nth(i).get_attribute("href") for i in range(2)] == [f"/calendar?appointment={i}" for i in future]
    expect(links.first).to_contain_text("Alex Rivera")
    expect(links.first).to_contain_text("Telehealth")

    # Their open tab is signed out on its next request; signing in again says why it is refused.
    rowan.reload()
    expect(rowan).to_have_url(re.compile(r"/login"), timeout=20_000)
    rowan.get_by_label("Email").fill("dr.rowan@demo.clinic")
    rowan.get_by_label("Password").fill(demo_data.DEMO_PASSWORD)
    rowan.get_by_role("button", name="Sign in").click()
    expect(rowan.get_by_text("Your account has been deactivated by your practice")).to_be_visible()
    rowan.context.close()

    row.get_by_role("button", name="Reactivate Dr. Rowan Gone").click()
    expect(row).to_contain_text("Active")
    expect(page.locator(".needs-reassignment")).to_have_count(0)
