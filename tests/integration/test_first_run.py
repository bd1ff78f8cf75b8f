"""Issue 25.1: an installation with no practice is set up through /setup with a one-time setup code
(then /setup is a 404 and every code dead), or by `manage create-practice` for scripted installs; the
owner lands on the getting-started checklist. On an empty, freshly migrated database: no demo data."""

from __future__ import annotations

import html
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from rxapp.db import unit_of_work
from rxapp.models import AuditEvent, Notification, Practice, User
from rxapp.services.identity import auth
from rxapp.services.practice import setup
from rxapp.settings import get_settings
from tests.integration.zoom_helpers import principal_of

APP = "http://localhost:3000"
SAME_ORIGIN = {"origin": APP, "sec-fetch-site": "same-origin"}
FORM = {"practice_name": "Rivière Therapy", "timezone": "Europe/Paris", "country": "FR",
        "address": "3 rue des Lilas, Lyon", "pos_code": "02", "owner_name": "Amélie Dubois",
        "owner_email": "Amelie@Riviere.example", "password": "a long owner password", "password_again":
        "a long owner password"}


@pytest.fixture
def client(database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    from rxapp import api

    monkeypatch.setenv("APP_URL", APP)
    get_settings.cache_clear()
    yield TestClient(api.build(), base_url=APP, follow_redirects=False)
    get_settings.cache_clear()


def _practices() -> list[Practice]:
    with unit_of_work() as s:
        return list(s.exec(select(Practice)).all())


def test_the_setup_page_needs_the_code_makes_the_practice_and_its_owner_then_is_gone(client: TestClient) -> None:
    assert setup.needs_setup()
    page = client.get("/setup")
    assert page.status_code == 200 and "Set up your practice" in page.text and "name=viewport" in page.text
    code = setup.new_setup_code()
    assert code is not None
    # From another site: refused before anything is read.
    assert client.post("/setup", data={**FORM, "code": code}, headers={"origin": "https://evil.example"}).status_code \
        == 403
    # A wrong code: the form again, with what was typed (never the password) and the message.
    wrong = client.post("/setup", data={**FORM, "code": "not-the-code"}, headers=SAME_ORIGIN)
    assert wrong.status_code == 403 and "That setup code is not valid" in wrong.text
    assert "Rivière Therapy" in wrong.text and "a long owner password" not in wrong.text
    # Bad fields: each says what is wrong; nothing is claimed.
    bad = client.post("/setup", data={**FORM, "code": code, "timezone": "Mars/Olympus", "country": "XX",
                                      "password_again": "something else", "owner_email": "nope"},
                      headers=SAME_ORIGIN)
    assert bad.status_code == 422
    for message in ("Choose the practice's timezone", "Choose the practice's country", "name@example.com",
                    "The two passwords differ."):
        assert message in html.unescape(bad.text)
    assert _practices() == []
    done = client.post("/setup", data={**FORM, "code": code}, headers=SAME_ORIGIN)
    assert done.status_code == 303 and done.headers["location"] == "/welcome"
    cookie = done.cookies.get(get_settings().session_cookie_name)
    assert cookie and auth.principal_for_token(cookie) is not None
    [practice] = _practices()
    assert (practice.name, practice.timezone, practice.country, practice.default_pos_code) == (
        "Rivière Therapy", "Europe/Paris", "FR", "02")
    with unit_of_work() as s:
        owner = s.exec(select(User)).one()
        assert (owner.email, owner.full_name, owner.role) == ("amelie@riviere.example", "Amélie Dubois", "owner")
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "practice.created")).first() is not None
    assert auth.check_password("amelie@riviere.example", "a long owner password")
    # The page is gone and the code dead; a new code is not even made.
    assert client.get("/setup").status_code == 404
    assert client.post("/setup", data={**FORM, "code": code}, headers=SAME_ORIGIN).status_code == 404
    assert setup.new_setup_code() is None
    # The owner's checklist: nothing done yet but what setup did.
    steps = setup.checklist(principal_of("amelie@riviere.example"))
    assert [s.done for s in steps] == [False, False, False, True, False]


def test_two_people_racing_with_codes_make_one_practice(client: TestClient) -> None:
    first = setup.new_setup_code()
    second = setup.new_setup_code()  # retires the first
    assert first and second
    with pytest.raises(setup.SetupRefused):
        setup.set_up(first, setup.PracticeForm(**FORM))
    results: list[object] = [None] * 6
    barrier = threading.Barrier(6)

    def race(i: int) -> None:
        barrier.wait()
        try:
            results[i] = setup.set_up(second, setup.PracticeForm(**{**FORM, "owner_email": f"o{i}@x.example"}))
        except Exception as exc:  # collected below
            results[i] = exc

    threads = [threading.Thread(target=race, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(_practices()) == 1
    assert sum(isinstance(r, str) for r in results) == 1
    assert all(isinstance(r, setup.SetupRefused) for r in results if not isinstance(r, str)), results


def test_a_scripted_install_creates_the_practice_and_prints_the_owners_invite_link(database: str) -> None:
    run = subprocess.run([sys.executable, "-m", "rxapp.manage", "create-practice", "--name", "Zoë Physio",
                          "--owner-email", "zoe@physio.example", "--owner-name", "Zoë Müller", "--timezone",
                          "Europe/Berlin", "--country", "de"], capture_output=True, text=True, check=True)
    assert "/team-invite/" in run.stdout, run.stdout + run.stderr
    [practice] = _practices()
    assert (practice.name, practice.country) == ("Zoë Physio", "DE")
    with unit_of_work() as s:
        owner = s.exec(select(User)).one()
        assert owner.password_hash is None and owner.role == "owner"
        [mail] = s.exec(select(Notification).where(Notification.to_address == "zoe@physio.example")).all()
    assert run.stdout.split()[-1] in mail.body_text
    # Refused: missing arguments, a taken email, a bad country.
    again = subprocess.run([sys.executable, "-m", "rxapp.manage", "create-practice", "--name", "Other",
                            "--owner-email", "zoe@physio.example"], capture_output=True, text=True)
    assert again.returncode != 0 and "already signs in" in again.stderr
    bad = subprocess.run([sys.executable, "-m", "rxapp.manage", "create-practice", "--name", "Other",
                          "--owner-email", "x@y.example", "--country", "ZZ"], capture_output=True, text=True)
    assert bad.returncode != 0 and "country" in bad.stderr
    assert len(_practices()) == 1
    # The setup page is gone once any practice exists.
    code = subprocess.run([sys.executable, "-m", "rxapp.manage", "setup-code"], capture_output=True, text=True)
    assert code.returncode != 0 and "has its practice already" in code.stderr
