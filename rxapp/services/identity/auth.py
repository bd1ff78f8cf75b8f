"""Signing in and out: password check with lockout, sign-in tickets and server-side sessions.

The browser never holds anything but a random cookie value; the database holds its SHA-256.
A sign-in happens in two steps because the websocket handler that checks the password
cannot set an HttpOnly cookie: it issues a one-minute, single-use ticket, and the HTTP route
`/auth/session` (a same-origin POST) exchanges that ticket for the session cookie.

Lockout counts attempts per (typed email, source address). Each attempt first takes a numbered
slot with one atomic upsert; only the first `LOGIN_MAX_FAILURES` slots of a window are checked
at all, the rest are refused as locked before any hashing, however many arrive at once. Keying
by source too means a stranger who types a victim's email locks only their own address out,
never the victim (the lock also ends by itself after `LOGIN_LOCK_MINUTES`). Hash checks run on
a small dedicated pool, so a flood of sign-ins waits its turn there instead of taking every
worker thread the rest of the app needs.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import and_, case, literal, null, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import LoginSession, LoginThrottle, Practice, Role, SignInTicket, User, UTCDateTime
from rxapp.services.audit import trail
from rxapp.services.identity import mfa, one_time
from rxapp.services.identity.passwords import verify_password
from rxapp.services.permissions import Principal
from rxapp.settings import get_settings

TICKET_LIFETIME = timedelta(minutes=1)
SECOND_STEP_LIFETIME = timedelta(minutes=10)  # to open the authenticator app (or enrol) after the password
# Writing last_seen_at on every event would turn each click into a write; once a minute is enough.
_TOUCH_INTERVAL = timedelta(minutes=1)

INVALID_CREDENTIALS_MESSAGE = "That email and password do not match an account."


class InvalidCredentials(Exception):
    """Wrong password, unknown email or inactive account: deliberately indistinguishable."""


class AccountDeactivated(Exception):
    """The right password for an account the practice deactivated (said only after the password
    matched, so it reveals nothing to someone who does not know it)."""


DEACTIVATED_MESSAGE = ("Your account has been deactivated by your practice, so you cannot sign in. "
                       "Ask your practice's owner or manager if you think this is a mistake.")


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


def _principal(user: User) -> Principal:
    return Principal(user_id=user.id or 0, practice_id=user.practice_id, role=Role(user.role),
                     email=user.email, full_name=user.full_name)


def issue_ticket(session: Session, user: User, kind: str = "session") -> str:
    """A single-use sign-in ticket for `user`, added to the caller's transaction: a "session" ticket
    for `/auth/session`, or an "mfa" ticket that only the second step (a code, or enrolment) turns
    into a session ticket."""
    ticket = one_time.new_secret()
    lifetime = TICKET_LIFETIME if kind == "session" else SECOND_STEP_LIFETIME
    session.add(SignInTicket(practice_id=user.practice_id, user_id=user.id or 0, ticket_hash=one_time.digest(ticket),
                             expires_at=now() + lifetime, kind=kind))
    return ticket


@dataclass(frozen=True)
class _Attempt:
    """A sign-in attempt that got a slot: its number in the window and what to check it against."""

    email: str
    source: str
    slot: int
    password_hash: str | None
    user_id: int | None
    practice_id: int | None
    user_active: bool


def _upsert(session: Session) -> Callable[..., Any]:
    """The dialect's INSERT, which knows ON CONFLICT (both spell it alike)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def _take_slot(email: str, source: str) -> _Attempt:
    """Count this attempt atomically; raises `AccountLocked` (no hashing) once the window's slots are gone."""
    settings = get_settings()
    at = now()
    table = LoginThrottle.__table__
    c = table.c
    # A lock that has ended, or a window that has passed, starts counting afresh.
    window_start = at - timedelta(minutes=settings.login_window_minutes)
    fresh = or_(and_(c.locked_until.is_not(None), c.locked_until <= at),
                and_(c.locked_until.is_(None), c.window_started_at <= window_start))
    with unit_of_work() as session:
        statement = _upsert(session)(table).values(email=email, source=source, failures=1, window_started_at=at)
        statement = statement.on_conflict_do_update(
            index_elements=[c.email, c.source],
            set_={"failures": case((fresh, 1), else_=c.failures + 1),
                  "window_started_at": case((fresh, literal(at, UTCDateTime())), else_=c.window_started_at),
                  "locked_until": case((fresh, null()), else_=c.locked_until)},
        ).returning(c.failures, c.locked_until)
        slot, locked_until = session.execute(statement).one()
        if locked_until is not None and locked_until > at:
            raise AccountLocked(locked_until)  # the rollback leaves the count as it was
        if slot > settings.login_max_failures:
            raise AccountLocked(locked_until or at + timedelta(minutes=settings.login_lock_minutes))
        user = session.exec(select(User).where(User.email == email)).first()
        return _Attempt(email=email, source=source, slot=slot, password_hash=user.password_hash if user else None,
                        user_id=user.id if user else None, practice_id=user.practice_id if user else None,
                        user_active=bool(user and user.is_active))


