"""Issue 25.2: with `PRACTICE_SIGNUP=open`, /signup creates a practice and its owner, who must confirm
their email (a one-time link, 24 hours) before the practice sends anything to anyone else; closed
(the default), /signup is a 404. Through the HTTP routes, on both databases."""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from rxapp import clock
from rxapp.db import unit_of_work
from rxapp.models import AuditEvent, Client, Notification, NotificationStatus, Practice, User
from rxapp.services.identity import accounts, auth
from rxapp.services.notify import outbox
from rxapp.services.practice import setup, signup
from rxapp.settings import get_settings
from tests.integration.zoom_helpers import principal_of

APP = "http://localhost:3000"
SAME_ORIGIN = {"origin": APP, "sec-fetch-site": "same-origin"}
PASSWORD = "a long owner password"
FORM = {"practice_name": "Harbour Speech Therapy", "timezone": "Australia/Sydney", "country": "AU",
        "address": "", "pos_code": "10", "owner_name": "Mia Harbour", "owner_email": "Mia@Harbour.example",
        "password": PASSWORD, "password_again": PASSWORD}


def _client(monkeypatch: pytest.MonkeyPatch, signup_setting: str) -> TestClient:
    from rxapp import api

    monkeypatch.setenv("APP_URL", APP)
    monkeypatch.setenv("PRACTICE_SIGNUP", signup_setting)
    monkeypatch.setattr(api, "_recent_signups", {})
    get_settings.cache_clear()
    return TestClient(api.build(), base_url=APP, follow_redirects=False)


@pytest.fixture
def web(database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    yield _client(monkeypatch, "open")
    get_settings.cache_clear()


def _sent() -> list[outbox.OutgoingEmail]:
    sent: list[outbox.OutgoingEmail] = []
    outbox.deliver_due(send=sent.append)
    return sent


def _link(mail: outbox.OutgoingEmail) -> str:
    found = re.search(r"http://localhost:3000(/confirm-email/\S+)", mail.text)
    assert found, mail.text
    return found.group(1)


def _practice(name: str) -> Practice:
    with unit_of_work() as s:
        return s.exec(select(Practice).where(Practice.name == name)).one()


def test_closed_by_default_signup_is_a_404_and_makes_nothing(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRACTICE_SIGNUP", raising=False)
    get_settings.cache_clear()
    assert get_settings().practice_signup == "closed"
    web = _client(monkeypatch, "closed")
    assert web.get("/signup").status_code == 404
    assert web.post("/signup", data=FORM, headers=SAME_ORIGIN).status_code == 404
    with pytest.raises(signup.SignupClosed):
        signup.sign_up(setup.PracticeForm(**FORM))
    with unit_of_work() as s:
        assert s.exec(select(Practice)).first() is None


def test_a_signed_up_practice_sends_nothing_but_the_confirmation_until_the_owner_confirms(web: TestClient) -> None:
    page = web.get("/signup")
    assert page.status_code == 200 and "Create your practice" in page.text and "Setup code" not in page.text
    # From another site: refused, nothing made.
    assert web.post("/signup", data=FORM, headers={"origin": "https://evil.example"}).status_code == 403
    made = web.post("/signup", data=FORM, headers=SAME_ORIGIN)
    assert made.status_code == 303 and made.headers["location"] == "/welcome"
    cookie = made.cookies.get(get_settings().session_cookie_name)
    owner = auth.principal_for_token(cookie or "")
    assert owner is not None and owner.role == "owner"
    practice = _practice("Harbour Speech Therapy")
    assert practice.email_verified_at is None and practice.id == owner.practice_id
    with unit_of_work() as s:
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "practice.signed_up",
                                               AuditEvent.practice_id == practice.id)).first() is not None

    # The owner adds a client and invites them to the portal: the invite waits.
    with unit_of_work() as s:
        client = Client(practice_id=practice.id or 0, full_name="Zoë Ng", first_name="Zoë", last_name="Ng",
                        email="zoe@client.example")
        s.add(client)
        s.flush()
        client_id = client.id or 0
    accounts.send_portal_invite(owner, client_id)
    state = signup.confirmation(owner)
    assert (state.confirmed, state.email, state.waiting) == (False, "mia@harbour.example", 1)
    [confirmation] = _sent()
    assert confirmation.to == "mia@harbour.example" and "Confirm your email" in confirmation.subject
    assert _sent() == []  # the invite is still waiting
    with unit_of_work() as s:
        invite = s.exec(select(Notification).where(Notification.to_address == "zoe@client.example")).one()
        assert invite.status == NotificationStatus.PENDING and invite.attempts == 0

    # Opening the link (a mail scanner does that too) confirms nothing; the button does, once.
    path = _link(confirmation)
    shown = web.get(path)
    assert shown.status_code == 200 and "Confirm my email" in shown.text and "mia@harbour.example" in shown.text
    assert _practice("Harbour Speech Therapy").email_verified_at is None
    assert web.post(path, headers={"origin": "https://evil.example"}).status_code == 403
    done = web.post(path, headers=SAME_ORIGIN)
    assert done.status_code == 200 and "Email confirmed" in done.text
    assert _practice("Harbour Speech Therapy").email_verified_at is not None
    again = web.post(path, headers=SAME_ORIGIN)
    assert again.status_code == 410 and "already used" in html.unescape(again.text)
    assert [m.to for m in _sent()] == ["zoe@client.example"]  # the waiting invite goes now
    assert signup.confirmation(owner).confirmed
    with pytest.raises(signup.ResendRefused, match="confirmed already"):
        signup.resend_confirmation(owner)


