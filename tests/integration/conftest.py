"""Integration fixtures: the real Zoom sandbox over HTTP, and the app's own HTTP routes served
for it to call (webhooks)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.conftest import reset_app_caches
from tests.integration.zoom_helpers import SignedIn, connect, demo_practice, sign_in
from zoom_sandbox.config import SandboxConfig
from zoom_sandbox.testing import run_sandbox, serve_app

WEBHOOK_SECRET = "integration-webhook-secret"


@dataclass
class ZoomSandbox:
    url: str
    app_url: str


@pytest.fixture
def zoom(database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[ZoomSandbox]:
    """The sandbox, wired to the app's settings, delivering webhooks to the app's real route."""
    from rxapp import api

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    app_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = SandboxConfig(enable_control=True, redirect_uri="*", webhook_url=f"{app_url}/api/zoom/webhook",
                           webhook_secret=WEBHOOK_SECRET, webhook_retry_delays=(0.2, 0.5), webhook_timeout=3.0)
    with run_sandbox(config) as sandbox:
        monkeypatch.setenv("ZOOM_OAUTH_BASE_URL", sandbox.base_url)
        monkeypatch.setenv("ZOOM_API_BASE_URL", sandbox.api_base_url)
        monkeypatch.setenv("ZOOM_WEBHOOK_SECRET_TOKEN", WEBHOOK_SECRET)
        monkeypatch.setenv("APP_URL", app_url)
        reset_app_caches()
        with serve_app(api.build(), sock=sock, ready_path="/api/health"):
            yield ZoomSandbox(url=sandbox.base_url, app_url=app_url)


@pytest.fixture
def short_zoom_timeout(zoom: ZoomSandbox, monkeypatch: pytest.MonkeyPatch) -> float:
    """The app gives up on Zoom after 2 s instead of its default 10, for tests in which Zoom does not
    answer in time. (Every other test keeps the default: a machine busy with other tests can hold an
    ordinary answer up for a second or two.)"""
    from rxapp.settings import get_settings

    monkeypatch.setenv("ZOOM_HTTP_TIMEOUT_SECONDS", "2")
    get_settings.cache_clear()
    return 2.0


@pytest.fixture
def demo(database: str) -> None:
    """The demo practice in a fresh database (Zoom not allowed, nobody connected)."""
    from rxapp.dev import demo_data

    demo_data.load_demo_data()


@pytest.fixture
def lee(zoom: ZoomSandbox) -> SignedIn:
    """Zoom allowed and Dr. Lee signed in with her Zoom account connected."""
    demo_practice()
    who = sign_in("dr.lee@demo.clinic")
    connect(zoom.url, who, "lee@zoom.demo")
    return who
