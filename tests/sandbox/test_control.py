"""Control API switch, stats, reset, admin page, persistence and configuration."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from zoom_sandbox.__main__ import parse_args
from zoom_sandbox.config import SandboxConfig
from zoom_sandbox.testing import run_sandbox

from .conftest import ApiContract, Receiver, Zoom, test_config


def test_control_api_is_off_unless_enabled(make_sandbox: Callable[..., Zoom]) -> None:
    zoom = make_sandbox(enable_control=False)
    assert zoom.control("POST", "/reset").status_code == 404
    assert zoom.control("POST", "/authorize", json={"email": "lee@zoom.demo"}).status_code == 404
    assert zoom.http.get("/_sandbox/admin").status_code == 200  # the admin page stays available


def test_stats_count_operations(zoom: Zoom) -> None:
    tokens = zoom.connect()
    zoom.refresh(tokens["refresh_token"])
    zoom.api("GET", "/users/me", tokens["access_token"])
    calls = zoom.control("GET", "/stats").json()["calls"]
    assert calls["token.authorization_code"] == 1 and calls["token.refresh_token"] == 1
    assert calls["authorize"] == 1


def test_reset_clears_everything(zoom: Zoom) -> None:
    tokens = zoom.connect()
    zoom.create(tokens["access_token"])
    zoom.control("POST", "/faults", json={"operation": "users.me", "kind": "500"})
    zoom.control("POST", "/clock/advance", json={"seconds": 100})
    assert zoom.control("POST", "/reset").json() == {"reset": True}
    assert zoom.control("GET", "/meetings").json()["meetings"] == []
    assert zoom.control("GET", "/deliveries").json()["deliveries"] == []
    assert zoom.control("GET", "/stats").json()["calls"] == {}
    assert zoom.control("GET", "/clock").json()["offset_seconds"] == 0
    assert zoom.control("GET", "/faults").json()["faults"] == {}
    assert zoom.api("GET", "/users/me", tokens["access_token"]).status_code == 401


def test_control_authorize_validates(zoom: Zoom) -> None:
    unknown = zoom.control("POST", "/authorize", json={"email": "nobody@zoom.demo"})
    assert unknown.status_code == 404
    bad_redirect = zoom.control("POST", "/authorize", json={
        "email": "lee@zoom.demo", "client_id": zoom.config.client_id, "redirect_uri": "http://evil/"})
    assert bad_redirect.status_code == 400
    ok = zoom.control("POST", "/authorize", json={
        "email": "lee@zoom.demo", "client_id": zoom.config.client_id,
        "redirect_uri": "http://127.0.0.1:9/callback", "state": "abc"}).json()
    assert ok["location"] == f"http://127.0.0.1:9/callback?code={ok['code']}&state=abc"


def test_admin_page_lists_and_removes_app(zoom: Zoom, receiver: Receiver) -> None:
    tokens = zoom.connect("patel@zoom.demo")
    zoom.create(tokens["access_token"], topic="Visible topic")
    admin = zoom.http.get("/_sandbox/admin")
    assert admin.status_code == 200
    for text in ("patel@zoom.demo", "Remove app", "Visible topic", "meeting.created", "Webhook deliveries"):
        assert text in admin.text
    assert re.search(r'name="email" value="patel@zoom.demo"', admin.text)
    removed = zoom.http.post("/_sandbox/admin/remove-app", data={"email": "patel@zoom.demo"})
    assert removed.status_code == 303
    receiver.wait_for("app_deauthorized")
    assert zoom.api("GET", "/users/me", tokens["access_token"]).status_code == 401
    assert "Remove app for patel" not in zoom.http.get("/_sandbox/admin").text


def test_state_file_survives_restart(receiver: Receiver, tmp_path: Path, api_contract: ApiContract) -> None:
    state = tmp_path / "zoom-sandbox.json"
    config = test_config(receiver, state_file=str(state), webhook_url="")
    with run_sandbox(config) as first:
        zoom = Zoom(first, api_contract)
        tokens = zoom.connect()
        meeting = zoom.create(tokens["access_token"])
    assert state.exists()
    with run_sandbox(config) as second:
        zoom = Zoom(second, api_contract)
        again = zoom.api("GET", f"/meetings/{meeting['id']}", tokens["access_token"])
        assert again.status_code == 200 and again.json()["topic"] == meeting["topic"]
        assert zoom.refresh(tokens["refresh_token"]).status_code == 200


def test_config_from_env_and_flags() -> None:
    env = {
        "ZOOM_SANDBOX_PORT": "9999", "ZOOM_CLIENT_ID": "cid", "ZOOM_REDIRECT_URI": "http://a/cb, http://b/cb",
        "ZOOM_SANDBOX_CONTROL": "1", "ZOOM_SANDBOX_WEBHOOK_RETRY_DELAYS": "0.1,0.2",
        "ZOOM_SANDBOX_ACCESS_TOKEN_TTL": "60", "ZOOM_WEBHOOK_URL": "", "ZOOM_SANDBOX_REFRESH_TOKEN_TTL": "120",
    }
    config = SandboxConfig.from_env(env)
    assert config.port == 9999 and config.client_id == "cid" and config.enable_control
    assert config.redirect_allowed("http://b/cb") and not config.redirect_allowed("http://c/cb")
    assert config.webhook_retry_delays == (0.1, 0.2) and config.access_token_ttl == 60
    assert config.refresh_token_ttl == 120
    assert config.webhook_url == "" and config.base_url == "http://127.0.0.1:9999"
    assert SandboxConfig(redirect_uri="*").redirect_allowed("http://anything/cb")
    defaults = SandboxConfig.from_env({})
    assert not defaults.enable_control
    # Zoom's schedule: retries 5, 20 and 60 minutes after the previous attempt, 3 s to answer;
    # a refresh token lives 90 days.
    assert defaults.webhook_retry_delays == (300.0, 1200.0, 3600.0) and defaults.webhook_timeout == 3.0
    assert defaults.refresh_token_ttl == 90 * 86400 == SandboxConfig().refresh_token_ttl
    parsed = parse_args(["--port", "1234", "--client-id", "x", "--enable-control", "--webhook-url", "",
                         "--public-url", "http://zoom.local/", "--refresh-token-ttl", "30"])
    assert parsed.port == 1234 and parsed.client_id == "x" and parsed.enable_control
    assert parsed.refresh_token_ttl == 30 and parsed.webhook_retry_delays == (300.0, 1200.0, 3600.0)
    assert parsed.base_url == "http://zoom.local"
