"""The notification outbox: every email and SMS goes through here.

`queue_email` and `queue_sms` add a row to the caller's transaction, so a message exists exactly when the
change it reports was committed; the idempotency key makes re-queuing the same message a
no-op (`look_up_keys` checks a whole batch's keys in one query first). `deliver_due` works in
batches, in three transactions whatever the batch size:
1. claim: ONE `UPDATE ... WHERE id IN (due ids, FOR UPDATE SKIP LOCKED on PostgreSQL) AND due
   RETURNING` sets a lease (`claimed_until`); re-checking "due" makes it a compare-and-swap, so
   two senders (threads or processes, SQLite or PostgreSQL) never get the same row;
2. charge the batch's SMS (below);
3. after handing every message over, record all outcomes: sent, or `failed` with its reason and
   a retry time (backoff) until `MAX_ATTEMPTS`. Each row is written only while the lease is still
   this sender's, so a sender whose lease ran out never overwrites a newer claim.
Nothing is handed over after half the lease; the rest are taken again when it ends.

Delivery is at least once, not exactly once: a sender that dies (or loses the database) after
handing messages over and before step 3 leaves them claimed, and they are sent AGAIN after the
lease (`LEASE`). Since outcomes are recorded per batch, that can be up to a whole batch (before
batching it was one message). An SMS is not charged twice for it (one charge per message).

An SMS is charged to the practice's credit ledger before it is handed to the provider (each
practice row locked first, so two workers cannot overdraw), and the charge is taken back if the
provider refuses it: only an accepted SMS costs credits. Too few credits fail it for good with
"not enough SMS credits"; the email sent for the same event is a separate row and goes regardless.
"""

from __future__ import annotations

import logging
import smtplib
import unicodedata
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address, AddressHeader
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import make_msgid
from functools import lru_cache

from sqlalchemy import ColumnElement, and_, func, or_, update
from sqlmodel import Session, col, select

from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import Channel, Client, Notification, NotificationStatus, Practice, SmsCreditEntry
from rxapp.redaction import redact
from rxapp.services import crypto
from rxapp.services.notify.sms import credits as sms_credits
from rxapp.services.notify.sms.phones import to_e164
from rxapp.services.notify.sms.providers import OutgoingSms, SmsProvider, SmsProviderError, get_provider
from rxapp.services.notify.sms.segments import count_segments, credits_for
from rxapp.settings import get_settings

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# How long a sender owns a claimed message; a message left in `sending` by a crash is taken again after it.
LEASE = timedelta(minutes=2)
# Messages a scheduled run claims at once (the job repeats while a batch sends something).
BATCH = 200


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


_LOOKED_UP = "outbox.looked_up"  # session.info: key -> its queued message, or None (not queued)


def look_up_keys(session: Session, keys: Collection[str]) -> None:
    """Find which of `keys` are queued already, in ONE query, before queuing a batch of messages in
    this transaction: `queue_email` and `queue_sms` then answer from it instead of a query each
    (which would also flush every message on its own). Only for keys no other transaction queues
    meanwhile (a job's, under its lease): one queued in between fails this commit (the key is
    unique) rather than going twice."""
    found = {row.idempotency_key: row for row in session.exec(
        select(Notification).where(col(Notification.idempotency_key).in_(list(keys))))} if keys else {}
    session.info.setdefault(_LOOKED_UP, {}).update({key: found.get(key) for key in keys})


def _queued(session: Session, key: str) -> Notification | None:
    """The message already queued with `key`, if any. A key `look_up_keys` found is answered once
    from there: a second call for it asks the database (it may have been queued since)."""
    looked_up = session.info.get(_LOOKED_UP, {})
    if key in looked_up:
        return looked_up.pop(key)
    return session.exec(select(Notification).where(Notification.idempotency_key == key)).first()


def queue_email(session: Session, *, practice_id: int, key: str, email: OutgoingEmail, sealed: bool = False,
                account: bool = False) -> None:
    """Queue an email in the caller's transaction; a second call with the same key does nothing.
    `sealed`: the bodies carry a secret (a join link and passcode) and are stored encrypted.
    `account`: it is about the recipient's own sign-in, so it goes even before the practice's email
    is confirmed (every other message of such a practice waits: `_due`)."""
    if _queued(session, key) is not None:
        return
    session.add(Notification(practice_id=practice_id, idempotency_key=key, channel=Channel.EMAIL,
                             to_address=one_line(email.to, 320), subject=one_line(email.subject),
                             body_text=_seal(email.text, sealed), body_html=_seal(email.html, sealed), ics=email.ics,
                             sealed=sealed, account=account))