def _finish(attempt: _Attempt, password_ok: bool) -> str:
    """Record the outcome of a checked attempt: a ticket, or a failure that may start the lock."""
    settings = get_settings()
    at = now()
    mine = (col(LoginThrottle.email) == attempt.email, col(LoginThrottle.source) == attempt.source)
    with unit_of_work() as session:
        if password_ok and attempt.user_active:
            session.execute(update(LoginThrottle).where(*mine).values(failures=0, locked_until=None,
                                                                      window_started_at=at))
            user = session.get(User, attempt.user_id)
            if user is not None and user.is_active:
                owed = mfa.enabled(user) or mfa.required_for(user, session.get(Practice, user.practice_id))
                return issue_ticket(session, user, "mfa" if owed else "session")
        if password_ok and attempt.user_id is not None:
            raise AccountDeactivated(DEACTIVATED_MESSAGE)
        if attempt.slot < settings.login_max_failures:
            raise InvalidCredentials(INVALID_CREDENTIALS_MESSAGE)
        until = at + timedelta(minutes=settings.login_lock_minutes)
        session.execute(update(LoginThrottle).where(*mine).values(locked_until=until))
        if attempt.practice_id is not None:
            trail.record(session, practice_id=attempt.practice_id, actor_user_id=None, action="account.locked",
                         subject_type="user", subject_id=attempt.user_id or "")
    raise AccountLocked(until)


# Argon2 takes ~50 ms of CPU and memory per check: two at a time is what two cores afford, and a
# pool of its own keeps a flood of sign-ins from taking the threads every other request uses.
_PASSWORD_CHECKS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="password-check")


def _verify(attempt: _Attempt, password: str) -> bool:
    return verify_password(attempt.password_hash, password)


def check_password(email: str, password: str, source: str = "") -> str:
    """Verify a sign-in attempt from `source` (the client's address) and return a single-use ticket.

    Raises `AccountLocked` while the email is locked for that source (even for a right password),
    `AccountDeactivated` for the right password of a deactivated account and `InvalidCredentials`
    otherwise; each failure counts towards the lock. Blocks: from async
    code use `sign_in`.
    """
    attempt = _take_slot(normalize_email(email), source[:64])
    return _finish(attempt, _PASSWORD_CHECKS.submit(_verify, attempt, password).result())


async def sign_in(email: str, password: str, source: str = "") -> str:
    """`check_password` for async callers: database work in threads, the hash check in its own pool."""
    attempt = await asyncio.to_thread(_take_slot, normalize_email(email), source[:64])
    ok = await asyncio.wrap_future(_PASSWORD_CHECKS.submit(_verify, attempt, password))
    return await asyncio.to_thread(_finish, attempt, ok)


class SecondStepExpired(Exception):
    """The sign-in's second step came too late (or its ticket is not one): sign in again."""

    def __init__(self) -> None:
        super().__init__("Your sign-in took too long to complete. Please sign in again.")


def second_step(ticket: str) -> str:
    """What a ticket from `sign_in` still needs: "" (none: exchange it), "code" (the authenticator
    app's, or a recovery code) or "enrol" (the practice requires two steps and none is set up yet).
    Raises `SecondStepExpired`."""
    with unit_of_work() as session:
        row, user = _pending(session, ticket, kinds=("session", "mfa"))
        if row.kind == "session":
            return ""
        return "code" if mfa.enabled(user) else "enrol"


def _pending(session: Session, ticket: str, kinds: tuple[str, ...] = ("mfa",)) -> tuple[SignInTicket, User]:
    row = session.exec(select(SignInTicket).where(SignInTicket.ticket_hash == one_time.digest(ticket or "-"),
                                                  col(SignInTicket.used_at).is_(None),
                                                  col(SignInTicket.kind).in_(kinds))).first()
    user = session.get(User, row.user_id) if row is not None else None
    if row is None or user is None or not user.is_active or row.expires_at <= now():
        raise SecondStepExpired()
    return row, user


