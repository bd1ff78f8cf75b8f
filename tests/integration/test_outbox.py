"""The notification outbox: queued in the caller's transaction, sent once, retried on failure."""

import smtplib
import time
from pathlib import Path

import pytest
from sqlmodel import select

from mail_catcher.__main__ import start as start_catcher
from rxapp.db import unit_of_work
from rxapp.models import Notification, NotificationStatus
from rxapp.services import demo_data, notifications
from rxapp.services.mailbox import list_caught_mail
from rxapp.settings import get_settings
from tests.conftest import free_port, reset_app_caches

EMAIL = notifications.OutgoingEmail(to="alex@demo.client", subject="Your session", text="See you soon",
                                    html="<p>See you soon</p>", ics="BEGIN:VCALENDAR\nEND:VCALENDAR\n")


def _queue(key: str) -> None:
    with unit_of_work() as s:
        notifications.queue_email(s, practice_id=1, key=key, email=EMAIL)


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
        notifications.queue_email(s, practice_id=1, key="k2", email=EMAIL)
        raise RuntimeError("the change failed")
    with unit_of_work() as s:
        assert s.exec(select(Notification)).all() == []


def test_a_message_is_sent_once_even_when_delivery_runs_twice(practice) -> None:
    sent: list[notifications.OutgoingEmail] = []
    _queue("k3")
    assert notifications.deliver_due(sent.append) == 1
    assert notifications.deliver_due(sent.append) == 0
    assert [m.subject for m in sent] == ["Your session"]


def test_a_failed_send_is_retried_later(practice) -> None:
    def down(_: notifications.OutgoingEmail) -> None:
        raise smtplib.SMTPServerDisconnected("down")

    _queue("k4")
    assert notifications.deliver_due(down) == 0
    with unit_of_work() as s:
        row = s.exec(select(Notification)).one()
        assert row.status == NotificationStatus.PENDING and row.attempts == 1 and "down" in row.last_error
        assert row.next_attempt_at > row.created_at


def test_smtp_delivery_reaches_the_mail_catcher(sqlite_database: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    monkeypatch.setenv("SMTP_PORT", str(port))
    reset_app_caches()
    demo_data.load_demo_data()
    controller = start_catcher("127.0.0.1", port, tmp_path / "mail")
    try:
        _queue("k5")
        assert notifications.deliver_due() == 1
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
