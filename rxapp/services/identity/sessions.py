"""A person's signed-in sessions as My profile lists them, and ending them.

Each session says which browser and device (from its User-Agent), roughly where (from the address it
signed in from: the network, never a precise place, as no location database is kept), when it signed
in and when it was last active. A person ends one session, or all but the one they are using; a
password change or a two-step sign-in reset ends the others (services.identity.accounts, .mfa), and
deactivation ends all (services.practice.team). Idle and absolute expiry: services.identity.auth.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import LoginSession
from rxapp.services.audit import trail
from rxapp.services.identity import one_time
from rxapp.services.permissions import NotAllowed, Principal
from rxapp.settings import get_settings

# First match wins: Edge and Opera also say "Chrome", Chrome also says "Safari".
_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("FxiOS", "Firefox"),
             ("CriOS", "Chrome"), ("Chrome/", "Chrome"), ("Chromium/", "Chromium"), ("Safari/", "Safari"))
_DEVICES = (("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"), ("Windows", "Windows"),
            ("CrOS", "ChromeOS"), ("Macintosh", "Mac"), ("Linux", "Linux"))


@dataclass(frozen=True)
class SignedIn:
    id: int
    browser: str
    device: str
    place: str
    signed_in_at: datetime
    last_active_at: datetime
    current: bool


def describe_agent(user_agent: str) -> tuple[str, str]:
    """(browser, device) from a User-Agent, e.g. ("Chrome", "Android"); "Unknown" when unsure."""
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), "Unknown browser")
    device = next((name for mark, name in _DEVICES if mark in user_agent), "unknown device")
    if re.search(r"HeadlessChrome", user_agent):
        browser = "Chrome (automated)"
    return browser, device


def approximate_place(source: str) -> str:
    """Roughly where an address is: this computer, the local network, or the internet address with
    its last part hidden (no location database is kept, so never a town)."""
    try:
        address = ipaddress.ip_address(source)
    except ValueError:
        return "Unknown"
    if address.is_loopback:
        return "This computer"
    if address.is_private or address.is_link_local:
        return "Local network"
    if isinstance(address, ipaddress.IPv4Address):
        return "Internet " + ".".join(source.split(".")[:3]) + ".x"
    return "Internet " + ":".join(address.exploded.split(":")[:3]) + ":…"


def _live(principal: Principal):
    """The principal's sessions that still work: not ended, not past their 12 hours, not idle."""
    idle = timedelta(minutes=get_settings().session_idle_minutes)
    return select(LoginSession).where(LoginSession.user_id == principal.user_id, col(LoginSession.revoked_at).is_(None),
                                      col(LoginSession.expires_at) > now(),
                                      col(LoginSession.last_seen_at) > now() - idle)


def my_sessions(principal: Principal, current_token: str) -> list[SignedIn]:
    """The signed-in sessions of the principal, this one first, then the most recently active."""
    mine = one_time.digest(current_token or "-")
    with unit_of_work() as session:
        rows = session.exec(_live(principal).order_by(col(LoginSession.last_seen_at).desc())).all()
    found = [SignedIn(id=r.id or 0, browser=describe_agent(r.user_agent)[0], device=describe_agent(r.user_agent)[1],
                      place=approximate_place(r.source), signed_in_at=r.created_at, last_active_at=r.last_seen_at,
                      current=r.token_hash == mine) for r in rows]
    return sorted(found, key=lambda s: not s.current)


def end_all(session: Session, user_id: int, *, keep_token_hash: str | None = None,
            at: datetime | None = None) -> int:
    """End a person's live sessions in the caller's transaction (all, or all but the one whose token
    hashes to `keep_token_hash`); returns how many. A password change, a two-step reset, a deactivation
    and Sign out everywhere else all end sessions this way."""
    query = update(LoginSession).where(col(LoginSession.user_id) == user_id, col(LoginSession.revoked_at).is_(None))
    if keep_token_hash is not None:
        query = query.where(col(LoginSession.token_hash) != keep_token_hash)
    return session.execute(query.values(revoked_at=at or now())).rowcount or 0


def end_session(principal: Principal, session_id: int) -> None:
    """Sign out one of the principal's own sessions (any other id: `NotAllowed`)."""
    with unit_of_work() as session:
        ended = session.execute(update(LoginSession).where(
            col(LoginSession.id) == session_id, col(LoginSession.user_id) == principal.user_id,
            col(LoginSession.revoked_at).is_(None)).values(revoked_at=now()))
        if ended.rowcount != 1:
            raise NotAllowed("not one of your sessions")
        trail.record(session, practice_id=principal.practice_id, actor_user_id=principal.user_id,
                     action="user.session_ended", subject_type="user", subject_id=principal.user_id)


def end_other_sessions(principal: Principal, current_token: str) -> int:
    """Sign out everywhere else; returns how many sessions ended."""
    with unit_of_work() as session:
        count = end_all(session, principal.user_id, keep_token_hash=one_time.digest(current_token or "-"))
        if count:
            trail.record(session, practice_id=principal.practice_id, actor_user_id=principal.user_id,
                         action="user.other_sessions_ended", subject_type="user", subject_id=principal.user_id,
                         sessions_ended=count)
        return count