def _second_step(ticket: str, source: str, check: Callable[[Session, User], Any]) -> tuple[str, Any]:
    """Run `check` (a code or an enrolment) for an "mfa" ticket; its failures count toward the same
    lockout as passwords. On success the ticket is used up and a session ticket returned."""
    with unit_of_work() as session:
        email = _pending(session, ticket)[1].email
    attempt = _take_slot(email, source[:64])  # raises AccountLocked
    rejected: mfa.CodeRejected | None = None
    with unit_of_work() as session:
        _, user = _pending(session, ticket)
        try:
            result = check(session, user)
        except mfa.CodeRejected as exc:
            rejected = exc
        else:
            if one_time.claim(session, SignInTicket.ticket_hash, ticket, col(SignInTicket.kind) == "mfa") is None:
                raise SecondStepExpired()
            session.execute(update(LoginThrottle).where(col(LoginThrottle.email) == attempt.email,
                                                        col(LoginThrottle.source) == attempt.source)
                            .values(failures=0, locked_until=None, window_started_at=now()))
            return issue_ticket(session, user), result
    try:
        _finish(attempt, False)
    except InvalidCredentials:
        raise rejected from None
    raise AssertionError("unreachable")  # _finish always raises on a failure


def verify_second_step(ticket: str, code: str, source: str = "") -> str:
    """The second step of a sign-in: the authenticator code (or a recovery code) for an "mfa" ticket;
    returns a session ticket. Raises `mfa.CodeRejected`, `AccountLocked`, `SecondStepExpired`."""
    return _second_step(ticket, source, lambda session, user: mfa.check_code(session, user, code))[0]


def enrolment_for(ticket: str) -> mfa.Enrolment:
    """A new secret and its QR code for a person the practice requires to enrol at this sign-in."""
    with unit_of_work() as session:
        _, user = _pending(session, ticket)
        if mfa.enabled(user):
            raise SecondStepExpired()
        practice = session.get(Practice, user.practice_id)
        return mfa.start_enrolment(user, practice.name if practice else "Telehealth")


def enrol_at_sign_in(ticket: str, secret: str, code: str, source: str = "") -> tuple[str, list[str]]:
    """Finish enrolment during sign-in: (a session ticket, the 10 recovery codes to show once).
    Raises `mfa.CodeRejected`, `AccountLocked`, `SecondStepExpired`."""
    def enrol(session: Session, user: User) -> list[str]:
        if mfa.enabled(user):
            raise SecondStepExpired()
        return mfa.finish_enrolment(session, user, secret, code, user.id)

    return _second_step(ticket, source, enrol)


def redeem_ticket(ticket: str, user_agent: str = "", source: str = "") -> NewSession | None:
    """Exchange a sign-in ticket for a new session; None if it is unknown, used or expired. The
    browser's User-Agent and address are kept for My profile's list of sessions.

    The ticket is claimed atomically: of any number of concurrent redemptions, one wins."""
    settings = get_settings()
    at = now()
    with unit_of_work() as session:
        # Only a "session" ticket: one that still owes its second step is never a cookie.
        ticket_id = one_time.claim(session, SignInTicket.ticket_hash, ticket, col(SignInTicket.kind) == "session",
                                   at=at)
        row = session.get(SignInTicket, ticket_id) if ticket_id is not None else None
        user = session.get(User, row.user_id) if row is not None else None
        if user is None or not user.is_active:
            return None
        token = one_time.new_secret()
        expires = at + timedelta(hours=settings.session_absolute_hours)
        session.add(LoginSession(practice_id=user.practice_id, user_id=user.id or 0,
                                 token_hash=one_time.digest(token), created_at=at, last_seen_at=at, expires_at=expires,
                                 user_agent=user_agent[:300], source=source[:64]))
        trail.record(session, practice_id=user.practice_id, actor_user_id=user.id, action="user.signed_in",
                     subject_type="user", subject_id=user.id or "")
        return NewSession(token=token, expires_at=expires, principal=_principal(user))


def principal_for_token(token: str | None) -> Principal | None:
    """The user of a live session, or None when the session is unknown, revoked, idle or expired."""
    if not token:
        return None
    settings = get_settings()
    at = now()
    with unit_of_work() as session:
        row = session.exec(select(LoginSession).where(LoginSession.token_hash == one_time.digest(token))).first()
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
        row = session.exec(select(LoginSession).where(LoginSession.token_hash == one_time.digest(token))).first()
        if row is not None and row.revoked_at is None:
            row.revoked_at = now()
            trail.record(session, practice_id=row.practice_id, actor_user_id=row.user_id,
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


def safe_next(target: str | None, default: str) -> str:
    """Only same-site paths are followed after sign-in (no open redirects)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target
