"""What the running app logs when a browser sends an event for a handler that does not exist, or
a malformed one: no session cookie, client token or password in the app's log."""

from __future__ import annotations

import json
import time
import uuid

import socketio

from tests.e2e.conftest import in_thread
from tests.e2e.stack import Stack
from tests.integration.zoom_helpers import sign_in as service_sign_in

PASSWORD = "correct-horse-battery-e2e"


def test_an_event_for_an_unknown_handler_leaves_no_secret_in_the_app_log(stack: Stack) -> None:
    assert stack.log is not None
    session_token = in_thread(service_sign_in, "dr.lee@demo.clinic").token
    client_token = str(uuid.uuid4())
    before = stack.log.read_text()
    client = socketio.Client(reconnection=False)
    client.connect(f"{stack.url}?token={client_token}", socketio_path="/_event", transports=["websocket"],
                   namespaces=["/_event"], headers={"Cookie": f"th_session={session_token}"},
                   wait_timeout=20)
    try:
        event = {"name": "rxapp.state.auth.auth_state.no_such_handler", "router_data": {"pathname": "/meetings"},
                 "payload": {"form_data": {"email": "dr.lee@demo.clinic", "password": PASSWORD}}}
        client.emit("event", event, namespace="/_event")
        client.emit("event", json.dumps({**event, "token": client_token}), namespace="/_event")
        deadline = time.time() + 15
        while time.time() < deadline and "No registered handler" not in " ".join(
                stack.log.read_text()[len(before):].split()):
            time.sleep(0.2)
        time.sleep(1.0)
    finally:
        client.disconnect()
    logged = stack.log.read_text()[len(before):]
    unwrapped = logged.replace("\n", "")  # the console wraps long lines, even inside a word
    assert "No registered handler found for event: rxapp.state.auth.auth_state.no_such_handler" in " ".join(
        logged.split())
    assert "Event data:" in logged  # the malformed (string) event was logged too
    for secret in (session_token, client_token, PASSWORD):
        assert secret not in logged and secret not in unwrapped
