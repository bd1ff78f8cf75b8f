"""Sign-in, sessions and lockout against a real database (SQLite and PostgreSQL)."""

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from rxapp.clock import now, set_clock
from rxapp.dev import demo_data
from rxapp.services.identity import auth

PASSWORD = demo_data.DEMO_PASSWORD




def _sign_in(email: str, password: str = PASSWORD) -> auth.NewSession:
    new = auth.redeem_ticket(auth.check_password(email, password))
    assert new is not None
    return new


def test_a_good_password_gives_a_session_for_that_user(demo) -> None:
    new = _sign_in("Dr.Lee@Demo.Clinic ")
    principal = auth.principal_for_token(new.token)
    assert principal is not None and principal.email == "dr.lee@demo.clinic"
    assert principal.role == "practitioner"


def test_wrong_password_and_unknown_email_say_the_same(demo) -> None:
    with pytest.raises(auth.InvalidCredentials) as wrong:
        auth.check_password("dr.lee@demo.clinic", "nope")
    with pytest.raises(auth.InvalidCredentials) as unknown:
        auth.check_password("nobody@demo.clinic", "nope")
    assert str(wrong.value) == str(unknown.value) == auth.INVALID_CREDENTIALS_MESSAGE


def test_a_ticket_works_once_and_only_briefly(demo) -> None:
    ticket = auth.check_password("dr.lee@demo.clinic", PASSWORD)
    assert auth.redeem_ticket(ticket) is not None
    assert auth.redeem_ticket(ticket) is None
    late = auth.check_password("dr.lee@demo.clinic", PASSWORD)
    start = now()
    set_clock(lambda: start + timedelta(minutes=2))
    assert auth.redeem_ticket(late) is None


def test_five_failures_lock_the_account_for_fifteen_minutes(demo) -> None:
    start = now()
    set_clock(lambda: start)
    for _ in range(4):
        with pytest.raises(auth.InvalidCredentials):
            auth.check_password("sam@demo.client", "wrong")
    with pytest.raises(auth.AccountLocked) as locked:
        auth.check_password("sam@demo.client", "wrong")
    assert locked.value.until == start + timedelta(minutes=15)
    with pytest.raises(auth.AccountLocked):  # even the right password
        auth.check_password("sam@demo.client", PASSWORD)
    set_clock(lambda: start + timedelta(minutes=15, seconds=1))
    assert auth.check_password("sam@demo.client", PASSWORD)


def test_failures_spread_beyond_the_window_do_not_lock(demo) -> None:
    start = now()
    for i in range(8):
        set_clock(lambda i=i: start + timedelta(minutes=4 * i))
        with pytest.raises(auth.InvalidCredentials):
            auth.check_password("jo@demo.client", "wrong")


def test_unknown_emails_lock_too_so_a_lock_reveals_nothing(demo) -> None:
    for _ in range(4):
        with pytest.raises(auth.InvalidCredentials):
            auth.check_password("ghost@demo.clinic", "x")
    with pytest.raises(auth.AccountLocked):
        auth.check_password("ghost@demo.clinic", "x")


def test_idle_sessions_expire(demo) -> None:
    new = _sign_in("frontdesk@demo.clinic")
    start = now()
    set_clock(lambda: start + timedelta(minutes=59))
    assert auth.principal_for_token(new.token) is not None  # activity keeps it alive
    set_clock(lambda: start + timedelta(minutes=59 + 61))
    assert auth.principal_for_token(new.token) is None


def test_sessions_end_at_the_absolute_limit_despite_activity(demo) -> None:
    new = _sign_in("frontdesk@demo.clinic")
    start = now()
    for minutes in range(30, 12 * 60, 30):
        set_clock(lambda m=minutes: start + timedelta(minutes=m))
        assert auth.principal_for_token(new.token) is not None
    set_clock(lambda: start + timedelta(hours=12, seconds=1))
    assert auth.principal_for_token(new.token) is None


def test_signing_out_kills_the_cookie(demo) -> None:
    new = _sign_in("owner@demo.clinic")
    auth.sign_out(new.token)
    assert auth.principal_for_token(new.token) is None