OPTED_OUT = "client opted out of SMS"
NO_MOBILE = "no mobile number"


def queue_sms(session: Session, *, practice_id: int, key: str, to: str, body: str, telehealth: bool,
              client_id: int | None = None, sealed: bool = False) -> str:
    """Queue an SMS in the caller's transaction; returns "" when queued, else why it is skipped
    (the client opted out, no usable mobile number). A skipped SMS is still recorded (status
    `skipped`, the reason in `last_error`). A second call with the same key does nothing and
    returns the first call's answer. Credits are checked when it is sent, not here. `sealed` as
    for `queue_email`."""
    existing = _queued(session, key)
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


@lru_cache(maxsize=4)
def _sender(mail_from: str) -> Address:
    """The From mailbox, parsed once (every message has it; parsing costs as much as the body)."""
    return _address(mail_from)


def build_message(email: OutgoingEmail) -> EmailMessage:
    """The MIME message, built with the email library's header handling (SMTP policy: encoded
    words for non-ASCII, CRLF line ends); raises `ValueError` for an unusable address."""
    settings = get_settings()
    msg = EmailMessage(policy=SMTP)
    msg["From"] = _sender(settings.mail_from)
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
        smtp.sendmail(*_envelope(message))


def _envelope(message: EmailMessage) -> tuple[str, list[str], bytes, list[str]]:
    """(sender, recipients, bytes, MAIL options): what `smtplib.SMTP.send_message` would work out,
    read from the addresses `build_message` already parsed (re-reading the headers there costs
    more CPU than the whole SMTP exchange). Non-ASCII addresses go as SMTPUTF8, as it would."""
    sender, recipient = message["From"].addresses[0].addr_spec, message["To"].addresses[0].addr_spec
    if (sender + recipient).isascii():
        return sender, [recipient], message.as_bytes(), []
    return sender, [recipient], message.as_bytes(policy=message.policy.clone(utf8=True)), ["SMTPUTF8",
                                                                                            "BODY=8BITMIME"]


class SmtpBatch:
    """A sender that keeps one SMTP connection for a whole batch (a connection per message costs
    more than the message). After any error the connection is dropped: the next message connects
    afresh, and the failed one is recorded and retried by the outbox as usual."""

    def __init__(self) -> None:
        self._smtp: smtplib.SMTP | None = None

    def __call__(self, email: OutgoingEmail) -> None:
        message = build_message(email)  # before connecting: a message that cannot be built is not sent
        envelope = _envelope(message)
        try:
            if self._smtp is None:
                self._smtp = _connect()
            self._smtp.sendmail(*envelope)
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
    """Waiting, failed with attempts left, or claimed by a sender whose lease ran out; and its practice
    has confirmed its email, unless it is account mail (a practice made at /signup sends nothing else
    before: its messages wait, and go once the owner confirms)."""
    return and_(
        or_(col(Notification.status).in_([NotificationStatus.PENDING, NotificationStatus.SENDING]),
            and_(col(Notification.status) == NotificationStatus.FAILED, col(Notification.attempts) < MAX_ATTEMPTS)),
        col(Notification.next_attempt_at) <= at,
        or_(col(Notification.claimed_until).is_(None), col(Notification.claimed_until) < at),
        or_(col(Notification.account), col(Notification.practice_id).in_(
            select(Practice.id).where(col(Practice.email_verified_at).is_not(None)))),
    )


def _claim(limit: int) -> tuple[list[Notification], datetime]:
    """Claim up to `limit` due messages in ONE statement; returns them (by id) and the lease end.
    The re-checked `_due` makes the UPDATE a compare-and-swap: two senders never get the same
    row (on PostgreSQL the candidates are also locked, skipping those another sender holds)."""
    at = now()
    until = at + LEASE
    picked = (select(Notification.id).where(_due(at)).order_by(col(Notification.id)).limit(limit)
              .with_for_update(skip_locked=True))  # FOR UPDATE SKIP LOCKED on PostgreSQL, nothing on SQLite
    statement = (update(Notification).where(col(Notification.id).in_(picked), _due(at))
                 .values(claimed_until=until, status=NotificationStatus.SENDING)
                 .returning(Notification).execution_options(synchronize_session=False))
    with unit_of_work() as session:
        rows = list(session.execute(statement).scalars())
    return sorted(rows, key=lambda r: r.id or 0), until


def _claim_due(limit: int) -> list[Notification]:
    return _claim(limit)[0]


