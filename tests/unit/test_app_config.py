"""What the environment configures in a fresh process: the listen address, the websocket heartbeat."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OURS = ("APP_HOST", "REFLEX_BACKEND_HOST", "REFLEX_SOCKET_INTERVAL", "REFLEX_SOCKET_TIMEOUT")


def _printed(code: str, **env: str) -> str:
    """The last line `code` prints in a new interpreter, with only `env` of the variables above set."""
    clean = {k: v for k, v in os.environ.items() if k not in OURS}
    return subprocess.run([sys.executable, "-c", code], env={**clean, **env}, cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout.strip().splitlines()[-1]


def _backend_host(**env: str) -> str:
    return _printed("import rxconfig; print(rxconfig.config.backend_host)", **env)


def _heartbeat(**env: str) -> str:
    """The app's Socket.IO server's ping interval and timeout, in seconds."""
    return _printed("from rxapp.rxapp import app; print(app.sio.eio.ping_interval, app.sio.eio.ping_timeout)",
                    **env)


def test_the_app_listens_on_loopback_by_default() -> None:
    assert _backend_host() == "127.0.0.1"


def test_app_host_opens_it_up() -> None:
    assert _backend_host(APP_HOST="0.0.0.0") == "0.0.0.0"


def test_the_websocket_is_pinged_every_40_s_and_given_up_30_s_after_an_unanswered_ping() -> None:
    assert _heartbeat() == "40.0 30.0"


def test_the_environment_may_set_another_heartbeat() -> None:
    assert _heartbeat(REFLEX_SOCKET_INTERVAL="20s", REFLEX_SOCKET_TIMEOUT="10") == "20.0 10.0"
