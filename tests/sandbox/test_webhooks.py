"""Webhooks: signatures (recomputed here independently), URL validation, retries, duplicates."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable

from .conftest import WEBHOOK_SECRET, Receiver, WebhookContract, Zoom


def _expected_signature(timestamp: str, body: bytes) -> str:
    digest = hmac.new(WEBHOOK_SECRET.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    return f"v0={digest}"


def _deliveries(zoom: Zoom) -> list[dict]:
    return zoom.control("GET", "/deliveries").json()["deliveries"]


def _wait_state(zoom: Zoom, delivery_id: int, state: str, timeout: float = 5.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = next(d for d in _deliveries(zoom) if d["id"] == delivery_id)
        if found["state"] == state:
            return found
        time.sleep(0.05)
    raise AssertionError(f"delivery {delivery_id} never reached {state}: {found}")


def test_every_event_is_signed_like_zoom(zoom: Zoom, receiver: Receiver) -> None:
    meeting = zoom.create(zoom.connect()["access_token"])
    zoom.control("POST", f"/meetings/{meeting['id']}/start")
    for item in receiver.wait_for("meeting.started") + receiver.events("meeting.created"):
        timestamp = item.headers["x-zm-request-timestamp"]
        assert timestamp.isdigit() and abs(int(timestamp) - time.time()) < 30  # seconds, not ms
        assert item.headers["x-zm-signature"] == _expected_signature(timestamp, item.body)
        assert item.headers["content-type"] == "application/json"
        assert item.json["event_ts"] > 10**12  # milliseconds


def test_url_validation_handshake(zoom: Zoom, receiver: Receiver) -> None:
    result = zoom.control("POST", "/webhooks/validate").json()
    assert result["valid"] is True and result["status"] == 200
    sent = receiver.events("endpoint.url_validation")[0]
    assert sent.json["payload"]["plainToken"] == result["plainToken"]
    assert sent.headers["x-zm-signature"] == _expected_signature(sent.headers["x-zm-request-timestamp"], sent.body)


def test_url_validation_detects_a_wrong_answer(make_sandbox: Callable[..., Zoom]) -> None:
    zoom = make_sandbox(webhook_secret="another-secret")
    assert zoom.control("POST", "/webhooks/validate").json()["valid"] is False


def test_retries_on_error_until_accepted(zoom: Zoom, receiver: Receiver) -> None:
    receiver.plan[:] = [500, 503]
    delivery = zoom.control("POST", "/webhooks/send", json={
        "event": "custom.test", "payload": {"n": 1}}).json()
    done = _wait_state(zoom, delivery["id"], "delivered")
    assert [a["status"] for a in done["attempts"]] == [500, 503, 200]
    bodies = {r.body for r in receiver.events("custom.test")}
    assert len(bodies) == 1  # the same bytes every time
    stamps = [r.headers["x-zm-signature"] for r in receiver.events("custom.test")]
    assert len(stamps) == 3


def test_retries_when_no_answer_within_timeout(zoom: Zoom, receiver: Receiver) -> None:
    receiver.plan[:] = ["slow"]  # answers after the sandbox under test stopped waiting
    delivery = zoom.control("POST", "/webhooks/send", json={"event": "custom.test", "payload": {}}).json()
    done = _wait_state(zoom, delivery["id"], "delivered")
    assert done["attempts"][0]["status"] is None and "no answer" in done["attempts"][0]["error"]
    assert done["attempts"][1]["status"] == 200


def test_gives_up_after_the_schedule(zoom: Zoom, receiver: Receiver) -> None:
    receiver.plan[:] = [500, 500, 500, 500]
    delivery = zoom.control("POST", "/webhooks/send", json={"event": "custom.test", "payload": {}}).json()
    done = _wait_state(zoom, delivery["id"], "failed")
    assert len(done["attempts"]) == 3  # first try + the two configured retries


def test_resend_makes_a_duplicate_with_same_body(zoom: Zoom, receiver: Receiver) -> None:
    meeting = zoom.create(zoom.connect()["access_token"])
    zoom.api("DELETE", f"/meetings/{meeting['id']}", zoom.connect()["access_token"])
    original = receiver.wait_for("meeting.deleted")[0]
    entry = next(d for d in _deliveries(zoom) if d["event"] == "meeting.deleted")
    time.sleep(1.05)  # so the signature timestamp (seconds) differs
    copy = zoom.control("POST", f"/deliveries/{entry['id']}/resend").json()
    assert copy["duplicate_of"] == entry["id"]
    duplicate = receiver.wait_for("meeting.deleted", count=2)[1]
    assert duplicate.body == original.body and duplicate.json["event_ts"] == original.json["event_ts"]
    assert duplicate.headers["x-zm-request-timestamp"] != original.headers["x-zm-request-timestamp"]
    assert duplicate.headers["x-zm-signature"] == _expected_signature(
        duplicate.headers["x-zm-request-timestamp"], duplicate.body)


def test_no_delivery_without_webhook_url(make_sandbox: Callable[..., Zoom]) -> None:
    zoom = make_sandbox(webhook_url="")
    zoom.create(zoom.connect()["access_token"])
    assert [d["state"] for d in _deliveries(zoom)] == ["skipped"]


def test_non_ascii_is_sent_as_raw_utf8_and_signed_over_those_bytes(zoom: Zoom, receiver: Receiver) -> None:
    topic = "Séance avec Zoë — 診察"
    zoom.create(zoom.connect()["access_token"], topic=topic, agenda="Überweisung prüfen")
    item = receiver.wait_for("meeting.created")[0]
    assert topic.encode("utf-8") in item.body and b"\\u" not in item.body
    assert item.json["payload"]["object"]["topic"] == topic
    timestamp = item.headers["x-zm-request-timestamp"]
    assert item.headers["x-zm-signature"] == _expected_signature(timestamp, item.body)
    # A receiver that re-serialises with escapes (or verifies over that form) would not match.
    escaped = json.dumps(item.json, separators=(",", ":")).encode()
    assert escaped != item.body and _expected_signature(timestamp, escaped) != item.headers["x-zm-signature"]


def test_app_deauthorized_has_zooms_documented_shape(zoom: Zoom, receiver: Receiver,
                                                     webhook_contract: WebhookContract) -> None:
    zoom.connect("patel@zoom.demo")
    before = int(time.time() * 1000)
    assert zoom.control("POST", "/users/patel@zoom.demo/revoke").status_code == 200
    body = receiver.wait_for("app_deauthorized")[0].json
    documented = webhook_contract.example("app_deauthorized")
    assert list(body) == list(documented) == ["event", "payload"]  # no top-level event_ts
    payload = body["payload"]
    assert set(documented["payload"]) | {"user_data_retention"} == set(payload)
    assert isinstance(payload["event_ts"], int) and payload["event_ts"] >= before - 1000  # milliseconds
    assert payload["user_data_retention"] == "false"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", payload["deauthorization_time"])
    assert re.fullmatch(r"[0-9a-f]{64}", payload["signature"])
    assert payload["client_id"] == zoom.config.client_id and payload["user_id"] and payload["account_id"]


def test_only_200_or_204_count_as_delivered(zoom: Zoom, receiver: Receiver) -> None:
    receiver.plan[:] = [202, 201]  # 2xx, but not what Zoom accepts
    delivery = zoom.control("POST", "/webhooks/send", json={"event": "custom.test", "payload": {}}).json()
    done = _wait_state(zoom, delivery["id"], "delivered")
    assert [a["status"] for a in done["attempts"]] == [202, 201, 200]
    receiver.plan[:] = [204]
    accepted = zoom.control("POST", "/webhooks/send", json={"event": "custom.test", "payload": {}}).json()
    assert [a["status"] for a in _wait_state(zoom, accepted["id"], "delivered")["attempts"]] == [204]
