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

from sqlalchemy import delete, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import Appointment, Meeting, WebhookEvent, ZoomConnection
from rxapp.redaction import redact
from rxapp.services.telehealth.zoom import connections
from rxapp.settings import get_settings

log = logging.getLogger(__name__)

# Zoom signs each delivery when it sends it; allow clock skew ahead and a generous past window
# (its retries come up to ~85 minutes after the event). Replays inside the window are no-ops
# because events are de-duplicated.
MAX_AGE = timedelta(minutes=90)
MAX_SKEW = timedelta(minutes=5)
# Zoom events are small; anything larger is refused before it is read whole.
MAX_BODY_BYTES = 256 * 1024
# A handler failure is retried this many times in all (1, 2, 4, 8 minutes apart), then given up.
MAX_ATTEMPTS = 5
_LEASE = timedelta(minutes=5)


class BadSignature(Exception):
    """The request is not from Zoom (or is too old)."""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    message = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str | None, signature: str | None, body: bytes) -> None:
    """Raise `BadSignature` unless the signature over the raw body is right and the time is fresh."""
    if not timestamp or not signature or not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        raise BadSignature("missing signature headers")
    sent = datetime.fromtimestamp(int(timestamp), UTC)
    if sent < now() - MAX_AGE or sent > now() + MAX_SKEW:
        raise BadSignature("stale timestamp")
    if not hmac.compare_digest(sign(secret, timestamp, body), signature):
        raise BadSignature("signature mismatch")


def url_validation_answer(secret: str, plain_token: str) -> dict[str, str]:
    encrypted = hmac.new(secret.encode(), plain_token.encode(), hashlib.sha256).hexdigest()
    return {"plainToken": plain_token, "encryptedToken": encrypted}


class BadEvent(ValueError):
    """A signed body that is not a Zoom event we can store (answered 400, never 500)."""


# Bounds of what Zoom sends: ids are int64, times are epoch milliseconds that a datetime can hold.
_MAX_ID = 2**63 - 1
_MAX_EVENT_TS = int(datetime(9999, 12, 31, tzinfo=UTC).timestamp() * 1000)
_MAX_TEXT = 255


