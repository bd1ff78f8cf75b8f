"""Inbound SMS (Twilio's inbound route): Twilio's keywords, and a registry for the practice's own.

Twilio's default keywords for long codes, matched on the WHOLE message (trimmed, case-insensitive,
trailing punctuation ignored; "Stop please" is not a keyword), as Twilio documents them:

- opt-out: STOP, UNSUBSCRIBE, END, QUIT, STOPALL, REVOKE, OPTOUT, CANCEL
  (https://www.twilio.com/docs/messaging/tutorials/advanced-opt-out, "By default, Twilio handles ...");
- opt-in: START, UNSTOP, YES; help: HELP, INFO; "only single-word messages" trigger them
  (https://help.twilio.com/articles/223134027-Twilio-support-for-opt-out-keywords-SMS-STOP-filtering-).

Twilio blocks (or unblocks) the number itself and answers opt-out and opt-in with its own reply, so
we record the change on every client with the number and reply nothing. YES is both Twilio's opt-in
and our "Reply YES to confirm": from an opted-out number it re-subscribes at the carrier, which is
recorded and the practice told, and it still confirms. HELP and INFO get the practice's name and
phone. Any other message whose first word is registered (`register_reply`) goes to that handler,
with every client on the number (families share phones), in the route's transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlmodel import Session, col, select

from rxapp.clock import now
from rxapp.models import Client, Practice, Role, User
from rxapp.services.audit import trail
from rxapp.services.notify.outbox import OutgoingEmail, queue_email
from rxapp.services.notify.sms.phones import to_e164

log = logging.getLogger(__name__)

OPT_OUT = frozenset({"STOP", "UNSUBSCRIBE", "END", "QUIT", "STOPALL", "REVOKE", "OPTOUT", "CANCEL"})
OPT_IN = frozenset({"START", "UNSTOP", "YES"})
HELP = frozenset({"HELP", "INFO"})
_TRAILING = ".,!?;:"

ReplyHandler = Callable[[Session, list[Client], str], "str | None"]
_handlers: dict[str, ReplyHandler] = {}


def register_reply(keyword: str, handler: ReplyHandler) -> None:
    """Route replies whose first word is `keyword` (case-insensitive) to `handler(session, clients,
    body)`, `clients` being every active client with the sender's number (never empty)."""
    word = keyword.strip().upper()
    if word in OPT_OUT or word in HELP or (word in OPT_IN and word != "YES"):
        raise ValueError(f"{word} is one of Twilio's keywords, handled here as Twilio does")
    _handlers[word] = handler


def keyword_of(body: str) -> str:
    """The whole message as Twilio's keyword: trimmed, upper-case, trailing punctuation ignored;
    "" when it is not a single word ("Stop please", "")."""
    text = body.strip().rstrip(_TRAILING).strip()
    return text.upper() if text and len(text.split()) == 1 else ""


def first_word(body: str) -> str:
    """The first word, upper-case, without trailing punctuation ("Yes please" -> "YES")."""
    words = body.strip().split()
    return words[0].strip(_TRAILING).upper() if words else ""


def clients_with_number(session: Session, number: str) -> list[Client]:
    """Every client record with this phone number (a number can belong to several people of a family,
    and to records in several practices)."""
    e164 = to_e164(number) or number
    return list(session.exec(select(Client).where(Client.phone == e164).order_by(col(Client.id))).all())


def _set_consent(session: Session, clients: list[Client], allowed: bool, word: str) -> list[Client]:
    """Every client on the number gets the carrier's state; returns those whose consent changed."""
    changed = [c for c in clients if c.sms_opted_out == allowed]
    for client in changed:
        client.sms_opted_out = not allowed
        trail.record(session, practice_id=client.practice_id, actor_user_id=None,
                     action="client.sms_opted_in" if allowed else "client.sms_opted_out",
                     subject_type="client", subject_id=client.id or 0, by=f"SMS {word}")
    return changed


def _tell_practice(session: Session, clients: list[Client]) -> None:
    """A YES re-subscribed opted-out clients at the carrier: the practice's owners and front desk
    learn it (texts go to them again), once per practice and client."""
    for client in clients:
        staff = session.exec(select(User).where(User.practice_id == client.practice_id, col(User.is_active).is_(True),
                                                col(User.role).in_([Role.OWNER, Role.STAFF]))).all()
        for person in staff:
            queue_email(session, practice_id=client.practice_id,
                        key=f"sms-resubscribed:{client.id}:{person.id}:{now().isoformat()}",
                        email=OutgoingEmail(
                            to=person.email, subject=f"{client.full_name} receives text messages again",
                            text=(f"Hello {person.full_name},\n\n{client.full_name} replied YES from "
                                  f"{client.phone}, which had opted out of text messages. For the mobile "
                                  "carrier (and Twilio) a YES opts the number back in, so the practice's "
                                  "texts reach it again; the client record now says so. If that is not what "
                                  "they meant, turn texts off on their record.\n")))


def _help(session: Session, clients: list[Client]) -> str:
    practices = [session.get(Practice, pid) for pid in dict.fromkeys(c.practice_id for c in clients)]
    named = [p for p in practices if p is not None]
    if not named:
        return "Appointment reminders. Reply STOP to opt out."
    contacts = "; ".join(f"{p.name}{f', call {p.phone}' if p.phone else ''}" for p in named)
    return f"{contacts}: appointment reminders. Msg&data rates may apply. Reply STOP to opt out."


def handle_inbound(session: Session, from_number: str, body: str) -> str | None:
    """Apply one inbound SMS; returns the reply text or None (no reply)."""
    word = keyword_of(body)
    clients = clients_with_number(session, from_number)
    if word in OPT_OUT or word in OPT_IN:
        changed = _set_consent(session, clients, word in OPT_IN, word)
        log.info("sms %s from a number of %d client(s)", "opt-in" if word in OPT_IN else "opt-out", len(clients))
        if word != "YES":
            return None
        if changed:
            _tell_practice(session, changed)
    if word in HELP:
        return _help(session, clients)
    handler = _handlers.get(first_word(body))
    active = [c for c in clients if c.archived_at is None]
    if handler is None or not active:
        return None
    return handler(session, active, body)
