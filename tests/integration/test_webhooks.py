"""Zoom webhook intake: size limit, 400 for what cannot be an event, minimal stored payloads,
retries with backoff, poison events, retention, and a dedupe key from Zoom's real shapes."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import select

from rxapp.clock import now, set_clock
from rxapp.db import unit_of_work
from rxapp.models import WebhookEvent
from rxapp.services.telehealth.zoom import webhooks
from tests.integration.conftest import WEBHOOK_SECRET, ZoomSandbox
from tests.integration.zoom_helpers import SignedIn, wait_until


def _headers(body: bytes) -> dict[str, str]:
    stamp = str(int(time.time()))
    return {"x-zm-request-timestamp": stamp, "x-zm-signature": webhooks.sign(WEBHOOK_SECRET, stamp, body),
            "content-type": "application/json"}


def _post(zoom: ZoomSandbox, body: bytes, **kwargs: Any) -> httpx.Response:
    return httpx.post(f"{zoom.app_url}/api/zoom/webhook", content=body, headers=_headers(body), **kwargs)


def _events() -> list[WebhookEvent]:
    with unit_of_work() as s:
        return list(s.exec(select(WebhookEvent).order_by(WebhookEvent.id)).all())


def _started(meeting_id: Any = "81234567890", ts: Any = None) -> dict[str, Any]:
    return {"event": "meeting.started", "event_ts": int(time.time() * 1000) if ts is None else ts,
            "payload": {"account_id": "acct", "object": {"id": meeting_id, "uuid": "u1==", "host_id": "h",
                                                         "topic": "T", "type": 2, "duration": 30,
                                                         "start_time": "2026-12-01T10:00:00Z"}}}


def test_a_body_over_the_limit_is_refused_before_it_is_read_whole(zoom: ZoomSandbox) -> None:
    url = f"{zoom.app_url}/api/zoom/webhook"
    big = b'{"event":"meeting.started","pad":"' + b"x" * (300 * 1024) + b'"}'
    declared = httpx.post(url, content=big, headers=_headers(big))
    assert declared.status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while it streams in
        for _ in range(40):
            yield b"x" * 8192

    streamed = httpx.post(url, content=chunks(), headers={"x-zm-request-timestamp": str(int(time.time())),
                                                          "x-zm-signature": "v0=00"})
    assert streamed.status_code == 413
    small = json.dumps(_started()).encode()
    assert _post(zoom, small).status_code == 200
    assert len(_events()) == 1


@pytest.mark.parametrize("body", [
    b"[1, 2]", b'"just a string"', b"42", b"null", b"{not json", b'{"event": 5}',
    b'{"event": "meeting.started", "payload": []}',
    b'{"event": "meeting.started", "payload": {"object": "x"}}',
    json.dumps(_started(meeting_id=10**30)).encode(),
    json.dumps(_started(meeting_id=str(10**30))).encode(),
    json.dumps(_started(meeting_id=-5)).encode(),
    json.dumps(_started(ts=10**30)).encode(),
    json.dumps(_started(ts=-1)).encode(),
    json.dumps(_started(ts="soon")).encode(),
    b'{"event": "app_deauthorized", "payload": {"user_id": "u", "event_ts": 1e300}}',
    b'{"event": "endpoint.url_validation", "payload": {"plainToken": 7}}',
    b'{"event": "meeting.started", "event_ts": 1, "payload": {"object": {"id": 1, "participant": [1]}}}',
], ids=lambda b: b[:40].decode(errors="replace"))
def test_a_signed_body_that_is_not_a_usable_event_gets_400_and_nothing_is_stored(
        zoom: ZoomSandbox, body: bytes) -> None:
    response = _post(zoom, body)
    assert response.status_code == 400, response.text
    assert "invalid" in response.json()["error"]
    assert _events() == []


def test_a_signature_timestamp_far_out_of_range_is_refused_not_an_error(zoom: ZoomSandbox) -> None:
    body = json.dumps(_started()).encode()
    headers = {**_headers(body), "x-zm-request-timestamp": "9" * 40}
    assert httpx.post(f"{zoom.app_url}/api/zoom/webhook", content=body, headers=headers).status_code == 401


def test_a_stored_event_keeps_only_what_processing_needs(zoom: ZoomSandbox) -> None:
    secrets = {"join_url": "https://zoom.us/j/1?pwd=JOINSECRET", "start_url": "https://zoom.us/s/1?zak=STARTSECRET",
               "password": "PASSSECRET", "encrypted_password": "ENCSECRET", "pstn_password": "PSTNSECRET",
               "h323_password": "H323SECRET", "settings": {"alternative_hosts": "x@y"}}
    body = {"event": "meeting.updated", "event_ts": int(time.time() * 1000),
            "payload": {"account_id": "acct", "operator": "boss@example.com", "operator_id": "op",
                        "object": {"id": 81234567890, "uuid": "u", "topic": "New topic", "duration": 45,
                                   "start_time": "2026-12-01T10:00:00Z", "timezone": "UTC", **secrets},
                        "old_object": {"id": 81234567890, **secrets}}}
    participant = {"event": "meeting.participant_joined", "event_ts": int(time.time() * 1000),
                   "payload": {"account_id": "acct", "object": {
                       "id": "81234567890", "uuid": "u", "host_id": "h", "duration": 30, "type": 2,
                       "participant": {"user_id": "16778240", "user_name": "Alex Rivera",
                                       "email": "alex@demo.client", "join_time": "2026-12-01T10:01:00Z"}}}}
    assert _post(zoom, json.dumps(body).encode()).status_code == 200
    assert _post(zoom, json.dumps(participant).encode()).status_code == 200
    updated, joined = _events()
    for word in ("SECRET", "pwd", "zak", "password", "join_url", "start_url", "boss@", "alternative_hosts"):
        assert word not in updated.payload
    assert json.loads(updated.payload)["payload"]["object"] == {
        "id": 81234567890, "uuid": "u", "topic": "New topic", "duration": 45, "start_time": "2026-12-01T10:00:00Z",
        "timezone": "UTC"}
    assert "alex@demo.client" not in joined.payload and "Alex Rivera" not in joined.payload
    assert json.loads(joined.payload)["payload"]["object"]["participant"]["user_id"] == "16778240"


def test_url_validation_is_still_answered(zoom: ZoomSandbox) -> None:
    body = json.dumps({"event": "endpoint.url_validation", "event_ts": 1,
                       "payload": {"plainToken": "plain-123"}}).encode()
    answer = _post(zoom, body).json()
    assert answer == webhooks.url_validation_answer(WEBHOOK_SECRET, "plain-123")
    assert _events() == []


@pytest.fixture
def poison(database: str) -> Iterator[list[dict[str, Any]]]:
    """A handler that fails every time (a bug, or data it cannot handle)."""
    calls: list[dict[str, Any]] = []

    def explode(event: dict[str, Any]) -> None:
        calls.append(event)
        raise RuntimeError("cannot apply this event (password='hunter2')")

    webhooks.HANDLERS["test.poison"] = explode
    yield calls
    del webhooks.HANDLERS["test.poison"]


def _at(moment: datetime) -> None:
    set_clock(lambda: moment)


def test_a_failing_event_is_retried_with_backoff_and_then_fails_with_its_reason(poison) -> None:
    start = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    _at(start)
    event_id = webhooks.store({"event": "test.poison", "event_ts": 1764583200000, "payload": {"account_id": "a"}})
    assert event_id is not None
    webhooks.process(event_id)
    [row] = _events()
    assert row.attempts == 1 and row.processed_at is None and row.failed_at is None
    assert row.next_attempt_at == start + timedelta(minutes=1)
    assert "cannot apply this event" in row.error and "hunter2" not in row.error
    assert webhooks.process_pending() == 0  # not due yet
    moment = start
    for attempt in range(2, webhooks.MAX_ATTEMPTS + 1):
        moment = _events()[0].next_attempt_at or moment
        _at(moment)
        assert webhooks.process_pending() == 1
        assert _events()[0].attempts == attempt
    [row] = _events()
    assert len(poison) == webhooks.MAX_ATTEMPTS
    assert row.failed_at == moment and row.processed_at == moment and row.next_attempt_at is None
    assert row.error.startswith("RuntimeError: cannot apply this event")
    _at(moment + timedelta(days=1))
    assert webhooks.process_pending() == 0 and len(poison) == webhooks.MAX_ATTEMPTS


def test_an_event_that_succeeds_on_a_retry_is_processed_without_an_error(database: str) -> None:
    runs: list[int] = []

    def flaky(event: dict[str, Any]) -> None:
        runs.append(1)
        if len(runs) == 1:
            raise ConnectionError("database went away")

    webhooks.HANDLERS["test.flaky"] = flaky
    try:
        event_id = webhooks.store({"event": "test.flaky", "event_ts": 1, "payload": {}})
        webhooks.process(event_id or 0)
        _at(now() + timedelta(minutes=2))
        assert webhooks.process_pending() == 1
    finally:
        del webhooks.HANDLERS["test.flaky"]
    [row] = _events()
    assert row.processed_at is not None and row.failed_at is None and row.error == "" and row.attempts == 2


def test_a_run_that_crashed_is_taken_again_after_its_lease(database: str) -> None:
    event_id = webhooks.store({"event": "test.unknown", "event_ts": 1, "payload": {}}) or 0
    assert webhooks._claim(event_id) is not None  # a process took it and died
    assert webhooks.process_pending() == 0
    _at(now() + timedelta(minutes=6))
    assert webhooks.process_pending() == 1
    assert _events()[0].processed_at is not None


def test_processed_events_are_deleted_after_the_retention_period(database: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import reset_app_caches

    monkeypatch.setenv("WEBHOOK_RETENTION_DAYS", "10")
    reset_app_caches()
    start = datetime(2026, 12, 1, tzinfo=UTC)
    _at(start)
    old = webhooks.store({"event": "test.unknown", "event_ts": 1, "payload": {}}) or 0
    pending = webhooks.store({"event": "test.unknown", "event_ts": 2, "payload": {}}) or 0
    webhooks.process(old)
    _at(start + timedelta(days=5))
    recent = webhooks.store({"event": "test.unknown", "event_ts": 3, "payload": {}}) or 0
    webhooks.process(recent)
    _at(start + timedelta(days=10, minutes=1))
    assert webhooks.prune_processed() == 1
    assert {e.id for e in _events()} == {pending, recent}


# Zoom's documented shapes (zoom-webhooks.openapi.json): app_deauthorized has event_ts *inside*
# payload, with a per-deauthorization `signature`; meeting events have it at the top.
def _deauthorized(ts: int, signature: str, real_shape: bool = True) -> dict[str, Any]:
    payload: dict[str, Any] = {"account_id": "acct", "user_id": "zoom-user-1", "client_id": "c",
                               "deauthorization_time": datetime.fromtimestamp(ts / 1000, UTC).isoformat(),
                               "signature": signature}
    if real_shape:
        return {"event": "app_deauthorized", "payload": {**payload, "event_ts": ts, "user_data_retention": "false"}}
    return {"event": "app_deauthorized", "event_ts": ts, "payload": payload}


def test_two_deauthorizations_of_one_user_in_zoom_s_real_shape_are_two_events(database: str) -> None:
    first = _deauthorized(1764583200000, "sig-1")
    later = _deauthorized(1764669600000, "sig-2")  # connected again, removed again the next day
    assert webhooks.store(first) is not None
    assert webhooks.store(later) is not None
    assert webhooks.store(json.loads(json.dumps(first))) is None  # Zoom's retry of the first one
    assert webhooks.store(_deauthorized(1764756000000, "sig-3", real_shape=False)) is not None  # the older shape
    assert webhooks.store(_deauthorized(1764756000000, "sig-3", real_shape=False)) is None
    stored = [json.loads(e.payload) for e in _events()]
    assert [e["event_ts"] for e in stored] == [1764583200000, 1764669600000, 1764756000000]


def test_meeting_events_differ_by_meeting_instance_and_time_and_retries_collide(database: str) -> None:
    a = _started(ts=1764583200000)
    assert webhooks.store(a) is not None
    assert webhooks.store(json.loads(json.dumps(a))) is None
    assert webhooks.store(_started(ts=1764583200001)) is not None
    other = _started(ts=1764583200000)
    other["payload"]["object"]["uuid"] = "u2=="
    assert webhooks.store(other) is not None
    joined = {"event": "meeting.participant_joined", "event_ts": 1764583200000,
              "payload": {"account_id": "acct", "object": {"id": "1", "uuid": "u1==",
                                                           "participant": {"user_id": "p1"}}}}
    assert webhooks.store(joined) is not None
    joined["payload"]["object"]["participant"] = {"user_id": "p2"}
    assert webhooks.store(joined) is not None


def test_an_event_without_any_time_still_never_collides_with_a_different_one(database: str) -> None:
    assert webhooks.store({"event": "app_deauthorized", "payload": {"user_id": "u", "account_id": "a"}})
    assert webhooks.store({"event": "app_deauthorized", "payload": {"user_id": "u", "account_id": "b"}})
    assert webhooks.store({"event": "app_deauthorized", "payload": {"user_id": "u", "account_id": "a"}}) is None


def test_zoom_s_real_deauthorization_shape_disconnects_the_practitioner(zoom: ZoomSandbox, lee: SignedIn) -> None:
    from rxapp.models import ZoomConnection

    with unit_of_work() as s:
        row = s.exec(select(ZoomConnection)).one()
        body = _deauthorized(int(time.time() * 1000), "sig-x")
        body["payload"].update(user_id=row.zoom_user_id, account_id=row.zoom_account_id)
    assert _post(zoom, json.dumps(body).encode()).json() == {"status": "received"}

    def gone() -> bool:
        with unit_of_work() as s:
            return s.exec(select(ZoomConnection)).first() is None

    assert wait_until(gone)


def test_payloads_stored_before_the_upgrade_lose_their_secrets(database: str) -> None:
    from sqlalchemy import create_engine, text

    from rxapp import migrate

    migrate.downgrade(database, "0004")
    full = {"event": "meeting.updated", "event_ts": 1764583200000,
            "payload": {"account_id": "acct", "operator": "boss@example.com",
                        "object": {"id": 1, "topic": "T", "join_url": "https://zoom.us/j/1?pwd=OLDSECRET",
                                   "password": "OLDPASS"}}}
    engine = create_engine(database)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO webhook_event (dedupe_key, event, zoom_account_id, payload, received_at, error) "
                          "VALUES ('k', 'meeting.updated', 'acct', :p, CURRENT_TIMESTAMP, '')"),
                     {"p": json.dumps(full)})
    engine.dispose()
    migrate.upgrade(database)
    [row] = _events()
    assert json.loads(row.payload) == {"event": "meeting.updated", "event_ts": 1764583200000,
                                       "payload": {"account_id": "acct", "object": {"id": 1, "topic": "T"}}}
