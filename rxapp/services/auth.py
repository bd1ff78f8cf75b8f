"""Signing in and out: password check with lockout, sign-in tickets and server-side sessions.

The browser never holds anything but a random cookie value; the database holds its SHA-256.
A sign-in happens in two steps because the websocket handler that checks the password
cannot set an HttpOnly cookie: it issues a one-minute, single-use ticket, and the HTTP route
`/auth/session` exchanges that ticket for the session cookie.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.cookies import CookieError, SimpleCookie

from sqlmodel import Session, select

from rxapp.db import unit_of_work
from rxapp.models import LoginSession, LoginThrottle, Role, SignInTicket, User
from rxapp.services import audit
from rxapp.services.clock import now
from rxapp.services.passwords import verify_password
from rxapp.services.permissions import Principal
from rxapp.settings import get_settings

TICKET_LIFETIME = timedelta(minutes=1)
# Writing last_seen_at on every event would turn each click into a write; once a minute is enough.
_TOUCH_INTERVAL = timedelta(minutes=1)

INVALID_CREDENTIALS_MESSAGE = "That email and password do not match an account."


class InvalidCredentials(Exception):
    """Wrong password, unknown email or inactive account: deliberately indistinguishable."""


class AccountLocked(Exception):
    """Too many failed sign-ins; `until` says when the lock ends."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"locked until {until.isoformat()}")
        self.until = until


@dataclass(frozen=True)
class NewSession:
    token: str
    expires_at: datetime
    principal: Principal


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _principal(user: User) -> Principal:
    return Principal(user_id=user.id or 0, practice_id=user.practice_id, role=Role(user.role),
                     email=user.email, full_name=user.full_name)


def _throttle(session: Session, email: str, at: datetime) -> LoginThrottle:
    row = session.get(LoginThrottle, email)
    if row is None:
        row = LoginThrottle(email=email, failures=0, window_started_at=at)
        session.add(row)
    return row


def issue_ticket(session: Session, user: User) -> str:
    """A single-use sign-in ticket for `user`, added to the caller's transaction (for `/auth/session`)."""
    ticket = secrets.token_urlsafe(32)
    session.add(SignInTicket(practice_id=user.practice_id, user_id=user.id or 0, ticket_hash=_digest(ticket),
                             expires_at=now() + TICKET_LIFETIME))
    return ticket


def check_password(email: str, password: str) -> str:
    """Verify a sign-in attempt and return a single-use ticket for `/auth/session`.

    Raises `AccountLocked` while the email is locked (even for a right password) and
    `InvalidCredentials` otherwise; each failure counts towards the lock.
    """
    settings = get_settings()
    key = normalize_email(email)
    at = now()
    with unit_of_work() as session:
        throttle = _throttle(session, key, at)
        if throttle.locked_until and throttle.locked_until > at:
            raise AccountLocked(throttle.locked_until)
        user = session.exec(select(User).where(User.email == key)).first()
        ok = verify_password(user.password_hash if user else None, password)
        if ok and user is not None and user.is_active:
            throttle.failures, throttle.locked_until = 0, None
            return issue_ticket(session, user)
        if at - throttle.window_started_at > timedelta(minutes=settings.login_window_minutes):
            throttle.failures, throttle.window_started_at = 0, at
        throttle.failures += 1
        locked = throttle.failures >= settings.login_max_failures
        if locked:
            throttle.locked_until = at + timedelta(minutes=settings.login_lock_minutes)
            throttle.failures, throttle.window_started_at = 0, at
            if user is not None:
                audit.record(session, practice_id=user.practice_id, actor_user_id=None,
                             action="account.locked", subject_type="user", subject_id=user.id or "")
    # Committed above so the failure counts; raised after the transaction ends.
    if locked:
        raise AccountLocked(throttle.locked_until or at)
    raise InvalidCredentials(INVALID_CREDENTIALS_MESSAGE)


def redeem_ticket(ticket: str) -> NewSession | None:
    """Exchange a sign-in ticket for a new session; None if it is unknown, used or expired."""
    settings = get_settings()
    at = now()
    with unit_of_work() as session:
        row = session.exec(select(SignInTicket).where(SignInTicket.ticket_hash == _digest(ticket))).first()
        if row is None or row.used_at is not None or row.expires_at <= at:
            return None
        row.used_at = at
        user = session.get(User, row.user_id)
        if user is None or not user.is_active:
            return None
        token = secrets.token_urlsafe(32)
        expires = at + timedelta(hours=settings.session_absolute_hours)
        session.add(LoginSession(practice_id=user.practice_id, user_id=user.id or 0, token_hash=_digest(token),
                                 created_at=at, last_seen_at=at, expires_at=expires))
        audit.record(session, practice_id=user.practice_id, actor_user_id=user.id, action="user.signed_in",
                     subject_type="user", subject_id=user.id or "")
        return NewSession(token=token, expires_at=expires, principal=_principal(user))


def principal_for_token(token: str | None) -> Principal | None:
    """The user of a live session, or None when the session is unknown, revoked, idle or expired."""
    if not token:
        return None
    settings = get_settings()
    at = now()
    with unit_of_work() as session:
        row = session.exec(select(LoginSession).where(LoginSession.token_hash == _digest(token))).first()
        if row is None or row.revoked_at is not None or row.expires_at <= at:
            return None
        if at - row.last_seen_at > timedelta(minutes=settings.session_idle_minutes):
            row.revoked_at = at
            return None
        user = session.get(User, row.user_id)
        if user is None or not user.is_active:
            return None
        if at - row.last_seen_at > _TOUCH_INTERVAL:
            row.last_seen_at = at
        return _principal(user)


def sign_out(token: str | None) -> None:
    """Revoke the session so that the cookie no longer works anywhere."""
    if not token:
        return
    with unit_of_work() as session:
        row = session.exec(select(LoginSession).where(LoginSession.token_hash == _digest(token))).first()
        if row is not None and row.revoked_at is None:
            row.revoked_at = now()
            audit.record(session, practice_id=row.practice_id, actor_user_id=row.user_id,
                         action="user.signed_out", subject_type="user", subject_id=row.user_id)


def request_token(session_token: str, purpose: str) -> str:
    """A value only this browser session can produce, to put in links that act (e.g. start a
    meeting): a cross-site page can make the browser send the cookie, but not know this."""
    return hashlib.sha256(f"{purpose}:{session_token}".encode()).hexdigest()[:32]


def check_request_token(session_token: str, purpose: str, value: str) -> bool:
    return bool(session_token) and secrets.compare_digest(request_token(session_token, purpose), value)


def session_token_from_cookie_header(header: str | None) -> str | None:
    """The session cookie's value from a raw `Cookie:` header."""
    if not header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return None
    morsel = jar.get(get_settings().session_cookie_name)
    return morsel.value if morsel else None