def retry_delay(attempts: int) -> timedelta:
    """Backoff after the `attempts`-th failed send: 30 s, 1, 2, 4 … minutes, at most an hour."""
    return timedelta(seconds=min(3600, 15 * 2 ** attempts))


def _owned(session: Session, ids: list[int], until: datetime) -> list[Notification]:
    """The rows of `ids` this sender still holds (its lease not taken over by another sender),
    loaded. The first statement writes: SQLite takes its write lock before any read."""
    if not ids:
        return []
    mine = list(session.execute(
        update(Notification).where(col(Notification.id).in_(ids),
                                   col(Notification.status) == NotificationStatus.SENDING,
                                   col(Notification.claimed_until) == until)
        .values(claimed_until=until).returning(Notification.id)
        .execution_options(synchronize_session=False)).scalars())
    if not mine:
        return []
    return sorted(session.exec(select(Notification).where(col(Notification.id).in_(mine))).all(),
                  key=lambda r: r.id or 0)


def _record(stored: Notification, error: str) -> bool:
    """Store the outcome of one email send; a failure is `failed` with its reason and, while
    attempts are left, a retry time. Returns whether it was sent."""
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


def _outgoing(stored: Notification) -> OutgoingSms:
    return OutgoingSms(to=stored.to_address, body=opened(stored)[0], practice_id=stored.practice_id,
                       notification_id=stored.id or 0, segments=stored.segments, encoding=stored.sms_encoding,
                       credits=stored.credits)


def _reserve_sms(rows: list[Notification], until: datetime) -> list[OutgoingSms]:
    """Charge a batch's SMS (race-safe) or settle those not to be sent (opted out since queuing,
    too few credits), in one transaction; returns those to hand to the provider."""
    if not rows:
        return []
    reserved: list[OutgoingSms] = []
    with unit_of_work() as session:
        practices = sorted({r.practice_id for r in rows})
        for practice_id in practices:  # first statements (see services.notify.sms.credits); one order: no deadlock
            sms_credits.lock_practice(session, practice_id)
        owned = _owned(session, [r.id or 0 for r in rows], until)
        client_ids = {r.client_id for r in owned if r.client_id is not None}
        opted_out = set(session.exec(select(Client.id).where(
            col(Client.id).in_(client_ids), col(Client.sms_opted_out).is_(True))).all()) if client_ids else set()
        for practice_id in practices:
            wanted = []
            for stored in (r for r in owned if r.practice_id == practice_id):
                if stored.client_id in opted_out:  # consent can change after queuing
                    sms_credits.release(session, stored.id or 0)  # charged by a run that did not send it
                    _finish(stored, NotificationStatus.SKIPPED, OPTED_OUT)
                else:
                    wanted.append(stored)
            charged = sms_credits.charge_batch(session, practice_id, [
                (r.id or 0, r.credits, f"SMS to {r.to_address}") for r in wanted])
            for stored in wanted:
                if stored.id in charged:
                    reserved.append(_outgoing(stored))
                else:
                    _finish(stored, NotificationStatus.FAILED, sms_credits.NOT_ENOUGH)
                    log.warning("sms %s not sent: %s", stored.id, sms_credits.NOT_ENOUGH)
            _warn_if_low_credits(session, practice_id)  # the owners are emailed once, below the threshold
    return reserved


def _warn_if_low_credits(session: Session, practice_id: int) -> None:
    """Email the owners once when the balance is below the threshold (re-armed by `grant`)."""
    practice = session.get(Practice, practice_id)
    low = sms_credits.low_balance(session, practice_id)
    if practice is None or low is None or practice.sms_low_balance_warned:
        return
    practice.sms_low_balance_warned = True
    current, threshold = low
    marker = session.exec(select(func.max(SmsCreditEntry.id)).where(SmsCreditEntry.practice_id == practice_id)).one()
    for owner in sms_credits.owners(session, practice_id):
        queue_email(session, practice_id=practice_id, key=f"sms-low-balance:{practice_id}:{marker or 0}:{owner.id}",
                    email=OutgoingEmail(
                        to=owner.email, subject=f"SMS credits are low: {current} left",
                        text=(f"Hello {owner.full_name},\n\n{practice.name} has {current} SMS credits left, below "
                              f"the {threshold} you set. SMS reminders stop when credits run out (emails still "
                              "go). Add credits in Practice settings.\n")))


