"""Inbound SMS (Twilio's inbound route): opt-out keywords, and a registry for the others.

STOP and Twilio's other opt-out words set the sender's SMS opt-out, START/UNSTOP clear it (Twilio
itself answers these and blocks further texts, so we reply nothing). Any other first word is
looked up in the registry (e.g. YES to confirm an appointment, registered by the reminders);
its handler runs in the route's transaction and returns the reply text, or None.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlmodel import Session, col, select

from rxapp.models import Client
from rxapp.services.notify.sms.phones import to_e164

log = logging.getLogger(__name__)

OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "CANCEL", "OPTOUT", "REVOKE"})
OPT_IN = frozenset({"START", "UNSTOP"})

ReplyHandler = Callable[[Session, Client, str], "str | None"]
_handlers: dict[str, ReplyHandler] = {}


def register_reply(keyword: str, handler: ReplyHandler) -> None:
    """Route replies whose first word is `keyword` (case-insensitive) to `handler(session, client, body)`."""
    word = keyword.strip().upper()
    if word in OPT_OUT or word in OPT_IN:
        raise ValueError(f"{word} is an opt-out keyword handled by the SMS provider")
    _handlers[word] = handler


def keyword_of(body: str) -> str:
    """The first word, upper-case, without trailing punctuation ("Yes!" -> "YES")."""
    words = body.strip().split()
    return words[0].strip(".,!?;:").upper() if words else ""


def clients_with_number(session: Session, number: str) -> list[Client]:
    """Every client record with this phone number (a number can belong to records in several practices)."""
    e164 = to_e164(number) or number
    return list(session.exec(select(Client).where(Client.phone == e164).order_by(col(Client.id))).all())


def handle_inbound(session: Session, from_number: str, body: str) -> str | None:
    """Apply one inbound SMS; returns the reply text or None (no reply)."""
    word = keyword_of(body)
    clients = clients_with_number(session, from_number)
    if word in OPT_OUT or word in OPT_IN:
        for client in clients:
            client.sms_opted_out = word in OPT_OUT
        log.info("sms %s from a number of %d client(s)", "opt-out" if word in OPT_OUT else "opt-in", len(clients))
        return None
    handler = _handlers.get(word)
    if handler is None:
        return None
    for client in clients:
        if client.archived_at is not None:
            continue
        reply = handler(session, client, body)
        if reply is not None:
            return reply
    return None
