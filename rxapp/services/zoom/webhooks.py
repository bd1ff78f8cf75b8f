"""Zoom webhooks: signature check, URL validation, store-once, then processing.

https://developers.zoom.us/docs/api/webhooks/ . The route answers as soon as the event is
stored (Zoom wants an answer within 3 s); processing happens right after, and a job picks up
anything a crash left unprocessed. Duplicates (Zoom retries, replays) are stored once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from rxapp.db import unit_of_work
from rxapp.models import WebhookEvent, ZoomConnection
from rxapp.services.clock import now
from rxapp.services.zoom import connections

log = logging.getLogger(__name__)

# Zoom signs each delivery when it sends it; allow clock skew ahead and a generous past window
# (its retries come up to ~85 minutes after the event). Replays inside the window are no-ops
# because events are de-duplicated.
MAX_AGE = timedelta(minutes=90)
MAX_SKEW = timedelta(minutes=5)


class BadSignature(Exception):
    """The request is not from Zoom (or is too old)."""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    message = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str | None, signature: str | None, body: bytes) -> None:
    """Raise `BadSignature` unless the signature over the raw body is right and the time is fresh."""
    if not timestamp or not signature or not timestamp.isdigit():
        raise BadSignature("missing signature headers")
    sent = datetime.fromtimestamp(int(timestamp), UTC)
    if sent < now() - MAX_AGE or sent > now() + MAX_SKEW:
        raise BadSignature("stale timestamp")
    if not hmac.compare_digest(sign(secret, timestamp, body), signature):
        raise BadSignature("signature mismatch")


def url_validation_answer(secret: str, plain_token: str) -> dict[str, str]:
    encrypted = hmac.new(secret.encode(), plain_token.encode(), hashlib.sha256).hexdigest()
    return {"plainToken": plain_token, "encryptedToken": encrypted}


def dedupe_key(event: dict[str, Any]) -> str:
    payload = event.get("payload") or {}
    obj = payload.get("object") or {}
    participant = obj.get("participant") or {}
    subject = obj.get("uuid") or obj.get("id") or payload.get("user_id") or ""
    who = participant.get("participant_uuid") or participant.get("user_id") or participant.get("id") or ""
    # Zoom puts event_ts inside payload for app_deauthorized (top level for meeting events).
    event_ts = event.get("event_ts") or payload.get("event_ts")
    return f"{event.get('event')}:{subject}:{who}:{event_ts}"[:255]


def store(event: dict[str, Any]) -> int | None:
    """Store an event once; returns its id, or None when it was already received."""
    payload = event.get("payload") or {}
    account_id = str(payload.get("account_id") or "")
    with unit_of_work() as session:
        practice_id = None
        if account_id:
            practice_id = session.exec(select(ZoomConnection.practice_id)
                                       .where(ZoomConnection.zoom_account_id == account_id)).first()
        row = WebhookEvent(practice_id=practice_id, dedupe_key=dedupe_key(event), event=str(event.get("event", "")),
                           zoom_account_id=account_id, payload=json.dumps(event))
        session.add(row)
        try:
            session.flush()
        except IntegrityError:
            session.rollback()
            return None
        return row.id


# Handlers of other features register here (meetings: meeting.started, meeting.ended, ...).
Handler = Callable[[dict[str, Any]], None]
HANDLERS: dict[str, Handler] = {}


def _app_deauthorized(event: dict[str, Any]) -> None:
    payload = event.get("payload") or {}
    at = payload.get("deauthorization_time") or ""
    try:
        when = datetime.fromisoformat(str(at).replace("Z", "+00:00"))
    except ValueError:
        when = now()
    connections.handle_app_deauthorized(str(payload.get("user_id", "")), str(payload.get("account_id", "")), when)


HANDLERS["app_deauthorized"] = _app_deauthorized


def process(event_id: int) -> None:
    """Act on one stored event (idempotent: a processed event is skipped)."""
    with unit_of_work() as session:
        row = session.get(WebhookEvent, event_id)
        if row is None or row.processed_at is not None:
            return
        event = json.loads(row.payload)
    error = ""
    handler = HANDLERS.get(str(event.get("event")))
    try:
        if handler is not None:
            handler(event)
    except Exception as exc:  # recorded on the row; the job does not retry a handler bug forever
        log.exception("webhook %s failed", event_id)
        error = f"{type(exc).__name__}: {exc}"
    with unit_of_work() as session:
        row = session.get(WebhookEvent, event_id)
        if row is not None:
            row.processed_at, row.error = now(), error[:1000]


def process_pending(limit: int = 100) -> int:
    """Process what a crash or restart left behind; returns how many."""
    with unit_of_work() as session:
        ids = session.exec(select(WebhookEvent.id).where(col(WebhookEvent.processed_at).is_(None))
                           .order_by(col(WebhookEvent.id)).limit(limit)).all()
    for event_id in ids:
        process(event_id or 0)
    return len(ids)
