"""Issue 15.4 in Chromium: the owner reads the audit trail, filters it and downloads it as CSV;
a practitioner can open neither the page nor the export."""

from __future__ import annotations

import csv
import io
import re

from playwright.sync_api import Browser, expect

from tests.e2e.conftest import sign_in
from tests.e2e.stack import Stack


def test_the_owner_filters_the_audit_trail_and_downloads_it(browser: Browser, stack: Stack) -> None:
    lee = browser.new_context().new_page()
    sign_in(lee, stack, "dr.lee@demo.clinic", landing="/calendar")  # recorded: Dr. Lee signed in

    owner = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(owner, stack, "owner@demo.clinic", landing="/calendar")
    owner.goto(f"{stack.url}/audit")
    expect(owner.get_by_role("heading", name="Audit")).to_be_visible()
    expect(owner.locator(".audit-entry").first).to_be_visible()
    owner.get_by_label("Person").select_option(label="Dr. Dana Lee (Practitioner)")
    owner.get_by_label("Action").select_option(label="Signed in")
    expect(owner).to_have_url(re.compile(r"person=\d+&action=user\.signed_in"))
    entries = owner.locator(".audit-entry")
    expect(entries.first).to_contain_text("Dr. Dana Lee")
    for text in entries.all_inner_texts():
        assert "Dr. Dana Lee" in text and "Signed in" in text
    # The list fits a 390 px phone: nothing inside it is wider than its box.
    assert owner.locator("ol").evaluate("el => el.scrollWidth <= el.clientWidth")

    with owner.expect_download() as download:
        owner.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename.startswith("audit-")
    with open(download.value.path(), encoding="utf-8") as f:
        rows = list(csv.reader(io.StringIO(f.read())))
    assert rows[0][:4] == ["time", "timezone", "who", "action"]
    assert len(rows) - 1 == entries.count() and all(r[2:5] == ["Dr. Dana Lee", "Signed in", "user.signed_in"]
                                                     for r in rows[1:])

    # A practitioner: no Audit in the navigation, the page refuses, and so does the export.
    expect(lee.get_by_role("link", name="Audit")).to_have_count(0)
    lee.goto(f"{stack.url}/audit")
    expect(lee.locator("#not-allowed")).to_be_visible()
    assert lee.request.get(f"{stack.url}/audit/export.csv", max_redirects=0).status == 403
