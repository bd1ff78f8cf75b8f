"""Sign-in, sessions and lockout against a real database (SQLite and PostgreSQL)."""

from datetime import timedelta

import pytest

from rxapp.services import auth, demo_data
from rxapp.services.clock import now, set_clock

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
    with pytest.raises(auth.InvalidCredentials):
        auth.check_password("manager@demo.clinic", PASSWORD)


def test_the_session_cookie_is_read_from_a_raw_header() -> None:
    assert auth.session_token_from_cookie_header("a=1; th_session=abc; b=2") == "abc"
    assert auth.session_token_from_cookie_header("") is None