def _object(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadEvent(f"{where} is not a JSON object")
    return value


def _check_id(value: Any, where: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise BadEvent(f"{where} is not an id")
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        if len(value) > _MAX_TEXT:
            raise BadEvent(f"{where} is too long")
        return
    if not 0 <= int(value) <= _MAX_ID:
        raise BadEvent(f"{where} is out of range")


def _check_text(value: Any, where: str) -> None:
    if value is not None and (not isinstance(value, str) or len(value) > _MAX_TEXT):
        raise BadEvent(f"{where} is not a short text")


def _check_ts(value: Any, where: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise BadEvent(f"{where} is not a number")
    if not 0 <= value <= _MAX_EVENT_TS:
        raise BadEvent(f"{where} is out of range")


def parse_event(body: bytes) -> dict[str, Any]:
    """The event in a verified body; raises `BadEvent` for anything we could not store or act on."""
    try:
        event = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise BadEvent("body is not JSON") from exc
    if not isinstance(event, dict):
        raise BadEvent("body is not a JSON object")
    name = event.get("event")
    if not isinstance(name, str) or not name or len(name) > 100:
        raise BadEvent("event name is missing")
    payload = _object(event.get("payload"), "payload")
    obj = _object(payload.get("object"), "payload.object")
    participant = _object(obj.get("participant"), "payload.object.participant")
    _check_ts(event.get("event_ts"), "event_ts")
    _check_ts(payload.get("event_ts"), "payload.event_ts")
    _check_id(obj.get("id"), "payload.object.id")
    for where, value in (("payload.account_id", payload.get("account_id")), ("payload.user_id", payload.get("user_id")),
                         ("payload.signature", payload.get("signature")), ("payload.object.uuid", obj.get("uuid")),
                         ("payload.object.host_id", obj.get("host_id"))):
        _check_text(value, where)
    for key in ("user_id", "participant_uuid", "id", "participant_user_id"):
        _check_id(participant.get(key), f"payload.object.participant.{key}")
    if name == "endpoint.url_validation" and not isinstance(payload.get("plainToken"), str):
        raise BadEvent("payload.plainToken is missing")
    return event


def event_ts(event: dict[str, Any]) -> int | None:
    """When Zoom says the event happened (ms): at the top for meeting events, inside the payload
    for `app_deauthorized`."""
    value = event.get("event_ts")
    if value is None:
        value = (event.get("payload") or {}).get("event_ts")
    return None if value is None else int(value)


def dedupe_key(event: dict[str, Any]) -> str:
    """The same for every delivery of one event, different for two events (Zoom retries and
    replays carry the same body; ZOOM.md: de-duplicate on event, object and event_ts)."""
    payload = event.get("payload") or {}
    obj = payload.get("object") or {}
    participant = obj.get("participant") or {}
    subject = obj.get("uuid") or obj.get("id") or payload.get("user_id") or ""
    who = participant.get("participant_uuid") or participant.get("user_id") or participant.get("id") or ""
    # `signature` names one deauthorization of one user; `deauthorization_time` is the older shape's fallback.
    instance = ":".join(str(v) for v in (event_ts(event), payload.get("signature"), payload.get("deauthorization_time"))
                        if v is not None)
    if not instance:  # nothing says which occurrence this is: only a byte-identical retry may collide
        instance = "body:" + hashlib.sha256(json.dumps(event, sort_keys=True).encode()).hexdigest()
    key = f"{event.get('event')}:{payload.get('account_id') or ''}:{subject}:{who}:{instance}"
    if len(key) > 255:
        key = f"{str(event.get('event'))[:100]}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"
    return key


# What processing needs, and nothing else: no join_url, start_url, passwords, passcodes, tokens,
# names or emails of participants, recurrence or settings (an allow-list, so new fields stay out).
_KEEP_PAYLOAD = ("account_id", "user_id", "deauthorization_time")
_KEEP_OBJECT = ("id", "uuid", "host_id", "topic", "type", "start_time", "end_time", "duration", "timezone")
_KEEP_PARTICIPANT = ("user_id", "participant_uuid", "id", "participant_user_id", "join_time", "date_time",
                     "leave_time")

# Who a participant is ("host", "client" or "participant"), decided as the event arrives from the name
# and email Zoom reports, which are then dropped (services.telehealth.meetings.attendance registers it).
Recognise = Callable[[Session, dict[str, Any]], str]
RECOGNISERS: list[Recognise] = []


def _pick(source: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: source[k] for k in keys if k in source}


def minimal_event(event: dict[str, Any], role: str = "") -> dict[str, Any]:
    """The part of an event that is stored: the allow-listed fields, with `event_ts` at the top, and
    a participant's `role` in place of their name and email."""
    payload = event.get("payload") or {}
    kept: dict[str, Any] = _pick(payload, _KEEP_PAYLOAD)
    obj = payload.get("object")
    if isinstance(obj, dict):
        kept["object"] = _pick(obj, _KEEP_OBJECT)
        if isinstance(obj.get("participant"), dict):
            kept["object"]["participant"] = _pick(obj["participant"], _KEEP_PARTICIPANT)
            if role:
                kept["object"]["participant"]["role"] = role
    return {"event": event.get("event"), "event_ts": event_ts(event), "payload": kept}


def _practice_of(session: Session, obj: dict[str, Any], account_id: str) -> int | None:
    """The practice an event is about: its meeting's; else the one practice connected to its Zoom account
    (None when there is none, or several: one Zoom account may serve practitioners of two practices)."""
    try:
        zoom_id = int(obj.get("id"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        zoom_id = None
    if zoom_id is not None:
        found = session.exec(select(Appointment.practice_id).join(Meeting, col(Meeting.id) == Appointment.id)
                             .where(Meeting.zoom_meeting_id == zoom_id)).first()
        if found is not None:
            return found
    if not account_id:
        return None
    practices = set(session.exec(select(ZoomConnection.practice_id)
                                 .where(ZoomConnection.zoom_account_id == account_id)).all())
    return practices.pop() if len(practices) == 1 else None


def store(event: dict[str, Any]) -> int | None:
    """Store an event once (only what processing needs); returns its id, or None when it was
    already received."""
    payload = event.get("payload") or {}
    account_id = str(payload.get("account_id") or "")
    obj = payload.get("object") or {}
    with unit_of_work() as session:
        practice_id = _practice_of(session, obj, account_id)
        role = RECOGNISERS[0](session, obj) if RECOGNISERS and isinstance(obj.get("participant"), dict) else ""
        row = WebhookEvent(practice_id=practice_id, dedupe_key=dedupe_key(event), event=str(event.get("event", "")),
                           zoom_account_id=account_id, payload=json.dumps(minimal_event(event, role)))
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


def _claim(event_id: int) -> dict[str, Any] | None:
    """Take the event for one run (compare-and-swap on `next_attempt_at`, so the route's task and
    the job never run it twice at once); a crashed run is taken again after the lease."""
    at = now()
    with unit_of_work() as session:
        result = session.execute(
            update(WebhookEvent)
            .where(col(WebhookEvent.id) == event_id, col(WebhookEvent.processed_at).is_(None),
                   or_(col(WebhookEvent.next_attempt_at).is_(None), col(WebhookEvent.next_attempt_at) <= at))
            .values(next_attempt_at=at + _LEASE))
        if result.rowcount != 1:
            return None
        row = session.get(WebhookEvent, event_id)
        return json.loads(row.payload) if row is not None else None


def retry_delay(attempts: int) -> timedelta:
    """Backoff after the `attempts`-th failed run: 1, 2, 4, 8 minutes …, at most an hour."""
    return timedelta(seconds=min(3600, 30 * 2 ** attempts))


def process(event_id: int) -> None:
    """Act on one stored event. A failure is retried with backoff; after `MAX_ATTEMPTS` runs the
    event is given up as failed with its reason (idempotent: a processed event is skipped)."""
    event = _claim(event_id)
    if event is None:
        return
    error = ""
    handler = HANDLERS.get(str(event.get("event")))
    try:
        if handler is not None:
            handler(event)
    except Exception as exc:  # recorded on the row and retried; the log line carries no secrets
        log.exception("Zoom event %s failed", event_id)
        error = redact(f"{type(exc).__name__}: {exc}")[:1000]
    with unit_of_work() as session:
        row = session.get(WebhookEvent, event_id)
        if row is None:
            return
        row.attempts += 1
        row.error = error
        if not error:
            row.processed_at, row.next_attempt_at = now(), None
        elif row.attempts >= MAX_ATTEMPTS:
            row.processed_at = row.failed_at = now()
            row.next_attempt_at = None
        else:
            row.next_attempt_at = now() + retry_delay(row.attempts)


def process_pending(limit: int = 100) -> int:
    """Process what is due: retries, and what a crash or restart left behind; returns how many."""
    at = now()
    with unit_of_work() as session:
        ids = session.exec(select(WebhookEvent.id).where(
            col(WebhookEvent.processed_at).is_(None),
            or_(col(WebhookEvent.next_attempt_at).is_(None), col(WebhookEvent.next_attempt_at) <= at),
        ).order_by(col(WebhookEvent.id)).limit(limit)).all()
    for event_id in ids:
        process(event_id or 0)
    return len(ids)


def prune_processed(retention: timedelta | None = None) -> int:
    """Delete events processed (or given up) longer ago than the retention period; returns how many.
    Replays of such old events are refused anyway: their signature timestamp is stale."""
    retention = retention or timedelta(days=get_settings().webhook_retention_days)
    with unit_of_work() as session:
        result = session.execute(delete(WebhookEvent).where(col(WebhookEvent.processed_at) < now() - retention))
        return result.rowcount or 0
