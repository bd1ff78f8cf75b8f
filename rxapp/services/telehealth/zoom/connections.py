"""Use cases of a practitioner's Zoom connection: connect, review, check, disconnect, lose.

We keep only what is needed (DESIGN.md section 4): encrypted tokens, expiry, scopes, and
Zoom's user and account ids to match webhooks. Nothing else about the Zoom user is stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete
from sqlmodel import Session, col, select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import (
    Appointment,
    AppointmentStatus,
    Meeting,
    OAuthAttempt,
    Practice,
    PractitionerProfile,
    SyncState,
    User,
    ZoomConnection,
    ZoomConnectionStatus,
)
from rxapp.services import crypto, phrases
from rxapp.services.audit import trail
from rxapp.services.identity import auth, one_time
from rxapp.services.notify.outbox import OutgoingEmail, queue_email
from rxapp.services.permissions import Action, NotAllowed, Principal, can
from rxapp.services.practice import profiles
from rxapp.services.telehealth.meetings import sync
from rxapp.services.telehealth.zoom import oauth
from rxapp.services.telehealth.zoom.client import ZoomApi, http_client
from rxapp.services.telehealth.zoom.errors import ZoomError, ZoomNotAllowed, ZoomNotConnected
from rxapp.services.telehealth.zoom.tokens import call_zoom
from rxapp.services.timezones import format_local
from rxapp.settings import get_settings

ATTEMPT_LIFETIME = timedelta(minutes=10)
log = logging.getLogger(__name__)


class ConnectRefused(Exception):
    """The callback cannot be accepted. `reason` is a short code the review page explains
    (codes, not text, travel in the URL so nobody can make our page say their words)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


REFUSAL_MESSAGES = {
    "signed_out": "Your sign-in has ended. Sign in again and press Connect to Zoom once more.",
    "invalid_state": "This Zoom sign-in link is not valid any more (it was used, it expired, or it was started "
                     "in another session). Nothing was stored. Press Connect to Zoom again.",
    "zoom_failed": "Zoom did not complete the connection (the sign-in code was refused or Zoom could not be "
                   "reached). Nothing was stored. Please press Connect to Zoom again.",
}


class ConnectionState(StrEnum):
    """What the Meeting tab says about a practitioner's Zoom (a stored connection's status, or none)."""

    NOT_CONNECTED = "not_connected"
    CONNECTED = ZoomConnectionStatus.CONNECTED.value
    NEEDS_RECONNECT = ZoomConnectionStatus.NEEDS_RECONNECT.value


@dataclass(frozen=True)
class ConnectionView:
    practitioner_id: int
    practitioner_name: str
    status: ConnectionState
    connected_at: datetime | None = None
    scopes: tuple[str, ...] = ()
    last_error: str = ""
    notice: str = ""
    allow_zoom: bool = False
    telehealth_enabled: bool = False


@dataclass
class ConnectOutcome:
    practitioner_id: int
    practitioner_name: str
    scopes: list[str] = field(default_factory=list)
    declined: bool = False
    refused: str = ""  # why the Zoom account was not connected (held by another practitioner)
    requeued: int = 0  # meetings needing attention handed back to the retry job


def session_fingerprint(session_token: str) -> str:
    return hashlib.sha256(session_token.encode()).hexdigest()


def _target(session: Session, principal: Principal, practitioner_id: int) -> tuple[User, PractitionerProfile]:
    """The practitioner whose connection `principal` may manage, or `NotAllowed`."""
    own = practitioner_id == principal.user_id and can(principal, Action.CONNECT_OWN_ZOOM)
    if not own and not can(principal, Action.MANAGE_PRACTITIONER_ZOOM):
        raise NotAllowed("manage Zoom of another practitioner")
    user = session.get(User, practitioner_id)
    profile = session.get(PractitionerProfile, practitioner_id)
    if user is None or profile is None or user.practice_id != principal.practice_id:
        raise NotAllowed("not a practitioner of this practice")
    return user, profile


def connection_view(principal: Principal, practitioner_id: int) -> ConnectionView:
    """What the Meeting tab shows about a practitioner's Zoom connection."""
    with unit_of_work() as session:
        user, profile = _target(session, principal, practitioner_id)
        practice = session.get(Practice, principal.practice_id)
        row = session.exec(select(ZoomConnection).where(ZoomConnection.practitioner_id == practitioner_id)).first()
        base = {"practitioner_id": practitioner_id, "practitioner_name": user.full_name, "notice": profile.zoom_notice,
                "allow_zoom": bool(practice and practice.allow_zoom),
                "telehealth_enabled": profile.telehealth_enabled}
        if row is None:
            return ConnectionView(status=ConnectionState.NOT_CONNECTED, **base)
        return ConnectionView(status=ConnectionState(row.status), connected_at=row.connected_at,
                              scopes=tuple(row.scopes.split()), last_error=row.last_error, **base)