def test_bad_forms_taken_emails_and_a_flood_from_one_address_make_nothing(web: TestClient) -> None:
    bad = web.post("/signup", data={**FORM, "owner_email": "nope", "password": "short", "password_again": "short"},
                   headers=SAME_ORIGIN)
    assert bad.status_code == 422 and "name@example.com" in html.unescape(bad.text)
    assert "Harbour Speech Therapy" in bad.text and PASSWORD not in bad.text
    assert web.post("/signup", data=FORM, headers=SAME_ORIGIN).status_code == 303
    # The same email again (any case): refused with what to do; no second practice.
    taken = web.post("/signup", data={**FORM, "practice_name": "Other", "owner_email": "MIA@harbour.example"},
                     headers=SAME_ORIGIN)
    assert taken.status_code == 422 and signup.EMAIL_TAKEN in html.unescape(taken.text)
    for n in range(3):  # four made from this address in all (the first one above) ...
        assert web.post("/signup", data={**FORM, "owner_email": f"o{n}@x.example"}, headers=SAME_ORIGIN) \
            .status_code == 303
    # ... the fifth is the last within the hour.
    assert web.post("/signup", data={**FORM, "owner_email": "o4@x.example"}, headers=SAME_ORIGIN).status_code == 303
    flood = web.post("/signup", data={**FORM, "owner_email": "o5@x.example"}, headers=SAME_ORIGIN)
    assert flood.status_code == 429 and "Too many practices" in flood.text
    with unit_of_work() as s:
        assert len(s.exec(select(Practice)).all()) == 5
        assert s.exec(select(User).where(User.email == "o5@x.example")).first() is None


def test_two_tabs_signing_up_one_email_at_once_make_one_practice(database: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRACTICE_SIGNUP", "open")
    get_settings.cache_clear()
    results: list[str] = []
    barrier = threading.Barrier(4)

    def racer(n: int) -> None:
        barrier.wait()
        try:
            signup.sign_up(setup.PracticeForm(**{**FORM, "practice_name": f"Racer {n}"}))
            results.append("made")
        except setup.SetupInvalid as exc:
            results.append(exc.errors["owner_email"])

    threads = [threading.Thread(target=racer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == sorted(["made"] + [signup.EMAIL_TAKEN] * 3)
    with unit_of_work() as s:
        assert len(s.exec(select(Practice)).all()) == 1
    get_settings.cache_clear()


@contextmanager
def _at(moment: datetime) -> Iterator[None]:
    clock.set_clock(lambda: moment)
    try:
        yield
    finally:
        clock.set_clock(None)


def test_the_link_works_for_a_day_and_a_new_one_retires_the_old(web: TestClient) -> None:
    assert web.post("/signup", data=FORM, headers=SAME_ORIGIN).status_code == 303
    [first] = _sent()
    owner = principal_of("mia@harbour.example")
    with pytest.raises(signup.ResendRefused, match="less than a minute"):
        signup.resend_confirmation(owner)
    later = clock.now() + timedelta(minutes=2)
    with _at(later):
        assert signup.resend_confirmation(owner) == "mia@harbour.example"
        [second] = _sent()
        assert "expired" in html.unescape(web.get(_link(first)).text)  # replaced: as good as expired
        assert web.post(_link(first), headers=SAME_ORIGIN).status_code == 410
    with _at(later + timedelta(hours=24, minutes=1)):
        expired = web.post(_link(second), headers=SAME_ORIGIN)
        assert expired.status_code == 410 and "expired" in html.unescape(expired.text)
    assert _practice("Harbour Speech Therapy").email_verified_at is None
    with _at(later + timedelta(hours=23)):
        assert web.post(_link(second), headers=SAME_ORIGIN).status_code == 200
    assert _practice("Harbour Speech Therapy").email_verified_at is not None


def test_practices_made_by_the_operator_send_at_once(web: TestClient) -> None:
    """The first run's practice (and the demo's, `manage create-practice`'s) is confirmed from the start."""
    code = setup.new_setup_code()
    assert code is not None
    setup.set_up(code, setup.PracticeForm(**{**FORM, "owner_email": "first@run.example"}))
    assert _practice("Harbour Speech Therapy").email_verified_at is not None
    owner = principal_of("first@run.example")
    assert signup.confirmation(owner).confirmed
    with unit_of_work() as s:
        assert s.exec(select(Notification)).first() is None