def _record_sms(session: Session, stored: Notification, accepted_id: str, accepted_status: str,
                error: SmsProviderError | None) -> bool:
    """Store what the provider said. A refusal takes the charge back; 429/5xx/network retry with
    backoff, other codes fail for good. Returns whether it was sent."""
    if error is None:
        stored.attempts += 1
        stored.claimed_until = None
        stored.status, stored.sent_at, stored.last_error, stored.error_code = (
            NotificationStatus.SENT, now(), "", "")
        stored.provider_message_id, stored.delivery_status = accepted_id[:64], accepted_status[:20]
        return True
    sms_credits.release(session, stored.id or 0)
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


def _send_sms(sms: OutgoingSms, provider: SmsProvider) -> tuple[str, str, SmsProviderError | None]:
    """Hand one SMS to the provider: (message id, status, None) or ("", "", the error)."""
    try:
        accepted = provider.send(sms)
    except SmsProviderError as exc:
        log.warning("sms %s not sent: provider error %s", sms.notification_id, exc.code)
        return "", "", exc
    except Exception as exc:  # a bug or an unexpected answer: recorded and retried like a 5xx
        log.warning("sms %s not sent: %s", sms.notification_id, type(exc).__name__)
        return "", "", SmsProviderError("error", redact(f"{type(exc).__name__}: {exc}"), retry=True)
    return accepted.message_id, accepted.status, None


def _send_email(row: Notification, send: Sender) -> str:
    """Send one email; returns "" or the (redacted) reason it failed."""
    try:
        text, html = opened(row)  # inside: a sealed body that cannot be opened is this message's failure
        send(OutgoingEmail(to=row.to_address, subject=row.subject, text=text, html=html, ics=row.ics))
    except Exception as exc:  # recorded on the row and retried with backoff
        error = redact(f"{type(exc).__name__}: {exc}")
        log.warning("email %s not sent: %s", row.id, error)
        return error
    return ""


def deliver_due(send: Sender | None = None, limit: int = 50, sms_provider: SmsProvider | None = None) -> int:
    """Send what is due, each message by its channel; returns how many were sent. Blocking: run
    it in a worker thread.

    Any error of one message (SMTP down, an address or header that cannot be encoded, a
    provider refusal, a bug) is recorded on that message and never stops the others or leaves
    it in `sending`."""
    batch = SmtpBatch() if send is None else None
    send = send or batch or smtp_send
    try:
        rows, until = _claim(limit)
        return _deliver(rows, until, send, sms_provider)
    finally:
        if batch is not None:
            batch.close()


Outcome = tuple[str, str, SmsProviderError | None]  # an SMS's provider message id, status, error


def _deliver(rows: list[Notification], until: datetime, send: Sender, sms_provider: SmsProvider | None) -> int:
    """Three transactions for the whole batch: the claim (done), the SMS charges, the outcomes."""
    if not rows:
        return 0
    sms_rows = [r for r in rows if r.channel == Channel.SMS]
    reserved: list[OutgoingSms] = []
    try:
        reserved = _reserve_sms(sms_rows, until)
    except Exception:  # e.g. the database went away: the lease runs out and they are tried again
        log.exception("sms of the batch not reserved")
    # Nothing is handed over after half the lease (a slow SMTP server or provider): the rest are
    # taken again when the lease ends, never by two senders at once. A charge already made stays
    # (a message is charged once) and is used by the retry.
    stop_at = until - LEASE / 2
    emails: dict[int, str] = {}
    for row in (r for r in rows if r.channel != Channel.SMS):
        if now() >= stop_at:
            break
        emails[row.id or 0] = _send_email(row, send)
    texts: dict[int, Outcome] = {}
    provider = (sms_provider or get_provider()) if reserved else None
    for sms in reserved:
        if now() >= stop_at or provider is None:
            break
        texts[sms.notification_id] = _send_sms(sms, provider)
    return _record_all(emails, texts, until)


def _record_all(emails: dict[int, str], texts: dict[int, Outcome], until: datetime) -> int:
    """Store every outcome of the batch in one transaction, each only while its lease is still
    ours (a sender that lost its lease never overwrites a newer claim); returns how many were sent."""
    sent = 0
    with unit_of_work() as session:
        owned = _owned(session, [*emails, *texts], until)
        for stored in (r for r in owned if r.id in emails):
            sent += _record(stored, emails[stored.id or 0])
        # Flushed by channel: rows changed alike are written by one statement, and an email's
        # changes differ from an SMS's (a mixed flush would write the rows one by one).
        session.flush()
        for stored in (r for r in owned if r.id in texts):
            sent += _record_sms(session, stored, *texts[stored.id or 0])
    return sent
