"""Issue 25.3 in the browser: the front desk imports a CSV with a BOM, semicolons and accents from the
Clients page: the columns are guessed, the check lists each row's problems, and Import adds the clients."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import delete
from sqlmodel import col

from rxapp.db import unit_of_work
from rxapp.models import AuditEvent, Client
from tests.e2e.flows import sign_in_as
from tests.e2e.stack import Stack

EMAILS = ["renee.import@new.client", "zoe.import@new.client"]
CSV = ("Legal first name;Legal last name;Email;Mobile Phone;DOB\r\n"
       "Renée;Dupré;renee.import@new.client;(312) 555-0177;1990-04-23\r\n"
       "Zoë;Müller;zoe.import@new.client;;\r\n"
       "Bad;Row;not-an-email;;\r\n")


@pytest.fixture
def csv_file(tmp_path: Path, stack: Stack) -> Iterator[Path]:
    path = tmp_path / "clients.csv"
    path.write_bytes(CSV.encode("utf-8-sig"))
    yield path
    with unit_of_work() as s:
        s.execute(delete(Client).where(col(Client.email).in_(EMAILS)))
        s.execute(delete(AuditEvent).where(col(AuditEvent.action) == "clients.imported"))


def test_the_front_desk_imports_a_csv_with_a_bom_semicolons_and_accents(page: Page, stack: Stack,
                                                                      csv_file: Path) -> None:
    sign_in_as(page, stack, "frontdesk")
    page.goto(f"{stack.url}/clients")
    page.get_by_role("button", name="Import clients").click()
    dialog = page.get_by_role("dialog")
    dialog.locator("input[type=file]").set_input_files(str(csv_file))
    expect(dialog.locator("#import-summary")).to_contain_text("3 rows · UTF-8 (with BOM) · separated by semicolons",
                                                             timeout=15_000)
    expect(dialog.locator("#map-first_name")).to_have_value("0")
    expect(dialog.locator("#map-email")).to_have_value("2")
    expect(dialog.get_by_role("button", name="Import")).to_be_disabled()
    dialog.get_by_role("button", name="Check the file").click()
    expect(dialog.locator("#import-result")).to_contain_text("2 would be added", timeout=15_000)
    expect(dialog.locator(".card-table tbody tr").filter(has_text="not-an-email")).to_contain_text(
        "not an email address")
    dialog.get_by_role("button", name="Import").click()
    expect(dialog).to_have_count(0, timeout=15_000)
    page.get_by_label("Search clients").fill("renee")
    expect(page.locator(".card-table tbody tr").filter(has_text="Renée Dupré")).to_have_count(1, timeout=15_000)
    with unit_of_work() as s:
        from sqlmodel import select
        found = s.exec(select(Client).where(col(Client.email).in_(EMAILS))).all()
        assert sorted(c.full_name for c in found) == ["Renée Dupré", "Zoë Müller"]
        assert next(c for c in found if c.full_name == "Renée Dupré").phone == "+13125550177"