def test_inactive_users_cannot_sign_in_or_keep_sessions(demo) -> None:
    from sqlmodel import select

    from rxapp.db import unit_of_work
    from rxapp.models import User

    new = _sign_in("manager@demo.clinic")
    with unit_of_work() as s:
        s.exec(select(User).where(User.email == "manager@demo.clinic")).one().is_active = False
    assert auth.principal_for_token(new.token) is None
    with pytest.raises(auth.AccountDeactivated, match="deactivated by your practice"):
        auth.check_password("manager@demo.clinic", PASSWORD)
    with pytest.raises(auth.InvalidCredentials):
        auth.check_password("manager@demo.clinic", "not the password")


def test_the_session_cookie_is_read_from_a_raw_header() -> None:
    assert auth.session_token_from_cookie_header("a=1; th_session=abc; b=2") == "abc"
    assert auth.session_token_from_cookie_header("") is None


@pytest.fixture
def counted_checks(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How many password hashes were checked, and the most checked at the same moment."""
    seen = {"checked": 0, "running": 0, "most_at_once": 0}
    lock = threading.Lock()
    real = auth.verify_password

    def counting(password_hash: str | None, password: str) -> bool:
        with lock:
            seen["checked"] += 1
            seen["running"] += 1
            seen["most_at_once"] = max(seen["most_at_once"], seen["running"])
        try:
            return real(password_hash, password)
        finally:
            with lock:
                seen["running"] -= 1

    monkeypatch.setattr(auth, "verify_password", counting)
    return seen


def _all_at_once(attempts: list[Callable[[], object]]) -> list[object]:
    """Run the attempts in threads released together; each result is its value or its exception."""
    barrier = threading.Barrier(len(attempts))

    def one(attempt: Callable[[], object]) -> object:
        barrier.wait()
        try:
            return attempt()
        except Exception as exc:  # the test inspects which
            return exc

    with ThreadPoolExecutor(len(attempts)) as pool:
        return list(pool.map(one, attempts))


def test_22_concurrent_wrong_passwords_check_five_and_refuse_the_rest_as_locked(demo, counted_checks) -> None:
    results = _all_at_once([lambda: auth.check_password("sam@demo.client", "wrong", "203.0.113.7")] * 22)
    assert counted_checks["checked"] == 5
    assert sum(isinstance(r, auth.InvalidCredentials) for r in results) == 4
    assert sum(isinstance(r, auth.AccountLocked) for r in results) == 18
    with pytest.raises(auth.AccountLocked):  # the right password too, and without a check
        auth.check_password("sam@demo.client", PASSWORD, "203.0.113.7")
    assert counted_checks["checked"] == 5


def test_a_stranger_locks_only_their_own_address_out(demo) -> None:
    for _ in range(5):
        with pytest.raises((auth.InvalidCredentials, auth.AccountLocked)):
            auth.check_password("sam@demo.client", "guess", "198.51.100.66")
    with pytest.raises(auth.AccountLocked):
        auth.check_password("sam@demo.client", PASSWORD, "198.51.100.66")
    assert auth.redeem_ticket(auth.check_password("sam@demo.client", PASSWORD, "192.0.2.10")) is not None


def test_a_flood_of_sign_ins_checks_only_two_hashes_at_a_time(demo, counted_checks) -> None:
    people = ["owner@demo.clinic", "manager@demo.clinic", "dr.lee@demo.clinic", "dr.patel@demo.clinic",
              "frontdesk@demo.clinic", "alex@demo.client", "sam@demo.client", "jo@demo.client"]
    results = _all_at_once([lambda e=e: auth.check_password(e, PASSWORD, "192.0.2.1") for e in people])
    assert all(isinstance(r, str) for r in results)
    assert counted_checks["checked"] == len(people) and counted_checks["most_at_once"] <= 2


def test_sign_in_from_async_code_leaves_the_default_threads_free(demo, counted_checks) -> None:
    """While eight sign-ins are being checked, other work on the default thread pool still runs."""
    async def scenario() -> tuple[list[object], bool]:
        sign_ins = [asyncio.ensure_future(auth.sign_in("owner@demo.clinic", PASSWORD, f"192.0.2.{i}"))
                    for i in range(8)]
        await asyncio.to_thread(lambda: None)  # other users' work gets a thread at once
        still_checking = not all(task.done() for task in sign_ins)
        return await asyncio.gather(*sign_ins, return_exceptions=True), still_checking

    results, still_checking = asyncio.run(scenario())
    assert all(isinstance(r, str) for r in results) and still_checking
    assert counted_checks["most_at_once"] <= 2
