"""Issue 25 in the browser, on a new installation in production mode (an empty database, no demo data,
https, secure cookies, no development pages): the owner sets the practice up with the setup code the app
logged, lands on Getting started, invites a practitioner (who sets a password), imports a CSV of clients
with accents, a BOM and semicolons, books one of them, and downloads the practice's data, which holds
that client."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.stack import Stack, run_stack

PASSWORD = "a long owner password"
CSV = ("Legal first name;Legal last name;Email;Mobile Phone\r\n"
       "Élodie;Durand;elodie@fresh.client;(312) 555-0142\r\n"
       "Zoë;Müller;zoe@fresh.client;\r\n")


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # Its own build folder: rebuilding the shared one would pull the pages from under the main stack.
    with run_stack(tmp_path_factory.mktemp("fresh"), {"REFLEX_WEB_WORKDIR": ".web-fresh"}, demo=False,
                   production=True) as running:
        yield running


def _new_page(browser: Browser) -> Page:
    # The stack's TLS proxy has a self-signed certificate.
    return browser.new_context(ignore_https_errors=True).new_page()


def _setup_code(stack: Stack) -> str:
    assert stack.log is not None
    found = re.search(r"No practice yet: open \S+/setup and enter this one-time setup code: (\S+)",
                      stack.log.read_text())
    assert found, "the app did not log a setup code"
    return found.group(1)


def _set_up(page: Page, stack: Stack) -> None:
    page.goto(f"{stack.url}/setup")
    expect(page.get_by_role("heading", name="Set up your practice")).to_be_visible()
    page.get_by_label("Setup code").fill(_setup_code(stack))
    page.get_by_label("Practice name").fill("Clinique Étoile")
    page.get_by_label("Timezone").select_option("America/Chicago")
    page.get_by_label("Country (phone numbers without a country code are its)").select_option("US")
    page.get_by_label("Your name (the owner)").fill("Amélie Owner")
    page.get_by_label("Your email").fill("owner@fresh.clinic")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Set up the practice").click()
    expect(page).to_have_url(re.compile(r"/welcome/?$"), timeout=20_000)
    expect(page.locator("#welcome-steps li")).to_have_count(5, timeout=20_000)


def _invite_practitioner(page: Page, browser: Browser, stack: Stack) -> None:
    page.goto(f"{stack.url}/team")
    page.get_by_label("Full name").fill("Dr. Noé Practitioner")
    page.get_by_label("Email").fill("noe@fresh.clinic")
    page.get_by_label("Role", exact=True).select_option("practitioner")
    page.get_by_role("button", name="Send invite", exact=True).click()
    expect(page.get_by_text("Invite sent to Dr. Noé Practitioner")).to_be_visible(timeout=15_000)
    [mail] = stack.mail_to("noe@fresh.clinic", timeout=30)
    link = re.search(rf"{re.escape(stack.url)}/team-invite/[A-Za-z0-9_-]+", mail.text)
    assert link, mail.text
    noe = _new_page(browser)
    noe.goto(link.group(0))
    noe.get_by_label("New password").fill("Noé's long password")
    noe.get_by_label("Confirm password").fill("Noé's long password")
    noe.get_by_role("button", name="Set password").click()
    expect(noe).to_have_url(re.compile(r"/calendar/?$"), timeout=20_000)
    noe.context.close()


def _import(page: Page, stack: Stack, tmp: Path) -> None:
    file = tmp / "clients.csv"
    file.write_bytes(CSV.encode("utf-8-sig"))
    page.goto(f"{stack.url}/clients")
    page.get_by_role("button", name="Import clients").click()
    dialog = page.get_by_role("dialog")
    dialog.locator("input[type=file]").set_input_files(str(file))
    expect(dialog.locator("#import-summary")).to_contain_text("2 rows", timeout=15_000)
    dialog.get_by_role("button", name="Check the file").click()
    expect(dialog.locator("#import-result")).to_contain_text("2 would be added", timeout=15_000)
    dialog.get_by_role("button", name="Import").click()
    expect(dialog).to_have_count(0, timeout=15_000)
    expect(page.locator(".card-table tbody tr").filter(has_text="Élodie Durand")).to_have_count(1, timeout=15_000)


def _book_elodie(page: Page) -> None:
    page.locator(".card-table tbody tr").filter(has_text="Élodie Durand").get_by_role("link").first.click()
    page.get_by_role("button", name="Book appointment").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.locator("#appt-client-chosen")).to_have_text("Élodie Durand", timeout=20_000)
    dialog.locator("#appt-date").fill((date.today() + timedelta(days=7)).isoformat())
    dialog.locator("#appt-start").fill("10:00")
    dialog.locator("#appt-save").click()
    expect(dialog).to_have_count(0, timeout=15_000)


def _assert_production(page: Page, stack: Stack) -> None:
    """The app runs as a practice runs it: over https, the session cookie Secure and HttpOnly, no
    development pages."""
    assert stack.url.startswith("https://") and page.url.startswith(stack.url)
    [session] = [c for c in page.context.cookies(stack.url) if c["name"] == "th_session"]
    assert session["secure"] and session["httpOnly"], session
    for development_page in ("/dev/mail", "/dev/sms"):
        assert page.request.get(f"{stack.url}{development_page}").status == 404, development_page


def test_a_new_practice_goes_live_from_an_empty_database(browser: Browser, fresh: Stack, tmp_path: Path) -> None:
    page = _new_page(browser)
    _set_up(page, fresh)
    _assert_production(page, fresh)
    assert page.request.get(f"{fresh.url}/setup").status == 404  # gone once set up
    _invite_practitioner(page, browser, fresh)
    _import(page, fresh, tmp_path)
    _book_elodie(page)
    page.goto(f"{fresh.url}/settings")
    with page.expect_download(timeout=30_000) as download:
        page.get_by_role("link", name="Download the practice's data").click()
    archive = zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes()))
    clients = list(csv.DictReader(io.StringIO(archive.read("clients.csv").decode())))
    assert sorted(c["full_name"] for c in clients) == ["Zoë Müller", "Élodie Durand"]
    appointments = list(csv.DictReader(io.StringIO(archive.read("appointments.csv").decode())))
    assert [(a["client"], a["practitioner"], a["status"]) for a in appointments] == [
        ("Élodie Durand", "Dr. Noé Practitioner", "booked")]
