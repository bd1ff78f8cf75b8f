"""The notification outbox: queued in the caller's transaction, sent once, retried on failure."""

import smtplib
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from devtools.ports import free_port
from mail_catcher.__main__ import start as start_catcher
from rxapp.clock import now, set_clock
from rxapp.db import unit_of_work
from rxapp.dev import demo_data
from rxapp.models import Notification, NotificationStatus
from rxapp.services.notify import outbox
from rxapp.services.notify.mailbox import list_caught_mail
from rxapp.settings import get_settings
from tests.conftest import reset_app_caches

EMAIL = outbox.OutgoingEmail(to="alex@demo.client", subject="Your session", text="See you soon",
                                    html="<p>See you soon</p>", ics="BEGIN:VCALENDAR\nEND:VCALENDAR\n")


def _queue(key: str) -> None:
    with unit_of_work() as s:
        outbox.queue_email(s, practice_id=1, key=key, email=EMAIL)


@pytest.fixture
def practice(database: str) -> None:
    demo_data.load_demo_data()


def test_the_same_key_is_queued_once(practice) -> None:
    _queue("k1")
    _queue("k1")
    with unit_of_work() as s:
        assert len(s.exec(select(Notification)).all()) == 1


def test_nothing_is_queued_when_the_change_rolls_back(practice) -> None:
    with pytest.raises(RuntimeError), unit_of_work() as s:
        outbox.queue_email(s, practice_id=1, key="k2", email=EMAIL)
        raise RuntimeError("the change failed")
    with unit_of_work() as s:
        assert s.exec(select(Notification)).all() == []


def test_a_message_is_sent_once_even_when_delivery_runs_twice(practice) -> None:
    sent: list[outbox.OutgoingEmail] = []
    _queue("k3")
    assert outbox.deliver_due(sent.append) == 1
    assert outbox.deliver_due(sent.append) == 0
    assert [m.subject for m in sent] == ["Your session"]


def test_a_failed_send_is_retried_later(practice) -> None:
    def down(_: outbox.OutgoingEmail) -> None:
        raise smtplib.SMTPServerDisconnected("down")

    _queue("k4")
    assert outbox.deliver_due(down) == 0
    with unit_of_work() as s:
        row = s.exec(select(Notification)).one()
        assert row.status == NotificationStatus.FAILED and row.attempts == 1 and "down" in row.last_error
        assert row.next_attempt_at > row.created_at
    assert outbox.deliver_due(lambda _: None) == 0  # not before its retry time
    later = now() + timedelta(minutes=1)
    set_clock(lambda: later)
    assert outbox.deliver_due(lambda _: None) == 1


def _row(key: str) -> Notification:
    with unit_of_work() as s:
        return s.exec(select(Notification).where(Notification.idempotency_key == key)).one()


def test_any_send_error_marks_the_message_failed_with_its_reason_and_the_others_still_go(practice) -> None:
    sent: list[str] = []

    def picky(email: outbox.OutgoingEmail) -> None:
        if email.subject == "boom":
            raise ValueError("cannot encode this message")
        sent.append(email.subject)

    start = now()
    set_clock(lambda: start)
    with unit_of_work() as s:
        for key, subject in (("a", "first"), ("b", "boom"), ("c", "third")):
            outbox.queue_email(s, practice_id=1, key=key, email=outbox.OutgoingEmail(
                to="alex@demo.client", subject=subject, text="x"))
    assert outbox.deliver_due(picky) == 2
    assert sent == ["first", "third"]
    failed = _row("b")
    assert failed.status == NotificationStatus.FAILED and failed.claimed_until is None
    assert failed.last_error == "ValueError: cannot encode this message"
    assert failed.next_attempt_at == start + outbox.retry_delay(1)


def test_a_message_that_keeps_failing_stops_after_the_last_attempt(practice) -> None:
    def down(_: outbox.OutgoingEmail) -> None:
        raise OSError("connection refused")

    _queue("k6")
    moment = now()
    for _ in range(outbox.MAX_ATTEMPTS):
        set_clock(lambda m=moment: m)
        assert outbox.deliver_due(down) == 0
        moment = _row("k6").next_attempt_at + timedelta(seconds=1)
    row = _row("k6")
    assert row.status == NotificationStatus.FAILED and row.attempts == outbox.MAX_ATTEMPTS
    set_clock(lambda: moment + timedelta(days=1))
    assert outbox.deliver_due(lambda _: None) == 0


