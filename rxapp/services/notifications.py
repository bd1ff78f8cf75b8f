"""The notification outbox: every email and SMS goes through here.

`queue_email` and `queue_sms` add a row to the caller's transaction, so a message exists exactly when the
change it reports was committed; the idempotency key makes re-queuing the same message a
no-op. `deliver_due` claims rows with a compare-and-swap on `claimed_until` (a lease, safe with
several processes on SQLite or PostgreSQL), sends them, and marks a failure `failed` with its
reason and retries it with backoff until `MAX_ATTEMPTS`.

An SMS is charged to the practice's credit ledger just before it is handed to the provider (so
two workers cannot overdraw), and the charge is taken back if the provider refuses it: only an
accepted SMS costs credits. Too few credits fail it for good with "not enough SMS credits"; the
email sent for the same event is a separate row and goes regardless.
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
from rxapp.models import Channel, Client, Notification, NotificationStatus
from rxapp.redaction import redact
from rxapp.services import crypto
from rxapp.services.clock import now
from rxapp.services.sms import credits as sms_credits
from rxapp.services.sms.phones import to_e164
from rxapp.services.sms.providers import OutgoingSms, SmsProvider, SmsProviderError, get_provider
from rxapp.services.sms.segments import count_segments, credits_for
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


def _seal(body: str, sealed: bool) -> str:
    return crypto.encrypt(body) if sealed and body else body


def opened(row: Notification) -> tuple[str, str]:
    """A message's text and HTML bodies as sent (a sealed message's are decrypted)."""
    if not row.sealed:
        return row.body_text, row.body_html
    return (crypto.decrypt(row.body_text) if row.body_text else "",
            crypto.decrypt(row.body_html) if row.body_html else "")


def queue_email(session: Session, *, practice_id: int, key: str, email: OutgoingEmail, sealed: bool = False) -> None:
    """Queue an email in the caller's transaction; a second call with the same key does nothing.
    `sealed`: the bodies carry a secret (a join link and passcode) and are stored encrypted."""
    if session.exec(select(Notification.id).where(Notification.idempotency_key == key)).first():
        return
    session.add(Notification(practice_id=practice_id, idempotency_key=key, channel=Channel.EMAIL,
                             to_address=one_line(email.to, 320), subject=one_line(email.subject),
                             body_text=_seal(email.text, sealed), body_html=_seal(email.html, sealed), ics=email.ics,
                             sealed=sealed))


OPTED_OUT = "client opted out of SMS"
NO_MOBILE = "no mobile number"


def queue_sms(session: Session, *, practice_id: int, key: str, to: str, body: str, telehealth: bool,
              client_id: int | None = None, sealed: bool = False) -> str:
    """Queue an SMS in the caller's transaction; returns "" when queued, else why it is skipped
    (the client opted out, no usable mobile number). A skipped SMS is still recorded (status
    `skipped`, the reason in `last_error`). A second call with the same key does nothing and
    returns the first call's answer. Credits are checked when it is sent, not here. `sealed` as
    for `queue_email`."""
    existing = session.exec(select(Notification).where(Notification.idempotency_key == key)).first()
    if existing is not None:
        return existing.last_error if existing.status == NotificationStatus.SKIPPED else ""
    client = session.get(Client, client_id) if client_id is not None else None
    number = to_e164(to) if to else ""
    reason = OPTED_OUT if client is not None and client.sms_opted_out else ("" if number else NO_MOBILE)
    count = count_segments(body)
    session.add(Notification(
        practice_id=practice_id, idempotency_key=key, channel=Channel.SMS, to_address=number or one_line(to, 32),
        subject="", body_text=_seal(body, sealed), sealed=sealed, client_id=client_id, telehealth=telehealth,
        segments=count.segments,
        sms_encoding=count.encoding.value, credits=credits_for(body, telehealth=telehealth),
        status=NotificationStatus.SKIPPED if reason else NotificationStatus.PENDING, last_error=reason))
    return reason


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


class SmtpBatch:
    """A sender that keeps one SMTP connection for a whole batch (a connection per message costs
    more than the message). After any error the connection is dropped: the next message connects
    afresh, and the failed one is recorded and retried by the outbox as usual."""

    def __init__(self) -> None:
        self._smtp: smtplib.SMTP | None = None

    def __call__(self, email: OutgoingEmail) -> None:
        message = build_message(email)  # before connecting: a message that cannot be built is not sent
        try:
            if self._smtp is None:
                self._smtp = _connect()
            self._smtp.send_message(message)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()


def _connect() -> smtplib.SMTP:
    settings = get_settings()
    smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15)
    try:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password)
    except BaseException:
        smtp.close()
        raise
    return smtp


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
                # Not matched against every loaded row (quadratic in the batch): the rows are read only.
                .execution_options(synchronize_session=False)
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


def _finish(stored: Notification, status: NotificationStatus, error: str) -> None:
    """A message that will not be tried again (refused by the provider, no credits, opted out)."""
    stored.attempts, stored.claimed_until = max(stored.attempts + 1, MAX_ATTEMPTS), None
    stored.status, stored.last_error, stored.failed_at = status, error[:1000], now()


def _reserve_sms(row: Notification) -> OutgoingSms | None:
    """Charge the SMS (race-safe) or settle it without sending; None when it is not to be sent."""
    with unit_of_work() as session:
        sms_credits.lock_practice(session, row.practice_id)  # first statement: see services.sms.credits
        stored = session.get(Notification, row.id)
        if stored is None:
            return None
        client = session.get(Client, stored.client_id) if stored.client_id is not None else None
        if client is not None and client.sms_opted_out:  # consent can change after queuing
            _finish(stored, NotificationStatus.SKIPPED, OPTED_OUT)
            return None
        if not sms_credits.charge(session, practice_id=stored.practice_id, notification_id=stored.id or 0,
                                  credits=stored.credits, note=f"SMS to {stored.to_address}"):
            _finish(stored, NotificationStatus.FAILED, sms_credits.NOT_ENOUGH)
            log.warning("sms %s not sent: %s", stored.id, sms_credits.NOT_ENOUGH)
            sms_credits.warn_if_low(session, stored.practice_id)
            return None
        sms_credits.warn_if_low(session, stored.practice_id)
        return OutgoingSms(to=stored.to_address, body=opened(stored)[0], practice_id=stored.practice_id,
                           notification_id=stored.id or 0, segments=stored.segments, encoding=stored.sms_encoding,
                           credits=stored.credits)


def _record_sms(row_id: int, accepted_id: str, accepted_status: str, error: SmsProviderError | None) -> bool:
    """Store what the provider said. A refusal takes the charge back; 429/5xx/network retry with
    backoff, other codes fail for good. Returns whether it was sent."""
    with unit_of_work() as session:
        stored = session.get(Notification, row_id)
        if stored is None:
            return False
        if error is None:
            stored.attempts += 1
            stored.claimed_until = None
            stored.status, stored.sent_at, stored.last_error, stored.error_code = (
                NotificationStatus.SENT, now(), "", "")
            stored.provider_message_id, stored.delivery_status = accepted_id[:64], accepted_status[:20]
            return True
        sms_credits.release(session, row_id)
        stored.error_code = error.code[:20]
        reason = redact(f"provider error {error.code}: {error.reason}")
        if error.retry:
            stored.attempts += 1
            stored.claimed_until = None
            stored.status, stored.last_error, stored.failed_at = NotificationStatus.FAILED, reason[:1000], now()
            if stored.attempts < MAX_ATTEMPTS:
                stored.next_attempt_at = now() + retry_delay(stored.attempts)
        else:
            _finish(stored, NotificationStatus.FAILED, reason)
        return False


def _deliver_sms(row: Notification, provider: SmsProvider) -> bool:
    sms = _reserve_sms(row)
    if sms is None:
        return False
    try:
        accepted = provider.send(sms)
    except SmsProviderError as exc:
        log.warning("sms %s not sent: provider error %s", row.id, exc.code)
        return _record_sms(row.id or 0, "", "", exc)
    except Exception as exc:  # a bug or an unexpected answer: recorded and retried like a 5xx
        log.warning("sms %s not sent: %s", row.id, type(exc).__name__)
        return _record_sms(row.id or 0, "", "", SmsProviderError("error", redact(f"{type(exc).__name__}: {exc}"),
                                                                  retry=True))
    return _record_sms(row.id or 0, accepted.message_id, accepted.status, None)


def deliver_due(send: Sender | None = None, limit: int = 50, sms_provider: SmsProvider | None = None) -> int:
    """Send what is due, each message by its channel; returns how many were sent. Blocking: run
    it in a worker thread.

    Any error of one message (SMTP down, an address or header that cannot be encoded, a
    provider refusal, a bug) is recorded on that message and never stops the others or leaves
    it in `sending`."""
    batch = SmtpBatch() if send is None else None
    send = send or batch or smtp_send
    try:
        return _deliver(_claim_due(limit), send, sms_provider)
    finally:
        if batch is not None:
            batch.close()


def _deliver(rows: list[Notification], send: Sender, sms_provider: SmsProvider | None) -> int:
    sent = 0
    provider: SmsProvider | None = sms_provider
    for row in rows:
        if row.channel == Channel.SMS:
            provider = provider or get_provider()
            try:
                sent += _deliver_sms(row, provider)
            except Exception:  # e.g. the database went away: the lease runs out and it is tried again
                log.exception("sms %s not delivered", row.id)
            continue
        text, html = opened(row)
        email = OutgoingEmail(to=row.to_address, subject=row.subject, text=text, html=html, ics=row.ics)
        error = ""
        try:
            send(email)
        except Exception as exc:  # recorded on the row and retried with backoff
            error = redact(f"{type(exc).__name__}: {exc}")
            log.warning("email %s not sent: %s", row.id, error)
        sent += _record(row.id or 0, error)
    return sent
