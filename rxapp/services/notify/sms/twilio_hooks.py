"""Twilio's calls to us: delivery status callbacks and inbound SMS, both signed.

Twilio signs each request with `X-Twilio-Signature`: base64 of HMAC-SHA1, keyed with the auth
token, over the full URL it called followed by every POST parameter, sorted by name, as
name + value. We rebuild the URL from APP_URL (what Twilio was given), not from the request,
so a proxy in between does not change it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from xml.sax.saxutils import escape

from sqlmodel import select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import Notification, NotificationStatus
from rxapp.services.notify.sms import credits, inbound
from rxapp.settings import get_settings

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
# Later states win; a callback that arrives late (e.g. "sent" after "delivered") changes nothing.
_RANK = {"accepted": 1, "scheduled": 1, "queued": 1, "sending": 2, "sent": 3, "delivered": 4, "read": 5,
         "undelivered": 4, "failed": 4, "canceled": 4}
FAILED_STATES = frozenset({"failed", "undelivered"})


def signature(token: str, url: str, params: list[tuple[str, str]]) -> str:
    """The `X-Twilio-Signature` value Twilio sends for a POST of `params` to `url`."""
    data = url + "".join(k + v for k, v in sorted(params, key=lambda kv: kv[0]))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def signed_url(path: str, query: str = "") -> str:
    """The URL Twilio called (APP_URL + path + query)."""
    return get_settings().app_url.rstrip("/") + path + (f"?{query}" if query else "")


def valid_signature(url: str, params: list[tuple[str, str]], given: str | None) -> bool:
    """Whether `given` is Twilio's signature of this request (always False without an auth token)."""
    token = get_settings().twilio_auth_token
    if not token or not given:
        return False
    return hmac.compare_digest(signature(token, url, params), given)


def record_status(params: dict[str, str]) -> bool:
    """Store a delivery status on its message; a failed or undelivered SMS gets its credits back
    and shows on the owner's Needs attention page. Returns whether the message was found."""
    sid, status = params.get("MessageSid", ""), params.get("MessageStatus", "").lower()
    if not sid or status not in _RANK:
        return False
    with unit_of_work() as session:
        practice_id = session.exec(select(Notification.practice_id)
                                   .where(Notification.provider_message_id == sid)).first()
    if practice_id is None:
        return False
    with unit_of_work() as session:
        credits.lock_practice(session, practice_id)  # first statement: see services.notify.sms.credits
        row = session.exec(select(Notification).where(Notification.provider_message_id == sid)).one()
        if _RANK.get(row.delivery_status, 0) > _RANK[status]:
            return True
        row.delivery_status = status
        if status in FAILED_STATES:
            code = params.get("ErrorCode", "")[:20]
            refunded = credits.refund(session, practice_id=row.practice_id, notification_id=row.id or 0,
                                      note=f"SMS {status}" + (f" (error {code})" if code else ""))
            row.status, row.error_code, row.failed_at = NotificationStatus.FAILED, code, now()
            row.last_error = f"SMS {status} by the carrier" + (f" (Twilio error {code})" if code else "") + (
                f"; {refunded} credits refunded" if refunded else "")
        return True


def handle_inbound(params: dict[str, str]) -> str:
    """Apply one inbound SMS; returns the TwiML answer."""
    with unit_of_work() as session:
        reply = inbound.handle_inbound(session, params.get("From", ""), params.get("Body", ""))
    return twiml(reply)


def twiml(reply: str | None) -> str:
    """A TwiML response: one message, or none."""
    head = '<?xml version="1.0" encoding="UTF-8"?>'
    return f"{head}<Response><Message>{escape(reply)}</Message></Response>" if reply else f"{head}<Response/>"