def test_a_message_left_in_sending_by_a_crash_is_sent_after_its_lease(practice) -> None:
    _queue("k7")
    [claimed] = outbox._claim_due(10)  # a sender took it and died before recording anything
    assert _row("k7").status == NotificationStatus.SENDING
    assert outbox.deliver_due(lambda _: None) == 0
    later = now() + outbox.LEASE + timedelta(seconds=1)
    set_clock(lambda: later)
    assert outbox.deliver_due(lambda _: None) == 1
    assert _row("k7").status == NotificationStatus.SENT and claimed.id == _row("k7").id


def _catch_mail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    port = free_port()
    monkeypatch.setenv("SMTP_PORT", str(port))
    reset_app_caches()
    demo_data.load_demo_data()
    return start_catcher("127.0.0.1", port, tmp_path / "mail")


def _caught(tmp_path: Path, count: int = 1) -> list:
    deadline = time.time() + 5
    while len(list_caught_mail(tmp_path / "mail")) < count and time.time() < deadline:
        time.sleep(0.05)
    return list_caught_mail(tmp_path / "mail")


def test_a_newline_in_a_topic_or_name_never_leaves_a_message_in_sending(sqlite_database: str, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    controller = _catch_mail(tmp_path, monkeypatch)
    try:
        with unit_of_work() as s:
            outbox.queue_email(s, practice_id=1, key="nl-subject", email=outbox.OutgoingEmail(
                to="alex@demo.client", subject="Zoom meeting deleted: Check-in\r\nBcc: evil@example.com",
                text="x"))
            outbox.queue_email(s, practice_id=1, key="nl-to", email=outbox.OutgoingEmail(
                to="alex@demo.client\nBcc: evil@example.com", subject="Hello", text="x"))
        assert outbox.deliver_due() == 1
        [mail] = _caught(tmp_path)
        assert mail.subject == "Zoom meeting deleted: Check-in Bcc: evil@example.com"
        assert mail.to == "alex@demo.client"
        headers = (tmp_path / "mail" / mail.name).read_text().replace("\r\n", "\n").split("\n\n", 1)[0]
        assert not any(line.lower().startswith("bcc") for line in headers.splitlines())
        refused = _row("nl-to")
        assert refused.status == NotificationStatus.FAILED and "not one email address" in refused.last_error
        assert _row("nl-subject").status == NotificationStatus.SENT
    finally:
        controller.stop()


def test_smtp_delivery_reaches_the_mail_catcher(sqlite_database: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    monkeypatch.setenv("SMTP_PORT", str(port))
    reset_app_caches()
    demo_data.load_demo_data()
    controller = start_catcher("127.0.0.1", port, tmp_path / "mail")
    try:
        _queue("k5")
        assert outbox.deliver_due() == 1
        deadline = time.time() + 5
        while not list_caught_mail(tmp_path / "mail") and time.time() < deadline:
            time.sleep(0.05)
        [mail] = list_caught_mail(tmp_path / "mail")
        assert mail.to == "alex@demo.client" and mail.subject == "Your session"
        assert "See you soon" in mail.text and "<p>See you soon</p>" in mail.html
        assert mail.attachments == ("session.ics",)
        assert get_settings().smtp_port == port
    finally:
        controller.stop()


def test_a_batch_of_mail_goes_over_one_connection_with_non_ascii_names_encoded(
        sqlite_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    controller = _catch_mail(tmp_path, monkeypatch)
    connections: list[int] = []
    connect = outbox._connect
    monkeypatch.setattr(outbox, "_connect", lambda: connections.append(1) or connect())
    try:
        with unit_of_work() as s:
            for i, to in enumerate(["Zoë Müller <zoe@demo.client>", "alex@demo.client", "Sam Lee <sam@demo.client>"]):
                outbox.queue_email(s, practice_id=1, key=f"batch-{i}", email=outbox.OutgoingEmail(
                    to=to, subject=f"Rappel : séance {i}", text=f"À bientôt {i}"))
        assert outbox.deliver_due() == 3
        assert len(connections) == 1
        caught = {m.subject: m for m in _caught(tmp_path, 3)}
        assert sorted(caught) == ["Rappel : séance 0", "Rappel : séance 1", "Rappel : séance 2"]
        assert caught["Rappel : séance 0"].to == "Zoë Müller <zoe@demo.client>"
        assert caught["Rappel : séance 0"].text.strip() == "À bientôt 0"
        headers = (tmp_path / "mail" / caught["Rappel : séance 0"].name).read_bytes().split(b"\r\n\r\n", 1)[0]
        assert headers.isascii() and b"=?utf-8?" in headers  # encoded words, CRLF: the SMTP policy's
    finally:
        controller.stop()


def test_keys_looked_up_for_a_batch_are_queued_once_without_a_query_each(practice) -> None:
    from sqlalchemy import event

    from rxapp.db import get_engine

    _queue("before")
    asked: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        asked.append(statement)

    with unit_of_work() as s:
        outbox.look_up_keys(s, ["before", "new", "other"])
        event.listen(get_engine(), "before_cursor_execute", count)
        try:
            outbox.queue_email(s, practice_id=1, key="before", email=EMAIL)  # queued already: nothing
            outbox.queue_email(s, practice_id=1, key="new", email=EMAIL)
            outbox.queue_sms(s, practice_id=1, key="other", to="+15555550100", body="Hi", telehealth=False)
        finally:
            event.remove(get_engine(), "before_cursor_execute", count)
        assert asked == []  # answered from the look-up, nothing flushed row by row
        outbox.queue_email(s, practice_id=1, key="new", email=EMAIL)  # a second time: asks, finds it
    with unit_of_work() as s:
        keys = sorted(s.exec(select(Notification.idempotency_key)).all())
    assert keys == ["before", "new", "other"]


def test_two_senders_racing_over_the_same_due_rows_deliver_each_exactly_once(practice) -> None:
    """Two threads (each its own connections) start together on 120 due emails and 60 due SMS,
    in small batches: every message is handed over once, recorded sent once, charged once."""
    import threading

    from rxapp.models import Client, CreditKind, SmsCreditEntry
    from rxapp.services.notify.sms.providers import Accepted, OutgoingSms

    with unit_of_work() as s:
        alex = s.exec(select(Client).where(Client.email == "alex@demo.client")).one()
        for i in range(120):
            outbox.queue_email(s, practice_id=alex.practice_id, key=f"race-mail-{i}", email=EMAIL)
        for i in range(60):
            outbox.queue_sms(s, practice_id=alex.practice_id, key=f"race-sms-{i}", to=alex.phone or "",
                                    body=f"Reminder {i}", telehealth=False, client_id=alex.id)
    mail: list[int] = []
    texts: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    class Provider:
        def send(self, sms: OutgoingSms) -> Accepted:
            with lock:
                texts.append(sms.notification_id)
            return Accepted(message_id=f"SM{sms.notification_id}", status="queued")

    def catch(email: outbox.OutgoingEmail) -> None:
        with lock:
            mail.append(id(email))
        time.sleep(0.001)  # let the other sender interleave

    def sender() -> None:
        try:
            barrier.wait()
            sent = 1
            while sent:
                sent = outbox.deliver_due(catch, limit=7, sms_provider=Provider())
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert len(mail) == 120 and len(texts) == 60 and len(set(texts)) == 60
    with unit_of_work() as s:
        rows = s.exec(select(Notification).where(Notification.idempotency_key.startswith("race-"))).all()
        charges = s.exec(select(SmsCreditEntry).where(SmsCreditEntry.kind == CreditKind.CHARGE)).all()
    assert len(rows) == 180 and all(r.status == NotificationStatus.SENT and r.attempts == 1 for r in rows)
    assert sorted(c.notification_id for c in charges) == sorted(texts)


def test_a_sender_whose_lease_ran_out_does_not_overwrite_the_newer_claim(practice) -> None:
    _queue("k8")
    _, until = outbox._claim(10)  # a slow sender: its lease runs out before it records
    later = now() + outbox.LEASE + timedelta(seconds=1)
    set_clock(lambda: later)
    rows, newer = outbox._claim(10)  # another sender takes it again
    assert [r.idempotency_key for r in rows] == ["k8"]
    assert outbox._record_all({rows[0].id or 0: "SMTPServerDisconnected: down"}, {}, until) == 0
    row = _row("k8")
    assert row.status == NotificationStatus.SENDING and row.attempts == 0 and row.last_error == ""
    assert outbox._record_all({row.id or 0: ""}, {}, newer) == 1
    assert _row("k8").status == NotificationStatus.SENT


def test_a_sealed_message_is_stored_encrypted_and_sent_in_clear(practice) -> None:
    secret = outbox.OutgoingEmail(to="alex@demo.client", subject="Your session starts soon",
                                         text="Join link: https://zoom.example/j/123?pwd=abc",
                                         html="<a href='https://zoom.example/j/123?pwd=abc'>Join</a>")
    with unit_of_work() as s:
        outbox.queue_email(s, practice_id=1, key="sealed", email=secret, sealed=True)
    with unit_of_work() as s:
        row = s.exec(select(Notification).where(Notification.idempotency_key == "sealed")).one()
        assert row.sealed and "zoom.example" not in row.body_text + row.body_html
        assert outbox.opened(row) == (secret.text, secret.html)
    sent: list[outbox.OutgoingEmail] = []
    assert outbox.deliver_due(sent.append) == 1
    assert [(m.text, m.html) for m in sent] == [(secret.text, secret.html)]
