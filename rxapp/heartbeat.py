"""The websocket heartbeat: how often open pages are pinged, and the watchdog that closes silent ones.

Every open page holds one Socket.IO connection (Engine.IO 4, websocket transport only). Two costs
grow with the number of open pages while nothing happens, both measured with 1,000 open waiting
rooms by `benchmarks/bench_waiting_room.py` and profiled with py-spy:

- **The pings.** The server pings each page and the page answers. Reflex pings every 25 s; here it
  is every 40 s. That is still under the 55-60 s after which common proxies and load balancers cut
  a silent connection.
- **The watchdog.** Engine.IO's service task closes sockets whose ping went unanswered for the
  ping timeout. It checks one socket at a time, waking `len(sockets) / ping_timeout` times a
  second; each wake-up costs a task and a timer. That was about a fifth of the idle server's
  event-loop time. Here it checks every socket in one pass, a few times per ping timeout. It
  makes the same checks, at least as often, for a fraction of the cost.

A page whose connection died silently, for example a phone switching from Wi-Fi to mobile data,
notices after interval + timeout. Here that is 70 s, where Reflex's defaults take 145 s. The page
then reconnects and re-reads its state. Browsers that report going offline close the connection
at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import types
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

log = logging.getLogger(__name__)

PING_INTERVAL_SECONDS = 40  # REFLEX_SOCKET_INTERVAL unless the environment sets it
PING_TIMEOUT_SECONDS = 30  # REFLEX_SOCKET_TIMEOUT unless the environment sets it
PASSES_PER_TIMEOUT = 4  # the watchdog checks every socket this many times per ping timeout


def configure_environment() -> None:
    """Set the heartbeat for Reflex, which reads it from the environment when it creates its
    Socket.IO server (call from rxconfig.py, before the app exists). The environment wins."""
    os.environ.setdefault("REFLEX_SOCKET_INTERVAL", f"{PING_INTERVAL_SECONDS}s")
    os.environ.setdefault("REFLEX_SOCKET_TIMEOUT", f"{PING_TIMEOUT_SECONDS}s")


async def _watch_in_passes(server: Any) -> None:
    """Engine.IO's service task (python-engineio 4.x `AsyncServer._service_task`) in passes: every
    ping_timeout / PASSES_PER_TIMEOUT seconds, forget the closed sockets and check each open one's
    ping timeout (which closes it if its ping went unanswered), until the server shuts down."""
    server.service_task_event = stopping = server.create_event()
    while not stopping.is_set():
        try:
            for sock in list(server.sockets.values()):
                if sock.closed:
                    server.sockets.pop(sock.sid, None)
                elif not sock.closing:
                    try:
                        await sock.check_ping_timeout()
                    except Exception:  # one socket's trouble must not stop the watch of the others
                        log.exception("checking a socket's ping timeout failed")
            await asyncio.wait_for(stopping.wait(), timeout=server.ping_timeout / PASSES_PER_TIMEOUT)
        except TimeoutError:
            continue
        except asyncio.CancelledError:  # as the original: cancelled with the server, it just ends
            return


def watch_in_passes(server: Any) -> bool:
    """Make an Engine.IO server's watchdog check its sockets in passes; True if it was changed.
    Must run before the first connection, which starts the watchdog."""
    if getattr(server, "_watching_in_passes", False) or not hasattr(server, "_service_task"):
        return False
    server._service_task = types.MethodType(_watch_in_passes, server)
    server._watching_in_passes = True
    return True


@asynccontextmanager
async def heartbeat_lifespan(app: Any) -> AsyncIterator[None]:
    """Started once per backend worker, before any page connects."""
    server = getattr(getattr(app, "sio", None), "eio", None)
    if server is not None and watch_in_passes(server):
        log.info("socket watchdog: every socket checked %d times per %.0f s ping timeout", PASSES_PER_TIMEOUT,
                 server.ping_timeout)
    yield
