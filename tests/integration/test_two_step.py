"""Issue 24 items 5 and 6: two-step sign-in for staff (TOTP, recovery codes, required by the owner,
reset by the owner) and the signed-in sessions a person sees and ends, with idle and absolute expiry
on a movable clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from rxapp.clock import now, set_clock
from rxapp.db import unit_of_work
from rxapp.dev.demo_data import DEMO_PASSWORD as PASSWORD
from rxapp.models import AuditEvent, MfaRecoveryCode, Notification, User
from rxapp.services.identity import auth, mfa, sessions
from rxapp.services.permissions import NotAllowed
from tests.integration.zoom_helpers import principal_of

LEE, OWNER, ALEX = "dr.lee@demo.clinic", "owner@demo.clinic", "alex@demo.client"


@pytest.fixture
def clock() -> Iterator[list[datetime]]:
    """A clock the test moves (starts at the wall clock's now)."""
    moment = [now()]
    set_clock(lambda: moment[0])
    yield moment
    set_clock(None)


def _user(email: str) -> User:
    with unit_of_work() as s:
        return s.exec(select(User).where(User.email == email)).one()


def _enrol(email: str) -> tuple[str, list[str]]:
    """Two-step sign-in on for `email`; returns (secret, recovery codes)."""
    enrolment = mfa.begin(principal_of(email))
    assert enrolment.uri.startswith("otpauth://totp/") and enrolment.qr.startswith("data:image/svg+xml")
    return enrolment.secret, mfa.enable(principal_of(email), enrolment.secret, mfa.code_at(enrolment.secret, now()))


def _password_ok(email: str) -> str:
    return auth.check_password(email, PASSWORD, source="203.0.113.9")


def test_an_authenticator_code_is_the_second_step_and_never_works_twice(demo, clock) -> None:
    secret, codes = _enrol(LEE)
    assert len(codes) == 10 and len(set(codes)) == 10
    with unit_of_work() as s:
        stored = s.get(User, _user(LEE).id)
        assert stored is not None and stored.mfa_secret_encrypted and secret not in stored.mfa_secret_encrypted
        assert all(c not in {r.code_hash for r in s.exec(select(MfaRecoveryCode))} for c in codes)
    clock[0] += timedelta(seconds=90)  # the enrolment's code is history
    ticket = _password_ok(LEE)
    assert auth.second_step(ticket) == "code"
    assert auth.redeem_ticket(ticket) is None  # a password alone is never a cookie
    with pytest.raises(mfa.CodeRejected):
        auth.verify_second_step(ticket, "000000", source="203.0.113.9")
    code = mfa.code_at(secret, now())
    session_ticket = auth.verify_second_step(ticket, code, source="203.0.113.9")
    assert auth.redeem_ticket(session_ticket) is not None
    # The same code, seen over a shoulder, within its window: refused.
    again = _password_ok(LEE)
    with pytest.raises(mfa.CodeRejected, match="used already"):
        auth.verify_second_step(again, code)
    # The code of the next step works; a recovery code works once.
    clock[0] += timedelta(seconds=30)
    assert auth.verify_second_step(again, mfa.code_at(secret, now()))
    assert auth.verify_second_step(_password_ok(LEE), codes[0])
    with pytest.raises(mfa.CodeRejected):
        auth.verify_second_step(_password_ok(LEE), codes[0])
    assert mfa.status(principal_of(LEE)).recovery_codes_left == 9


def test_enrolment_without_a_secret_of_ours_is_refused(demo, clock) -> None:
    """A replayed "Turn on" with no (or a made-up, weak) secret: the code of an empty key is known to
    anyone, so it must not turn two-step sign-in on."""
    empty_key_code = mfa.hotp(b"", mfa.step_at(now()))
    for secret, code in (("", empty_key_code), ("AAAA", mfa.code_at("AAAA", now())), ("not base32!", "123456")):
        with pytest.raises(mfa.CodeRejected):
            mfa.enable(principal_of(LEE), secret, code)
    assert not mfa.status(principal_of(LEE)).enabled


def test_wrong_codes_count_toward_the_password_lockout(demo, clock) -> None:
    _enrol(LEE)
    ticket = _password_ok(LEE)
    for _ in range(4):
        with pytest.raises(mfa.CodeRejected):
            auth.verify_second_step(ticket, "123456", source="203.0.113.9")
    with pytest.raises(auth.AccountLocked):
        auth.verify_second_step(ticket, "123456", source="203.0.113.9")
    with pytest.raises(auth.AccountLocked):  # the password is locked out too, from that address
        _password_ok(LEE)


def test_the_owner_requires_it_and_staff_enrol_at_sign_in_but_clients_are_never_asked(demo, clock) -> None:
    with pytest.raises(NotAllowed):
        mfa.set_required(principal_of(LEE), True)
    mfa.set_required(principal_of(OWNER), True)
    ticket = _password_ok(LEE)
    assert auth.second_step(ticket) == "enrol"
    enrolment = auth.enrolment_for(ticket)
    with pytest.raises(mfa.CodeRejected):
        auth.enrol_at_sign_in(ticket, enrolment.secret, "000000")
    session_ticket, codes = auth.enrol_at_sign_in(ticket, enrolment.secret, mfa.code_at(enrolment.secret, now()))
    assert len(codes) == 10 and auth.redeem_ticket(session_ticket) is not None
    assert mfa.status(principal_of(LEE)).enabled
    # Off needs the password, and a practice that requires it keeps it on.
    with pytest.raises(NotAllowed, match="requires"):
        mfa.disable(principal_of(LEE), PASSWORD)
    mfa.set_required(principal_of(OWNER), False)
    with pytest.raises(mfa.CodeRejected, match="password"):
        mfa.disable(principal_of(LEE), "wrong")
    mfa.disable(principal_of(LEE), PASSWORD)
    assert not mfa.status(principal_of(LEE)).enabled
    # Clients sign in with their password alone, whatever the practice requires of staff.
    mfa.set_required(principal_of(OWNER), True)
    assert auth.second_step(auth.check_password(ALEX, PASSWORD)) == ""
    with pytest.raises(NotAllowed):
        mfa.begin(principal_of(ALEX))
    with unit_of_work() as s:
        actions = [e.action for e in s.exec(select(AuditEvent).where(AuditEvent.action.like("%mfa%")))]  # type: ignore[attr-defined]
    assert actions.count("user.mfa_enabled") == 1 and actions.count("user.mfa_disabled") == 1
    assert actions.count("practice.mfa_required") == 2 and actions.count("practice.mfa_not_required") == 1


def test_the_owner_resets_a_lost_device_the_member_is_signed_out_and_told(demo, clock) -> None:
    _enrol(LEE)
    clock[0] += timedelta(seconds=90)
    lee_session = _session(LEE, IPHONE, "10.0.0.7")
    assert auth.principal_for_token(lee_session.token) is not None
    with pytest.raises(NotAllowed):
        mfa.reset_for(principal_of("manager@demo.clinic"), _user(LEE).id or 0)
    assert mfa.reset_for(principal_of(OWNER), _user(LEE).id or 0) == "Dr. Dana Lee"
    assert auth.principal_for_token(lee_session.token) is None
    assert not mfa.status(principal_of(LEE)).enabled
    with unit_of_work() as s:
        [mail] = s.exec(select(Notification).where(Notification.to_address == LEE,
                                                   Notification.subject == "Your two-step sign-in was reset")).all()
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "user.mfa_reset")).first() is not None
    assert "signed out everywhere" in mail.body_text
    with pytest.raises(NotAllowed):  # a client's id, or another practice's, is nobody to reset
        mfa.reset_for(principal_of(OWNER), _user(ALEX).id or 0)