def begin_connect(principal: Principal, practitioner_id: int, session_token: str) -> str:
    """Start the OAuth flow; returns Zoom's authorize URL (state bound to this browser session)."""
    state, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(64)
    with unit_of_work() as session:
        user, profile = _target(session, principal, practitioner_id)
        practice = session.get(Practice, principal.practice_id)
        if practice is None or not practice.allow_zoom:
            raise ZoomNotAllowed("Your practice has not allowed Zoom integration yet. Ask an owner or manager.")
        if not profile.telehealth_enabled:
            raise ZoomNotAllowed(f"Telehealth is not enabled for {user.full_name}. Ask an owner or manager.")
        session.add(OAuthAttempt(practice_id=principal.practice_id, state_hash=session_fingerprint(state),
                                 code_verifier_encrypted=crypto.encrypt(verifier),
                                 initiated_by_user_id=principal.user_id, practitioner_id=practitioner_id,
                                 login_session_hash=session_fingerprint(session_token),
                                 expires_at=now() + ATTEMPT_LIFETIME))
    return oauth.authorization_url(state, verifier)


def _consume_attempt(state: str, session_token: str) -> tuple[int, str, Principal, User]:
    """Mark the attempt used (before anything else, so a replay fails) and return it with the
    principal who started it and the practitioner it is for."""
    principal = auth.principal_for_token(session_token)
    if principal is None:
        raise ConnectRefused("signed_out")
    with unit_of_work() as session:
        attempt_id = one_time.claim(session, OAuthAttempt.state_hash, state,
                                    col(OAuthAttempt.login_session_hash) == session_fingerprint(session_token),
                                    col(OAuthAttempt.initiated_by_user_id) == principal.user_id)
        attempt = session.get(OAuthAttempt, attempt_id) if attempt_id is not None else None
        if attempt is None:
            raise ConnectRefused("invalid_state")
        attempt_id, verifier = attempt.id or 0, attempt.code_verifier_encrypted
        practitioner_id = attempt.practitioner_id
    with unit_of_work() as session:  # after the commit above: a refusal here still spends the attempt
        user, _ = _target(session, principal, practitioner_id)
    return attempt_id, crypto.decrypt(verifier), principal, user


async def complete_connect(state: str, code: str, error: str, session_token: str) -> int:
    """Finish the OAuth flow from the callback; returns the attempt id whose outcome the review
    page shows. Raises `ConnectRefused` (nothing stored) with a message for the user."""
    attempt_id, verifier, principal, user = await asyncio.to_thread(_consume_attempt, state, session_token)
    if error or not code:
        outcome = ConnectOutcome(practitioner_id=user.id or 0, practitioner_name=user.full_name, declined=True)
        await asyncio.to_thread(_save_outcome, attempt_id, outcome)
        return attempt_id
    try:
        tokens = await oauth.exchange_code(code, verifier)
        async with await http_client() as http:
            api_base = f"{tokens.api_url.rstrip('/')}/v2" if tokens.api_url else get_settings().zoom_api_base_url
            me = await ZoomApi(http, api_base, tokens.access_token).get_me()
    except ZoomError as exc:
        log.warning("Zoom connect failed at the token exchange: %s", exc.message)
        raise ConnectRefused("zoom_failed") from exc
    outcome = await asyncio.to_thread(_store_connection, principal, user.id or 0, tokens, me.id, me.account_id)
    await asyncio.to_thread(_save_outcome, attempt_id, outcome)
    return attempt_id


def _store_connection(principal: Principal, practitioner_id: int, tokens: oauth.TokenSet, zoom_user_id: str,
                      zoom_account_id: str) -> ConnectOutcome:
    with unit_of_work() as session:
        user, profile = _target(session, principal, practitioner_id)
        holder = session.exec(select(ZoomConnection).where(
            ZoomConnection.zoom_user_id == zoom_user_id, ZoomConnection.practitioner_id != practitioner_id)).first()
        if holder is not None:
            return _refuse_held_account(session, principal, user, holder, tokens)
        row = session.exec(select(ZoomConnection).where(ZoomConnection.practitioner_id == practitioner_id)).first()
        if row is None:
            row = ZoomConnection(practice_id=user.practice_id, practitioner_id=practitioner_id,
                                 access_token_encrypted="", refresh_token_encrypted="",
                                 access_expires_at=tokens.expires_at, zoom_user_id=zoom_user_id,
                                 zoom_account_id=zoom_account_id)
            session.add(row)
        _keep_tokens(row, tokens)
        row.zoom_user_id, row.zoom_account_id = zoom_user_id, zoom_account_id
        row.connected_at = now()
        profile.zoom_notice = ""
        # Meetings that went to "needs attention" while Zoom was unreachable are no dead end.
        requeued = sync.requeue_after_reconnect(session, practitioner_id, zoom_user_id)
        trail.record(session, practice_id=user.practice_id, actor_user_id=principal.user_id, action="zoom.connected",
                     subject_type="user", subject_id=practitioner_id, scopes=tokens.scope, requeued=requeued)
        return ConnectOutcome(practitioner_id=practitioner_id, practitioner_name=user.full_name,
                              scopes=tokens.scope.split(), requeued=requeued)


