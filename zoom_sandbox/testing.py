"""Run a sandbox (or any ASGI app) on a free port in a background thread.

Used by the sandbox's own tests and by the app's integration tests; it waits
until the server answers before yielding, and stops it cleanly afterwards.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import httpx
import uvicorn

from zoom_sandbox.config import SandboxConfig


@dataclass
class RunningServer:
    base_url: str
    server: uvicorn.Server
    app: Any


@dataclass
class RunningSandbox:
    base_url: str
    config: SandboxConfig
    app: Any

    @property
    def oauth_base_url(self) -> str:
        return self.base_url

    @property
    def api_base_url(self) -> str:
        return self.base_url + "/v2"

    @property
    def sandbox(self) -> Any:
        """The in-process `Sandbox` (store, webhooks) for white-box assertions."""
        return self.app.state.sandbox


@cache
def http() -> httpx.Client:
    """One HTTP client for the tests' calls to local servers: `httpx.get` builds a client, and with it a
    TLS context that reads the CA bundle (~50 ms), on every call; the suite makes thousands."""
    return httpx.Client(timeout=30)


def _bind(host: str, port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


class _Server(uvicorn.Server):
    """uvicorn's server, noticing `should_exit` within 10 ms instead of 100: the integration tests start
    and stop two servers each (the sandbox and the app), over a thousand times a run."""

    async def main_loop(self) -> None:
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            await asyncio.sleep(0.01)


@contextmanager
def serve_app(app: Any, host: str = "127.0.0.1", sock: socket.socket | None = None,
              ready_path: str = "/", timeout: float = 10.0) -> Iterator[RunningServer]:
    """Serve an ASGI app with uvicorn in a thread on an already bound socket."""
    sock = sock or _bind(host)
    port = sock.getsockname()[1]
    server = _Server(uvicorn.Config(app, log_level="warning", lifespan="on",
                                           timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base_url = f"http://{host}:{port}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            if server.started:
                http().get(base_url + ready_path, timeout=1.0)
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise RuntimeError(f"server on {base_url} did not start")
        time.sleep(0.02)
    try:
        yield RunningServer(base_url, server, app)
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()


@contextmanager
def run_sandbox(config: SandboxConfig | None = None) -> Iterator[RunningSandbox]:
    """Start a sandbox on a free port (config.port is replaced), yield its URLs."""
    from zoom_sandbox.app import create_app

    config = config or SandboxConfig(enable_control=True)
    sock = _bind(config.host)
    config = replace(config, port=sock.getsockname()[1])
    app = create_app(config)
    with serve_app(app, config.host, sock) as running:
        yield RunningSandbox(running.base_url, config, app)