def _session(email: str, agent: str, source: str) -> auth.NewSession:
    with unit_of_work() as s:
        ticket = auth.issue_ticket(s, s.exec(select(User).where(User.email == email)).one())
    new = auth.redeem_ticket(ticket, agent, source)
    assert new is not None
    return new


IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.5 Mobile/15E148 Safari/604.1")
WINDOWS_EDGE = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0")


def test_my_sessions_say_where_and_each_can_be_ended_and_only_mine(demo, clock) -> None:
    here = _session(LEE, WINDOWS_EDGE, "81.2.69.142")
    phone = _session(LEE, IPHONE, "10.0.0.7")
    owners = _session(OWNER, IPHONE, "127.0.0.1")
    lee = principal_of(LEE)
    listed = sessions.my_sessions(lee, here.token)
    assert [(s.browser, s.device, s.place, s.current) for s in listed] == [
        ("Edge", "Windows", "Internet 81.2.69.x", True), ("Safari", "iPhone", "Local network", False)]
    with pytest.raises(NotAllowed):  # the owner's session id, sent by Lee
        sessions.end_session(lee, sessions.my_sessions(principal_of(OWNER), owners.token)[0].id)
    assert auth.principal_for_token(owners.token) is not None
    sessions.end_session(lee, listed[1].id)
    assert auth.principal_for_token(phone.token) is None and auth.principal_for_token(here.token) is not None
    again = _session(LEE, IPHONE, "10.0.0.8")
    assert sessions.end_other_sessions(lee, here.token) == 1
    assert auth.principal_for_token(again.token) is None and auth.principal_for_token(here.token) is not None


def test_a_session_ends_after_60_idle_minutes_and_after_12_hours_whatever(demo, clock) -> None:
    idle = _session(LEE, IPHONE, "10.0.0.7")
    clock[0] += timedelta(minutes=59)
    assert auth.principal_for_token(idle.token) is not None  # used: active again from here
    clock[0] += timedelta(minutes=61)
    assert auth.principal_for_token(idle.token) is None
    busy = _session(LEE, IPHONE, "10.0.0.7")
    for _ in range(23):  # used every 30 minutes, for 11.5 hours
        clock[0] += timedelta(minutes=30)
        assert auth.principal_for_token(busy.token) is not None
    clock[0] += timedelta(minutes=30)
    assert auth.principal_for_token(busy.token) is None  # 12 hours after sign-in, however busy
    assert sessions.my_sessions(principal_of(LEE), busy.token) == []
