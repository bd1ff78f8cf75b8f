"""Engine.IO's watchdog checks every socket in one pass (rxapp/heartbeat.py), on a real Engine.IO server
with real sockets: it still closes the ones whose ping went unanswered and forgets closed ones."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import engineio
import pytest
from engineio.async_socket import AsyncSocket

from rxapp import heartbeat


def _server(ping_timeout: float) -> engineio.AsyncServer:
    server = engineio.AsyncServer(async_mode="asgi", ping_interval=40, ping_timeout=ping_timeout)
    assert heartbeat.watch_in_passes(server)
    assert not heartbeat.watch_in_passes(server)  # once is enough
    return server


def _socket(server: engineio.AsyncServer, sid: str, *, pinged_ago: float | None = None,
            closed: bool = False) -> AsyncSocket:
    sock = AsyncSocket(server, sid)
    sock.connected = True
    sock.last_ping = None if pinged_ago is None else time.time() - pinged_ago  # None: the last ping was answered
    sock.closed = closed
    server.sockets[sid] = sock
    return sock


def test_silent_sockets_are_closed_answering_ones_kept_closed_ones_forgotten() -> None:
    asyncio.run(_silent_sockets())


async def _silent_sockets() -> None:
    server = _server(ping_timeout=0.4)
    gone: list[str] = []
    server.on("disconnect", lambda sid, reason: gone.append(sid))
    answering = _socket(server, "answering")
    waiting = _socket(server, "waiting", pinged_ago=0.1)  # pinged, still within the timeout
    silent = _socket(server, "silent", pinged_ago=5)
    _socket(server, "closed", closed=True)

    watch = asyncio.create_task(server._service_task())
    await asyncio.sleep(0.05)  # the first pass
    assert silent.closed and gone == ["silent"]
    assert not answering.closed and not waiting.closed
    assert "closed" not in server.sockets

    await asyncio.sleep(0.5)  # a pass after `waiting` went past its timeout unanswered
    assert waiting.closed and gone == ["silent", "waiting"]
    assert not answering.closed

    server.service_task_event.set()  # what the server's shutdown() does
    await asyncio.wait_for(watch, timeout=1)


def test_a_thousand_sockets_cost_a_few_wakeups_per_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    server = _server(ping_timeout=30)
    for i in range(1000):
        _socket(server, f"s{i}")
    checked: list[str] = []
    real_check = AsyncSocket.check_ping_timeout

    async def check(self: AsyncSocket) -> bool:
        checked.append(self.sid)
        return await real_check(self)

    waits: list[float] = []

    async def wait_for(awaitable: Any, timeout: float) -> None:
        waits.append(timeout)
        if len(waits) == 3:
            server.service_task_event.set()
        awaitable.close()
        raise TimeoutError

    monkeypatch.setattr(AsyncSocket, "check_ping_timeout", check)
    monkeypatch.setattr(heartbeat.asyncio, "wait_for", wait_for)
    asyncio.run(server._service_task())  # ends when the third wait sets the shutdown event
    # Engine.IO's own task waits once per socket (1,000 timers per 30 s); this waits once per pass.
    assert waits == [30 / heartbeat.PASSES_PER_TIMEOUT] * 3
    assert len(checked) == 3000 and set(checked) == {f"s{i}" for i in range(1000)}
