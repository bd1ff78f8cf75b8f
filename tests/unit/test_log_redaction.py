"""No cookie, token or password reaches a log line, whatever logs it and however."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from reflex_base.event import Event

from rxapp import redaction

COOKIE, CLIENT_TOKEN, PASSWORD = "th_session=Zr8cookievalue", "3f1c-client-token", "hunter2-correct-horse"


@pytest.fixture
def installed() -> Iterator[None]:
    previous = logging.getLogRecordFactory()
    redaction.install()
    yield
    logging.setLogRecordFactory(previous)


def _event() -> Event:
    return Event(name="rxapp.state.login.login_state.no_such_handler",
                 router_data={"pathname": "/login", "headers": {"host": "x", "cookie": f"{COOKIE}; theme=dark"},
                              "token": CLIENT_TOKEN, "sid": "abc"},
                 payload={"form_data": {"email": "a@b.c", "password": PASSWORD}})


def _assert_clean(text: str) -> None:
    for secret in ("Zr8cookievalue", CLIENT_TOKEN, PASSWORD):
        assert secret not in text


def test_reflex_s_log_of_an_event_for_an_unknown_handler_carries_no_secrets(installed, caplog) -> None:
    logger = logging.getLogger("reflex_base.event.processor.event_processor")
    event = _event()
    try:  # what reflex_base's _process_queue does for an unknown handler name
        raise KeyError(f"No registered handler found for event: {event.name}")
    except KeyError:
        logger.exception(f"Error processing event queue entry for {event} [txid=1]:")
    [record] = caplog.records
    assert "no_such_handler" in caplog.text and "KeyError" in caplog.text
    _assert_clean(caplog.text)
    _assert_clean(logging.Formatter().format(record))


def test_an_exception_message_and_its_traceback_are_redacted(installed, caplog) -> None:
    log = logging.getLogger("rxapp.anything")
    try:
        raise ValueError(f"bad sign-in password={PASSWORD!r} headers={{'cookie': '{COOKIE}'}}")
    except ValueError:
        log.exception("sign-in failed for %s", {"token": CLIENT_TOKEN, "email": "a@b.c"})
    assert "ValueError: bad sign-in" in caplog.text and "a@b.c" in caplog.text
    _assert_clean(caplog.text)


def test_malformed_event_data_logged_as_a_string_is_redacted(installed, caplog) -> None:
    raw = json.dumps({"name": "x.y", "payload": {"value": PASSWORD}, "token": CLIENT_TOKEN})
    logging.getLogger("reflex.app").warning(f"Received event data as a string. Event data: {raw}")
    _assert_clean(caplog.text)


@pytest.mark.parametrize(("text", "expected"), [
    ("GET /auth/session?ticket=abc123&next=/meetings", "GET /auth/session?ticket=[redacted]&next=/meetings"),
    ('{"plainToken": "p1", "event": "x"}', '{"plainToken": "[redacted]", "event": "x"}'),
    ("join_url='https://zoom.us/j/1?pwd=S3'", "join_url='[redacted]'"),
    ("Authorization: Bearer eyJhbGci.x.y", "Authorization: [redacted] [redacted]"),
    ("meeting 12 started at 10:00", "meeting 12 started at 10:00"),
])
def test_redact_keeps_what_is_useful_and_drops_secrets(text: str, expected: str) -> None:
    assert redaction.redact(text) == expected

