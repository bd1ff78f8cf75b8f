"""The notification outbox: every email goes through here.

`queue_email` adds a row to the caller's transaction, so a message exists exactly when the
change it reports was committed; the idempotency key makes re-queuing the same message a
no-op. `deliver_due` claims rows with a compare-and-swap on `claimed_until` (safe with
several processes on SQLite or PostgreSQL), sends them, and retries failures with backoff.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from rxapp.db import unit_of_work
from rxapp.models import Channel, Notification, NotificationStatus
from rxapp.services.clock import now
from rxapp.settings import get_settings

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
_CLAIM_FOR = timedelta(minutes=2)


@dataclass(frozen=True)
class OutgoingEmail:
    to: str
    subject: str
    text: str
    html: str = ""
    ics: str = ""


Sender = Callable[[OutgoingEmail], None]


def queue_email(session: Session, *, practice_id: int, key: str, email: OutgoingEmail) -> None:
    """Queue an email in the caller's transaction; a second call with the same key does nothing."""
    if session.exec(select(Notification.id).where(Notification.idempotency_key == key)).first():
        return
    session.add(Notification(practice_id=practice_id, idempotency_key=key, channel=Channel.EMAIL,
                             to_address=email.to, subject=email.subject, body_text=email.text,
                             body_html=email.html, ics=email.ics))


def build_message(email: OutgoingEmail) -> EmailMessage:
    settings = get_settings()
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = email.to
    msg["Subject"] = email.subject
    msg["Message-ID"] = make_msgid(domain="telehealth.local")
    msg.set_content(email.text)
    if email.html:
        msg.add_alternative(email.html, subtype="html")
    if email.ics:
        msg.add_attachment(email.ics.encode(), maintype="text", subtype="calendar",
                           filename="session.ics", params={"method": "REQUEST"})
    return msg


def smtp_send(email: OutgoingEmail) -> None:
    """Send one email through the configured SMTP server (the local catcher by default)."""
    settings = get_settings()
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password)
        smtp.send_message(build_message(email))


def _claim_due(limit: int) -> list[Notification]:
    at = now()
    with unit_of_work() as session:
        candidates = session.exec(
            select(Notification).where(
                col(Notification.status).in_([NotificationStatus.PENDING, NotificationStatus.SENDING]),
                Notification.next_attempt_at <= at,
                or_(col(Notification.claimed_until).is_(None), col(Notification.claimed_until) < at),
            ).order_by(col(Notification.id)).limit(limit)
        ).all()
        claimed = []
        for row in candidates:
            result = session.execute(
                update(Notification)
                .where(col(Notification.id) == row.id,
                       or_(col(Notification.claimed_until).is_(None), col(Notification.claimed_until) < at))
                .values(claimed_until=at + _CLAIM_FOR, status=NotificationStatus.SENDING)
            )
            if result.rowcount == 1:
                claimed.append(row)
        return claimed


def deliver_due(send: Sender | None = None, limit: int = 50) -> int:
    """Send what is due; returns how many were sent. Blocking: run it in a worker thread."""
    send = send or smtp_send
    sent = 0
    for row in _claim_due(limit):
        email = OutgoingEmail(to=row.to_address, subject=row.subject, text=row.body_text,
                              html=row.body_html, ics=row.ics)
        error = ""
        try:
            send(email)
        except (OSError, smtplib.SMTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.warning("email %s not sent: %s", row.id, error)
        with unit_of_work() as session:
            stored = session.get(Notification, row.id)
            if stored is None:
                continue
            stored.attempts += 1
            stored.claimed_until = None
            if not error:
                stored.status, stored.sent_at, stored.last_error = NotificationStatus.SENT, now(), ""
                sent += 1
            elif stored.attempts >= MAX_ATTEMPTS:
                stored.status, stored.last_error = NotificationStatus.FAILED, error
            else:
                stored.status, stored.last_error = NotificationStatus.PENDING, error
                stored.next_attempt_at = now() + timedelta(seconds=min(3600, 15 * 2 ** stored.attempts))
    return sent
