"""The token service: the only way any code gets a Zoom access token.

Refresh tokens rotate with no grace period, so two refreshes racing on one refresh token
kill the grant. Refreshing is therefore single-flight per connection: an asyncio lock within
the process, and across processes a claim taken by compare-and-swap on the `version` column
(works the same on SQLite and PostgreSQL). The rotated pair is committed before the new access
token is handed out. `invalid_grant` turns the connection to *needs reconnect*, once, with an
email to the practitioner; Zoom being down leaves the stored pair untouched.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import or_, update
from sqlmodel import col, select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import Practice, User, ZoomConnection, ZoomConnectionStatus
from rxapp.services import crypto
from rxapp.services.audit import trail
from rxapp.services.notify.outbox import OutgoingEmail, queue_email
from rxapp.services.telehealth.zoom import oauth
from rxapp.services.telehealth.zoom.client import ZoomApi, http_client
from rxapp.services.telehealth.zoom.errors import (
    ZoomAccessTokenInvalid,
    ZoomNeedsReconnect,
    ZoomNotAllowed,
    ZoomNotConnected,
    ZoomUnavailable,
)
from rxapp.settings import get_settings

T = TypeVar("T")

REFRESH_AHEAD = timedelta(minutes=5)
CLAIM_FOR = timedelta(seconds=30)
WAIT_FOR_OTHER_PROCESS = 40.0  # seconds; longer than a claim, so a crashed holder is outlived

_locks: dict[tuple[int, int], asyncio.Lock] = {}


def _lock(connection_id: int) -> asyncio.Lock:
    key = (id(asyncio.get_running_loop()), connection_id)
    return _locks.setdefault(key, asyncio.Lock())


@dataclass(frozen=True)
class Credentials:
    access_token: str
    api_base_url: str


@dataclass(frozen=True)
class _Snapshot:
    id: int
    version: int
    status: ZoomConnectionStatus
    access_token: str
    refresh_token: str
    expires_at: datetime
    claimed_until: datetime | None
    api_base_url: str
    allow_zoom: bool


def _api_base(api_url: str) -> str:
    return f"{api_url.rstrip('/')}/v2" if api_url else get_settings().zoom_api_base_url


def _load(practitioner_id: int) -> _Snapshot | None:
    with unit_of_work() as session:
        row = session.exec(select(ZoomConnection).where(ZoomConnection.practitioner_id == practitioner_id)).first()
        if row is None:
            return None
        practice = session.get(Practice, row.practice_id)
        return _Snapshot(id=row.id or 0, version=row.version, status=ZoomConnectionStatus(row.status),
                         access_token=crypto.decrypt(row.access_token_encrypted),
                         refresh_token=crypto.decrypt(row.refresh_token_encrypted),
                         expires_at=row.access_expires_at, claimed_until=row.refresh_claimed_until,
                         api_base_url=_api_base(row.api_url), allow_zoom=bool(practice and practice.allow_zoom))


def _claim(connection_id: int, version: int) -> int | None:
    """Take the right to refresh; returns the claimed version, or None if another holds it."""
    at = now()
    with unit_of_work() as session:
        result = session.execute(
            update(ZoomConnection)
            .where(col(ZoomConnection.id) == connection_id, col(ZoomConnection.version) == version,
                   or_(col(ZoomConnection.refresh_claimed_until).is_(None),
                       col(ZoomConnection.refresh_claimed_until) < at))
            .values(version=version + 1, refresh_claimed_until=at + CLAIM_FOR)
        )
        return version + 1 if result.rowcount == 1 else None


def _store(connection_id: int, tokens: oauth.TokenSet) -> None:
    """Commit the rotated pair (ours is now the only valid refresh token, so no version check)."""
    with unit_of_work() as session:
        row = session.get(ZoomConnection, connection_id)
        if row is None:  # disconnected meanwhile: nothing to keep
            return
        row.access_token_encrypted = crypto.encrypt(tokens.access_token)
        row.refresh_token_encrypted = crypto.encrypt(tokens.refresh_token)
        row.access_expires_at, row.refreshed_at = tokens.expires_at, now()
        row.scopes = tokens.scope or row.scopes
        row.api_url = tokens.api_url or row.api_url
        row.version += 1
        row.refresh_claimed_until, row.last_error = None, ""


def _release(connection_id: int, claimed_version: int, error: str) -> None:
    with unit_of_work() as session:
        session.execute(update(ZoomConnection)
                        .where(col(ZoomConnection.id) == connection_id,
                               col(ZoomConnection.version) == claimed_version)
                        .values(refresh_claimed_until=None, last_error=error[:500]))


def mark_needs_reconnect(connection_id: int, reason: str) -> None:
    """The grant is dead at Zoom: say so on every telehealth page and email the practitioner once."""
    with unit_of_work() as session:
        row = session.get(ZoomConnection, connection_id)
        if row is None or row.status == ZoomConnectionStatus.NEEDS_RECONNECT:
            return
        row.status, row.last_error, row.refresh_claimed_until = ZoomConnectionStatus.NEEDS_RECONNECT, reason, None
        row.version += 1
        user = session.get(User, row.practitioner_id)
        trail.record(session, practice_id=row.practice_id, actor_user_id=None, action="zoom.needs_reconnect",
                     subject_type="user", subject_id=row.practitioner_id, reason=reason)
        if user is not None:
            queue_email(session, practice_id=row.practice_id,
                        key=f"zoom-needs-reconnect:{row.id}:{row.connected_at.isoformat()}",
                        email=reconnect_email(user, get_settings().app_url))


def reconnect_email(user: User, app_url: str) -> OutgoingEmail:
    link = f"{app_url.rstrip('/')}/profile"
    text = (f"Hello {user.full_name},\n\nZoom no longer accepts this app's access to your Zoom account, so new "
            f"telehealth meetings cannot be created or changed.\n\nOpen the Meeting tab of your profile and "
            f"press Reconnect: {link}\n")
    page = (f"<p>Hello {html.escape(user.full_name)},</p><p>Zoom no longer accepts this app's access to your Zoom "
            f"account, so new telehealth meetings cannot be created or changed.</p><p><a href=\"{html.escape(link)}\">"
            f"Open the Meeting tab and press Reconnect</a>.</p>")
    return OutgoingEmail(to=user.email, subject="Action needed: reconnect your Zoom account", text=text, html=page)


async def get_credentials(practitioner_id: int, *, stale_token: str | None = None) -> Credentials:
    """A working access token for the practitioner's Zoom account.

    With `stale_token` (one Zoom just refused), a refresh happens unless another caller has
    replaced that token already. Raises `ZoomNotConnected`, `ZoomNotAllowed`,
    `ZoomNeedsReconnect` or `ZoomUnavailable`.
    """
    deadline = asyncio.get_running_loop().time() + WAIT_FOR_OTHER_PROCESS

    def usable(snap: _Snapshot) -> bool:
        if stale_token is not None:
            return snap.access_token != stale_token and snap.expires_at > now()
        return snap.expires_at - now() > REFRESH_AHEAD

    while True:
        snap = await asyncio.to_thread(_load, practitioner_id)
        if snap is None:
            raise ZoomNotConnected("Zoom is not connected")
        if not snap.allow_zoom:
            raise ZoomNotAllowed("The practice has not allowed Zoom integration")
        if snap.status == ZoomConnectionStatus.NEEDS_RECONNECT:
            raise ZoomNeedsReconnect("Error refreshing access token")
        if usable(snap):
            return Credentials(snap.access_token, snap.api_base_url)
        async with _lock(snap.id):
            snap = await asyncio.to_thread(_load, practitioner_id)
            if snap is None:
                continue
            if snap.status == ZoomConnectionStatus.CONNECTED and usable(snap):
                return Credentials(snap.access_token, snap.api_base_url)
            claimed = None
            if snap.status == ZoomConnectionStatus.CONNECTED:
                claimed = await asyncio.to_thread(_claim, snap.id, snap.version)
            if claimed is not None:
                return await _refresh(snap, claimed)
        if asyncio.get_running_loop().time() > deadline:
            raise ZoomUnavailable("Refreshing the Zoom access token is taking too long")
        await asyncio.sleep(0.1)  # another process is refreshing: wait for its result


async def _refresh(snap: _Snapshot, claimed_version: int) -> Credentials:
    try:
        tokens = await oauth.refresh(snap.refresh_token)
    except ZoomNeedsReconnect as exc:
        await asyncio.to_thread(mark_needs_reconnect, snap.id, f"Zoom refused the refresh token: {exc}")
        raise
    except BaseException as exc:
        await asyncio.to_thread(_release, snap.id, claimed_version, f"Refresh failed: {exc}")
        raise
    await asyncio.to_thread(_store, snap.id, tokens)
    return Credentials(tokens.access_token, _api_base(tokens.api_url) if tokens.api_url else snap.api_base_url)


async def call_zoom(practitioner_id: int, operation: Callable[[ZoomApi], Awaitable[T]]) -> T:
    """Run `operation` with the practitioner's Zoom API; on 401 code 124 refresh once, retry once."""
    creds = await get_credentials(practitioner_id)
    async with await http_client() as http:
        try:
            return await operation(ZoomApi(http, creds.api_base_url, creds.access_token))
        except ZoomAccessTokenInvalid:
            creds = await get_credentials(practitioner_id, stale_token=creds.access_token)
            return await operation(ZoomApi(http, creds.api_base_url, creds.access_token))