def _keep_tokens(row: ZoomConnection, tokens: oauth.TokenSet) -> None:
    row.access_token_encrypted = crypto.encrypt(tokens.access_token)
    row.refresh_token_encrypted = crypto.encrypt(tokens.refresh_token)
    row.access_expires_at, row.scopes, row.api_url = tokens.expires_at, tokens.scope, tokens.api_url
    row.status, row.last_error, row.refresh_claimed_until = ZoomConnectionStatus.CONNECTED, "", None
    row.version += 1


def _refuse_held_account(session: Session, principal: Principal, user: User, holder: ZoomConnection,
                         tokens: oauth.TokenSet) -> ConnectOutcome:
    """One Zoom account, one practitioner: the account stays with the practitioner who holds it.

    Zoom keeps only the newest authorization of a Zoom user, so the code exchange just made the
    holder's tokens useless; a working holder gets the fresh ones (the same Zoom user and app),
    so their meetings carry on. The refusal names the holder within the practice only."""
    holder_user = session.get(User, holder.practitioner_id)
    if holder.practice_id == user.practice_id and holder_user is not None:
        refusal = (f"This Zoom account is already connected for {holder_user.full_name}. Each practitioner "
                   f"connects their own Zoom account; to move this one to {user.full_name}, disconnect it from "
                   f"{holder_user.full_name} first. Nothing was changed.")
    else:
        refusal = ("This Zoom account is already connected for a practitioner of another practice. Each "
                   "practitioner connects their own Zoom account. Nothing was changed.")
    if holder.status == ZoomConnectionStatus.CONNECTED:
        _keep_tokens(holder, tokens)
    trail.record(session, practice_id=user.practice_id, actor_user_id=principal.user_id,
                 action="zoom.connect_refused", subject_type="user", subject_id=user.id or 0,
                 reason="zoom_account_held", holder_user_id=holder.practitioner_id)
    return ConnectOutcome(practitioner_id=user.id or 0, practitioner_name=user.full_name, refused=refusal)


def _save_outcome(attempt_id: int, outcome: ConnectOutcome) -> None:
    with unit_of_work() as session:
        attempt = session.get(OAuthAttempt, attempt_id)
        if attempt is not None:
            attempt.outcome = json.dumps(asdict(outcome))


def review(principal: Principal, attempt_id: int) -> ConnectOutcome | None:
    """The outcome of one's own recent connect attempt, for the review page."""
    with unit_of_work() as session:
        attempt = session.get(OAuthAttempt, attempt_id)
        if (attempt is None or attempt.initiated_by_user_id != principal.user_id or not attempt.outcome
                or attempt.created_at < now() - timedelta(hours=1)):
            return None
        stored = json.loads(attempt.outcome)
        return ConnectOutcome(**{k: v for k, v in stored.items() if k in ConnectOutcome.__dataclass_fields__})


@dataclass(frozen=True)
class DisconnectOutcome:
    revoked_at_zoom: bool
    meetings_needing_attention: list[str]


async def disconnect(principal: Principal, practitioner_id: int) -> DisconnectOutcome:
    """Delete the stored tokens and flag upcoming Zoom meetings, then revoke at Zoom (best effort).

    In that order: Zoom answers a revocation with an `app_deauthorized` webhook, which may arrive
    before the revocation's own answer. It then finds nothing left to forget, so a practitioner who
    disconnected on purpose is not told that the app was removed from their Zoom account."""
    token = await asyncio.to_thread(_stored_access_token, principal, practitioner_id)
    viewer_timezone = await asyncio.to_thread(profiles.viewer_timezone, principal)
    flagged = await asyncio.to_thread(_forget_connection, principal.practice_id, practitioner_id, principal.user_id,
                                      "zoom.disconnected", DISCONNECTED, timezone=viewer_timezone)
    revoked = False
    try:
        await oauth.revoke(token)
        revoked = True
    except ZoomError:
        pass  # the grant may already be gone; it is forgotten here all the same, and the user is told to check Zoom
    return DisconnectOutcome(revoked_at_zoom=revoked, meetings_needing_attention=flagged or [])


