"""SMS through Twilio's REST API (a fake Twilio over HTTP) and Twilio's signed calls to our routes."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlmodel import select

from rxapp.db import unit_of_work
from rxapp.dev import demo_data
from rxapp.models import Client, Notification, NotificationStatus
from rxapp.services.notify import outbox
from rxapp.services.notify.sms import credits, inbound
from rxapp.services.notify.sms.providers import TwilioProvider, get_provider
from tests.conftest import reset_app_caches
from tests.fake_twilio import FakeTwilio, post_signed, run_fake_twilio
from zoom_sandbox.testing import serve_app


@dataclass
class Stack:
    fake: FakeTwilio
    app_url: str


@pytest.fixture
def twilio(database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    from rxapp import api

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    app_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with run_fake_twilio() as fake:
        for name, value in (("SMS_PROVIDER", "twilio"), ("TWILIO_ACCOUNT_SID", fake.account_sid),
                            ("TWILIO_AUTH_TOKEN", fake.auth_token), ("TWILIO_FROM", fake.sender),
                            ("TWILIO_BASE_URL", fake.base_url), ("APP_URL", app_url),
                            ("TWILIO_TIMEOUT_SECONDS", "3")):
            monkeypatch.setenv(name, value)
        reset_app_caches()
        demo_data.load_demo_data()
        with serve_app(api.build(), sock=sock, ready_path="/api/health"):
            yield Stack(fake, app_url)
    reset_app_caches()


def _alex() -> Client:
    with unit_of_work() as s:
        return s.exec(select(Client).where(Client.first_name == "Alex")).one()


def _queue(key: str, body: str = "Reminder: your session is tomorrow at 10:00.", telehealth: bool = False) -> None:
    alex = _alex()
    with unit_of_work() as s:
        assert outbox.queue_sms(s, practice_id=alex.practice_id, key=key, to=alex.phone, body=body,
                                       telehealth=telehealth, client_id=alex.id) == ""


def _row(key: str) -> Notification:
    with unit_of_work() as s:
        return s.exec(select(Notification).where(Notification.idempotency_key == key)).one()


def _balance() -> int:
    with unit_of_work() as s:
        return credits.balance(s, _alex().practice_id)


def test_twilio_is_chosen_by_settings_and_gets_the_real_rest_shape(twilio: Stack) -> None:
    assert isinstance(get_provider(), TwilioProvider)
    _queue("t-1", telehealth=True)
    assert outbox.deliver_due() == 1
    [sent] = twilio.fake.messages
    assert sent["To"] == "+13125550101" and sent["From"] == twilio.fake.sender
    assert sent["Body"] == "Reminder: your session is tomorrow at 10:00."
    assert sent["StatusCallback"] == f"{twilio.app_url}/sms/twilio/status"
    row = _row("t-1")
    assert row.status == NotificationStatus.SENT and row.provider_message_id == sent["sid"]
    assert row.delivery_status == "queued" and _balance() == 98  # telehealth: 2 per segment


@pytest.mark.parametrize(("status", "retried"), [(400, False), (401, False), (429, True), (500, True),
                                                 (503, True)])
def test_a_provider_error_is_recorded_with_its_code_and_never_charges(twilio: Stack, status: int,
                                                                      retried: bool) -> None:
    twilio.fake.fail_next(status)
    _queue("t-2")
    assert outbox.deliver_due() == 0
    row = _row("t-2")
    assert row.status == NotificationStatus.FAILED and row.error_code == str(status)
    assert f"provider error {status}" in row.last_error and "Twilio error" in row.last_error
    assert _balance() == 100
    assert (row.attempts < outbox.MAX_ATTEMPTS) is retried
    assert twilio.fake.auth_token not in row.last_error


def test_a_retried_sms_is_sent_and_charged_once_after_a_429(twilio: Stack) -> None:
    from rxapp.clock import now, set_clock

    twilio.fake.fail_next(429)
    _queue("t-3")
    outbox.deliver_due()
    later = now() + outbox.retry_delay(1) + outbox.LEASE
    set_clock(lambda: later)
    assert outbox.deliver_due() == 1
    assert len(twilio.fake.messages) == 1 and _balance() == 99 and _row("t-3").status == NotificationStatus.SENT


def test_a_wrong_auth_token_is_a_401_that_fails_for_good(twilio: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "not-the-token")
    reset_app_caches()
    _queue("t-4")
    outbox.deliver_due()
    row = _row("t-4")
    assert row.error_code == "401" and row.attempts >= outbox.MAX_ATTEMPTS and _balance() == 100
    assert "not-the-token" not in row.last_error


def test_signed_status_callbacks_are_recorded_and_failures_refunded(twilio: Stack) -> None:
    _queue("t-5")
    _queue("t-6", body="Second reminder")
    outbox.deliver_due()
    first, second = twilio.fake.messages
    assert _balance() == 98
    assert twilio.fake.deliver(first["sid"], "sent") == 204
    assert twilio.fake.deliver(first["sid"], "delivered") == 204
    assert twilio.fake.deliver(first["sid"], "sent") == 204  # late: does not go back
    assert _row("t-5").delivery_status == "delivered"
    assert twilio.fake.deliver(second["sid"], "undelivered", "30003") == 204
    row = _row("t-6")
    assert (row.delivery_status, row.status, row.error_code) == ("undelivered", NotificationStatus.FAILED, "30003")
    assert _balance() == 99  # refunded once
    assert twilio.fake.deliver(second["sid"], "failed", "30003") == 204
    assert _balance() == 99


def test_a_status_callback_with_a_bad_signature_is_refused(twilio: Stack, caplog: pytest.LogCaptureFixture) -> None:
    _queue("t-7")
    outbox.deliver_due()
    [sent] = twilio.fake.messages
    assert twilio.fake.deliver(sent["sid"], "failed", "30003", token="wrong-token") == 403
    unsigned = httpx.post(f"{twilio.app_url}/sms/twilio/status",
                          data={"MessageSid": sent["sid"], "MessageStatus": "failed"})
    assert unsigned.status_code == 403
    assert _row("t-7").delivery_status == "queued" and _balance() == 99
    assert twilio.fake.auth_token not in caplog.text


def _inbound(twilio: Stack, body: str, token: str | None = None, sender: str = "+13125550101") -> httpx.Response:
    return post_signed(f"{twilio.app_url}/sms/twilio/inbound",
                       {"From": sender, "To": twilio.fake.sender, "Body": body, "MessageSid": "SMin1",
                        "AccountSid": twilio.fake.account_sid}, token or twilio.fake.auth_token)


def test_stop_and_start_replies_change_the_clients_sms_consent(twilio: Stack) -> None:
    for word in ("STOP", "stopall", "Unsubscribe", "END", "quit", "CANCEL"):
        answer = _inbound(twilio, word)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/xml")
        assert "<Response" in answer.text and "<Message>" not in answer.text
        assert _alex().sms_opted_out, word
        _inbound(twilio, "START")
        assert not _alex().sms_opted_out
    _inbound(twilio, "stop")
    with unit_of_work() as s:
        reason = outbox.queue_sms(s, practice_id=_alex().practice_id, key="t-8", to="+13125550101",
                                         body="hi", telehealth=False, client_id=_alex().id)
    assert reason == outbox.OPTED_OUT
    _inbound(twilio, "unstop")
    assert not _alex().sms_opted_out


def test_an_inbound_sms_with_a_bad_signature_changes_nothing(twilio: Stack) -> None:
    assert _inbound(twilio, "STOP", token="wrong-token").status_code == 403
    assert not _alex().sms_opted_out


def test_other_keywords_go_to_the_registered_handler_in_the_routes_transaction(twilio: Stack) -> None:
    seen: list[tuple[int, str]] = []

    def on_hello(session, clients: list[Client], body: str) -> str:
        [client] = clients
        seen.append((client.id or 0, body))
        client.notes = "said hello"  # committed with the route's transaction
        return "Hi & welcome <3"

    inbound.register_reply("HELLO", on_hello)
    try:
        answer = _inbound(twilio, "hello there")
        assert "<Message>Hi &amp; welcome &lt;3</Message>" in answer.text
        assert seen == [(_alex().id, "hello there")] and _alex().notes == "said hello"
        assert "<Message>" not in _inbound(twilio, "whatever").text
        assert "<Message>" not in _inbound(twilio, "hello", sender="+12025550100").text  # nobody's number
    finally:
        inbound._handlers.pop("HELLO", None)
    with pytest.raises(ValueError):
        inbound.register_reply("stop", on_hello)


def test_the_auth_token_is_never_logged(twilio: Stack, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    twilio.fake.fail_next(401)
    _queue("t-9")
    outbox.deliver_due()
    assert twilio.fake.auth_token not in caplog.text
    from rxapp.settings import get_settings

    assert twilio.fake.auth_token not in repr(get_settings())
