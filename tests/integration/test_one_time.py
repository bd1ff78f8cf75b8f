"""Single-use secrets under concurrency: 20 simultaneous redemptions of one ticket, invite, reset
link, join link or OAuth attempt give exactly one success, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import pytest

from rxapp.dev import demo_data
from rxapp.services.identity import accounts, auth
from rxapp.services.identity.passwords import hash_password
from rxapp.services.telehealth import portal
from rxapp.services.telehealth.zoom import connections
from tests.integration.test_accounts import _invite, _mails, _new_client, _token_in
from tests.integration.test_portal import _live, _token
from tests.integration.zoom_helpers import SignedIn, demo_practice, sign_in

RACERS = 20


def _race(attempt: Callable[[], object], refusal: type[Exception]) -> list[object]:
    """Run `attempt` in RACERS threads released at once; the results of those that were not refused.

    Anything but the expected refusal (a database error, say) fails the test."""
    barrier = threading.Barrier(RACERS)
    refused = object()

    def one(_: int) -> object:
        barrier.wait()
        try:
            return attempt()
        except refusal:
            return refused

    with ThreadPoolExecutor(RACERS) as pool:
        results = list(pool.map(one, range(RACERS)))
    return [r for r in results if r is not refused]


@pytest.fixture
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Twenty argon2 hashes at once would take gigabytes; the race is about the link, not the hash."""
    prepared = hash_password("a brand new secret")
    monkeypatch.setattr(accounts, "_checked_password", lambda password: prepared)


def test_a_sign_in_ticket_gives_one_session_however_many_redeem_it(demo) -> None:
    ticket = auth.check_password("dr.lee@demo.clinic", demo_data.DEMO_PASSWORD)
    sessions = [s for s in _race(lambda: auth.redeem_ticket(ticket), refusal=LookupError) if s is not None]
    assert len(sessions) == 1


def test_an_invite_link_sets_up_one_account_however_many_submit_it(demo, cheap_hashing) -> None:
    token = _invite(_new_client())
    tickets = _race(lambda: accounts.accept_invite(token, "a brand new secret"), refusal=accounts.LinkUnusable)
    assert len(tickets) == 1


def test_a_reset_link_works_once_however_many_submit_it(demo, cheap_hashing) -> None:
    accounts.request_password_reset("sam@demo.client")
    token = _token_in(_mails("sam@demo.client")[-1], "reset-password")
    done = _race(lambda: accounts.reset_password(token, "a brand new secret"), refusal=accounts.LinkUnusable)
    assert len(done) == 1


def test_a_join_link_opens_zoom_once_however_many_requests_race(lee: SignedIn) -> None:
    alex = sign_in("alex@demo.client")
    token = _token(portal.issue_join_link(alex.principal, _live(lee)))
    urls = _race(lambda: portal.redeem_join_link(token, alex.principal), refusal=portal.JoinRefused)
    assert len(urls) == 1 and "pwd=" in str(urls[0])


def test_an_oauth_attempt_is_consumed_once_however_many_callbacks_race(database: str) -> None:
    demo_practice()
    lee = sign_in("dr.lee@demo.clinic")
    url = connections.begin_connect(lee.principal, lee.principal.user_id, lee.token)
    state = parse_qs(urlsplit(url).query)["state"][0]
    consumed = _race(lambda: connections._consume_attempt(state, lee.token), refusal=connections.ConnectRefused)
    assert len(consumed) == 1


def test_a_refused_join_keeps_the_link_for_its_own_client(lee: SignedIn) -> None:
    alex, sam = sign_in("alex@demo.client"), sign_in("sam@demo.client")
    token = _token(portal.issue_join_link(alex.principal, _live(lee)))
    with pytest.raises(portal.JoinRefused, match="someone else"):
        portal.redeem_join_link(token, sam.principal)
    assert "pwd=" in portal.redeem_join_link(token, alex.principal)
    with pytest.raises(portal.JoinRefused, match="already used"):
        portal.redeem_join_link(token, alex.principal)