def _stored_access_token(principal: Principal, practitioner_id: int) -> str:
    with unit_of_work() as session:
        _target(session, principal, practitioner_id)
        row = session.exec(select(ZoomConnection).where(ZoomConnection.practitioner_id == practitioner_id)).first()
        if row is None:
            raise ZoomNotConnected("Zoom is not connected")
        return crypto.decrypt(row.access_token_encrypted)


# Why a meeting needs attention once its practitioner's Zoom connection is gone (the meeting list shows it).
DISCONNECTED = "Zoom was disconnected: connect it again on the Meeting tab of your profile"
APP_REMOVED = "The Zoom app was removed from the Zoom account: connect Zoom again on the Meeting tab of your profile"


def _forget_connection(practice_id: int, practitioner_id: int, actor: int | None, action: str, why: str,
                       notice: str = "", timezone: str = "UTC", zoom_user_id: str | None = None) -> list[str] | None:
    """Delete the tokens (of that Zoom user only, with `zoom_user_id`) and flag upcoming Zoom meetings,
    in one transaction; returns the flagged meetings described with their times in `timezone` (the
    viewer's). With `notice`, the practitioner is also told (Meeting tab banner and an email).

    The connection is claimed by its DELETE: when another request (a disconnect in the app, Zoom's
    webhook for it) has already forgotten it, nothing is flagged, recorded or sent a second time, and
    the answer is None."""
    with unit_of_work() as session:
        forget = delete(ZoomConnection).where(col(ZoomConnection.practitioner_id) == practitioner_id)
        if zoom_user_id is not None:
            forget = forget.where(col(ZoomConnection.zoom_user_id) == zoom_user_id)
        if not session.execute(forget).rowcount:
            return None
        flagged = []
        for appointment, meeting in session.exec(
                select(Appointment, Meeting).join(Meeting, col(Meeting.id) == Appointment.id).where(
                    Meeting.zoom_holder_practitioner_id == practitioner_id, Appointment.start_at > now(),
                    Appointment.status == AppointmentStatus.BOOKED, col(Meeting.zoom_meeting_id).is_not(None))):
            meeting.sync_state, meeting.last_sync_error = SyncState.NEEDS_ATTENTION, why
            title = phrases.visit_title(appointment.topic, True)
            flagged.append(f"{title} ({format_local(appointment.start_at, timezone)})")
        trail.record(session, practice_id=practice_id, actor_user_id=actor, action=action, subject_type="user",
                     subject_id=practitioner_id, meetings_needing_attention=len(flagged))
        profile, user = session.get(PractitionerProfile, practitioner_id), session.get(User, practitioner_id)
        if notice and profile is not None and user is not None:
            profile.zoom_notice = notice
            link = f"{get_settings().app_url.rstrip('/')}/profile"
            queue_email(session, practice_id=practice_id, key=f"{action}:{practitioner_id}:{now().isoformat()}",
                        email=OutgoingEmail(to=user.email, subject="Your Zoom account was disconnected",
                                            text=f"Hello {user.full_name},\n\n{notice}\n\n{link}\n"))
        return flagged


async def check(principal: Principal, practitioner_id: int) -> str:
    """Re-check the connection now (refreshing if due); returns a message for a toast."""
    await asyncio.to_thread(_check_target, principal, practitioner_id)
    me = await call_zoom(practitioner_id, lambda api: api.get_me())
    return f"Zoom connection works (Zoom user {me.id})."


def _check_target(principal: Principal, practitioner_id: int) -> None:
    with unit_of_work() as session:
        _target(session, principal, practitioner_id)


def handle_app_deauthorized(zoom_user_id: str, zoom_account_id: str, at: datetime) -> int:
    """Zoom says the app was removed from this Zoom user: forget its tokens at once, tell the
    practitioner. Returns how many connections were removed (0 for an unknown user, or one
    already forgotten, as after a disconnect in the app, whose revocation Zoom reports this way)."""
    with unit_of_work() as session:
        rows = session.exec(select(ZoomConnection).where(ZoomConnection.zoom_user_id == zoom_user_id)).all()
        matches = [(r.practice_id, r.practitioner_id) for r in rows
                   if not zoom_account_id or r.zoom_account_id == zoom_account_id]
    notice = (f"Zoom reported on {at:%Y-%m-%d %H:%M} UTC that the app was removed from your Zoom account. "
              "Connect to Zoom again to keep creating telehealth meetings.")
    removed = 0
    for practice_id, practitioner_id in matches:
        flagged = _forget_connection(practice_id, practitioner_id, None, "zoom.deauthorized", APP_REMOVED, notice,
                                     zoom_user_id=zoom_user_id)
        removed += flagged is not None
    return removed


def acknowledge_notice(principal: Principal, practitioner_id: int) -> None:
    with unit_of_work() as session:
        _, profile = _target(session, principal, practitioner_id)
        profile.zoom_notice = ""
