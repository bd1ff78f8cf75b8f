"""Practice settings row actions in the browser send their practitioner's id (issue 10, item 2).
The state-level tests (tests/integration/test_row_actions.py) prove the server acts on that id
even when its own list changed; this one proves the page sends the right id for each row."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect
from sqlmodel import select

from rxapp.db import unit_of_work
from rxapp.dev.demo_data import PRACTICE_NAME  # the main stack holds other practices too
from rxapp.models import Practice, PractitionerProfile, Role, User
from tests.e2e.conftest import sign_in
from tests.e2e.stack import Stack


def _add_practitioner(name: str, email: str) -> int:
    with unit_of_work() as s:
        practice = s.exec(select(Practice).where(Practice.name == PRACTICE_NAME)).one()
        user = User(practice_id=practice.id or 0, email=email, full_name=name, role=Role.PRACTITIONER)
        s.add(user)
        s.flush()
        # Telehealth off, so the other tests' lists (portal, meetings) do not offer them.
        s.add(PractitionerProfile(user_id=user.id or 0, practice_id=practice.id or 0, telehealth_enabled=False))
        return user.id or 0


def _telehealth(email: str) -> bool:
    with unit_of_work() as s:
        user = s.exec(select(User).where(User.email == email)).one()
        return s.get(PractitionerProfile, user.id).telehealth_enabled


def test_the_settings_row_controls_act_on_their_own_practitioner(browser: Browser, stack: Stack,
                                                                zoom_ready: None) -> None:
    page = browser.new_context().new_page()
    sign_in(page, stack, "manager@demo.clinic", landing="/calendar")
    page.goto(f"{stack.url}/settings")
    patel_switch = page.get_by_label("Telehealth for Dr. Priya Patel")
    expect(patel_switch).to_be_checked()
    # Someone adds a practitioner who sorts first; this page has not reloaded its list.
    _add_practitioner("Dr. Aaron Abbott", "abbott@demo.clinic")

    patel_switch.click()
    expect(page.get_by_text("Telehealth disabled for Dr. Priya Patel.")).to_be_visible()
    assert not _telehealth("dr.patel@demo.clinic")
    assert _telehealth("dr.lee@demo.clinic") and not _telehealth("abbott@demo.clinic")
    expect(page.get_by_label("Telehealth for Dr. Aaron Abbott")).not_to_be_checked()  # the list reloaded
    page.get_by_label("Telehealth for Dr. Priya Patel").click()
    expect(page.get_by_text("Telehealth enabled for Dr. Priya Patel.")).to_be_visible()

    # Connect on behalf of Dr. Patel goes to Zoom for her, not for the row now above her.
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name="Dr. Priya Patel"))
    row.get_by_role("button", name="Connect Zoom").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Continue to Zoom").click()
    expect(page).to_have_url(re.compile(re.escape(stack.sandbox_url)), timeout=20_000)
    page.context.close()
