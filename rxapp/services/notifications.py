"""The notification outbox: every email goes through here.

`queue_email` adds a row to the caller's transaction, so a message exists exactly when the
change it reports was committed; the idempotency key makes re-queuing the same message a
no-op. `deliver_due` claims rows with a compare-and-swap on `claimed_until` (a lease, safe with
several processes on SQLite or PostgreSQL), sends them, and marks a failure `failed` with its
reason and retries it with backoff until `MAX_ATTEMPTS`.
"""

from __future__ import annotations

import logging
import smtplib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address, AddressHeader
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import make_msgid

from sqlalchemy import ColumnElement, and_, or_, update
from sqlmodel import Session, col, select

from rxapp.db import unit_of_work
from rxapp.models import Channel, Notification, NotificationStatus
from rxapp.redaction import redact
from rxapp.services.clock import now
from rxapp.settings import get_settings

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# How long a sender owns a claimed message; a message left in `sending` by a crash is taken again after it.
LEASE = timedelta(minutes=2)


@dataclass(frozen=True)
class OutgoingEmail:
    to: str
    subject: str
    text: str
    html: str = ""
    ics: str = ""


Sender = Callable[[OutgoingEmail], None]

_BREAKING = {"Cc", "Zl", "Zp"}  # control characters, line and paragraph separators


def one_line(text: str, limit: int = 300) -> str:
    """A header-safe single line: CR, LF, other control characters and line separators become
    spaces (a newline in a topic or a name must never split a header or fail the message)."""
    return " ".join("".join(" " if unicodedata.category(c) in _BREAKING else c for c in text).split())[:limit]


def queue_email(session: Session, *, practice_id: int, key: str, email: OutgoingEmail) -> None:
    """Queue an email in the caller's transaction; a second call with the same key does nothing."""
    if session.exec(select(Notification.id).where(Notification.idempotency_key == key)).first():
        return
    session.add(Notification(practice_id=practice_id, idempotency_key=key, channel=Channel.EMAIL,
                             to_address=one_line(email.to, 320), subject=one_line(email.subject),
                             body_text=email.text, body_html=email.html, ics=email.ics))


def _address(value: str) -> Address:
    """One mailbox, display name folded to one line; raises `ValueError` for what is not one."""
    parsed = AddressHeader.value_parser(one_line(value, 500))
    mailboxes = parsed.all_mailboxes
    if len(mailboxes) != 1 or not mailboxes[0].local_part or not mailboxes[0].domain or parsed.all_defects:
        raise ValueError(f"not one email address: {one_line(value, 80)!r}")
    box = mailboxes[0]
    return Address(display_name=one_line(box.display_name or ""), username=box.local_part, domain=box.domain)


def build_message(email: OutgoingEmail) -> EmailMessage:
    """The MIME message, built with the email library's header handling (SMTP policy: encoded
    words for non-ASCII, CRLF line ends); raises `ValueError` for an unusable address."""
    settings = get_settings()
    msg = EmailMessage(policy=SMTP)
    msg["From"] = _address(settings.mail_from)
    msg["To"] = _address(email.to)
    msg["Subject"] = one_line(email.subject)
    msg["Message-ID"] = make_msgid(domain="telehealth.local")
    msg.set_content(email.text)
    if email.html:
        msg.add_alternative(email.html, subtype="html")
    if email.ics:
        msg.add_attachment(email.ics.encode(), maintype="text", subtype="calendar",
                           filename="session.ics",
                           params={"method": "CANCEL" if "METHOD:CANCEL" in email.ics else "REQUEST"})
    return msg


def smtp_send(email: OutgoingEmail) -> None:
    """Send one email through the configured SMTP server (the local catcher by default)."""
    settings = get_settings()
    message = build_message(email)  # before connecting: a message that cannot be built is not sent
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password)
        smtp.send_message(message)


def _due(at: datetime) -> ColumnElement[bool]:
    """Waiting, failed with attempts left, or claimed by a sender whose lease ran out."""
    return and_(
        or_(col(Notification.status).in_([NotificationStatus.PENDING, NotificationStatus.SENDING]),
            and_(col(Notification.status) == NotificationStatus.FAILED, col(Notification.attempts) < MAX_ATTEMPTS)),
        col(Notification.next_attempt_at) <= at,
        or_(col(Notification.claimed_until).is_(None), col(Notification.claimed_until) < at),
    )


def _claim_due(limit: int) -> list[Notification]:
    at = now()
    with unit_of_work() as session:
        candidates = session.exec(
            select(Notification).where(_due(at)).order_by(col(Notification.id)).limit(limit)).all()
        claimed = []
        for row in candidates:
            result = session.execute(
                update(Notification)
                .where(col(Notification.id) == row.id, _due(at))
                .values(claimed_until=at + LEASE, status=NotificationStatus.SENDING)
            )
            if result.rowcount == 1:
                claimed.append(row)
        return claimed


def retry_delay(attempts: int) -> timedelta:
    """Backoff after the `attempts`-th failed send: 30 s, 1, 2, 4 … minutes, at most an hour."""
    return timedelta(seconds=min(3600, 15 * 2 ** attempts))


def _record(row_id: int, error: str) -> bool:
    """Store the outcome of one send; a failure is `failed` with its reason and, while attempts
    are left, a retry time. Returns whether it was sent."""
    with unit_of_work() as session:
        stored = session.get(Notification, row_id)
        if stored is None:
            return False
        stored.attempts += 1
        stored.claimed_until = None
        if not error:
            stored.status, stored.sent_at, stored.last_error = NotificationStatus.SENT, now(), ""
            return True
        stored.status, stored.last_error, stored.failed_at = NotificationStatus.FAILED, error[:1000], now()
        if stored.attempts < MAX_ATTEMPTS:
            stored.next_attempt_at = now() + retry_delay(stored.attempts)
        return False


def deliver_due(send: Sender | None = None, limit: int = 50) -> int:
    """Send what is due; returns how many were sent. Blocking: run it in a worker thread.

    Any error of one message (SMTP down, an address or header that cannot be encoded, a bug)
    is recorded on that message and never stops the others or leaves it in `sending`."""
    send = send or smtp_send
    sent = 0
    for row in _claim_due(limit):
        email = OutgoingEmail(to=row.to_address, subject=row.subject, text=row.body_text,
                              html=row.body_html, ics=row.ics)
        error = ""
        try:
            send(email)
        except Exception as exc:  # recorded on the row and retried with backoff
            error = redact(f"{type(exc).__name__}: {exc}")
            log.warning("email %s not sent: %s", row.id, error)
        sent += _record(row.id or 0, error)
    return sent
