"""Protocol-level waiting-room clients for `bench_waiting_room.py`: many open waiting rooms, no browsers.

Each client does over one WebSocket what a real browser tab on `/portal/waiting?meeting=<id>` does
on Reflex's Socket.IO endpoint (`/_event`, Engine.IO 4, websocket transport, no polling
transport): it connects with its own fresh client token in the query string, the signed-in
user's session cookie and the app's Origin, sends the frontend's CONNECT packet whose auth
carries the boot event (`hydrate_and_load`, copied verbatim from what the real browser sent,
with this client's meeting in the router data), and so runs the page's on_load (`guard`,
`WaitingRoomState.load`, which registers the token under `meeting:<id>`). It counts as ready
once the delta with `status == "waiting"` arrives. Then it stays connected: it answers
Engine.IO pings and, only if the real page was seen sending a `poll` event (it no longer does while
its socket is up), repeats it every 10 s. Nothing else; the deltas it receives are read and dropped.

There is no aiohttp or websockets package in the project's environment (python-socketio's
AsyncClient needs aiohttp), so this speaks the protocol directly over asyncio streams with
wsproto, which is installed.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import random
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Ping, RejectConnection, Request, TextMessage

NAMESPACE = "/_event"
POLL_SECONDS = 10.0


@dataclass(frozen=True)
class Protocol:
    """What the real frontend sends, captured from the browser's own WebSocket frames."""

    connect_auth: dict[str, Any]  # the CONNECT packet's auth: {"event": boot event, "state_schema": ...}
    poll_event: dict[str, Any] | None  # the waiting room's poll event, or None to never poll
    subprotocol: str  # the frontend sends Reflex's version as WebSocket subprotocol

    @staticmethod
    def from_frames(sent: list[str], subprotocol: str) -> Protocol:
        """Build from text frames a browser sent on `/_event` while opening a waiting room."""
        prefix_connect, prefix_event = f"40{NAMESPACE},", f"42{NAMESPACE},"
        connect = next(json.loads(f[len(prefix_connect):]) for f in sent if f.startswith(prefix_connect))
        poll = next((json.loads(f[len(prefix_event):])[1] for f in sent
                     if f.startswith(prefix_event) and '.poll"' in f), None)
        return Protocol(connect_auth=connect, poll_event=poll, subprotocol=subprotocol)


def _router_data(meeting_id: int) -> dict[str, Any]:
    return {"pathname": "/portal/waiting/", "asPath": f"/portal/waiting/?meeting={meeting_id}",
            "query": {"meeting": str(meeting_id)}}


@dataclass
class _Client:
    meeting_id: int
    token: str = field(default_factory=lambda: str(uuid.uuid4()))
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    failed: str = ""
    polls: int = 0
    messages: int = 0
    local_port: int = 0  # this end of its TCP connection: which worker holds the other end shows it


class WaitingRooms:
    """N protocol-level waiting rooms on their own asyncio loop in a background thread."""

    def __init__(self, app_url: str, cookie: str, protocol: Protocol, meeting_ids: list[int],
                 *, poll: bool = True, connect_concurrency: int = 20) -> None:
        self._url = urlsplit(app_url)
        self._cookie = cookie
        self._protocol = protocol
        self._clients = [_Client(m) for m in meeting_ids]
        self._poll = poll and protocol.poll_event is not None
        self._concurrency = connect_concurrency
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="waiting-rooms", daemon=True)
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping: asyncio.Event | None = None

    # -- public, called from the benchmark's thread ---------------------------------------------
    def start(self, timeout: float = 120.0) -> None:
        """Connect every client and wait until each has loaded its waiting room."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout)

    def stop(self) -> None:
        """Close every WebSocket (Engine.IO close, then WebSocket close) and stop the thread."""
        if self._thread.is_alive():
            try:
                asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(30)
            finally:
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._thread.join(10)
        if not self._loop.is_running():
            self._loop.close()

    @property
    def polling(self) -> bool:
        """Whether the clients send the page's 10 s poll."""
        return self._poll

    @property
    def ready(self) -> int:
        return sum(1 for c in self._clients if c.ready.is_set() and not c.failed)

    @property
    def failures(self) -> list[str]:
        return [c.failed for c in self._clients if c.failed]

    @property
    def polls(self) -> int:
        return sum(c.polls for c in self._clients)

    @property
    def connections(self) -> dict[str, int]:
        """Each loaded client's token and the local port of its connection."""
        return {c.token: c.local_port for c in self._clients if c.ready.is_set() and not c.failed}

    # -- the loop's side -----------------------------------------------------------------------
    async def _start(self) -> None:
        self._stopping = asyncio.Event()
        gate = asyncio.Semaphore(self._concurrency)
        for client in self._clients:
            self._tasks.append(asyncio.create_task(self._run(client, gate)))
        await asyncio.wait([asyncio.create_task(c.ready.wait()) for c in self._clients])
        if self.failures:
            raise RuntimeError(f"{len(self.failures)} waiting-room clients failed, e.g. {self.failures[0]}")

    async def _stop(self) -> None:
        if self._stopping is not None:
            self._stopping.set()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=15)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _run(self, client: _Client, gate: asyncio.Semaphore) -> None:
        writer: asyncio.StreamWriter | None = None
        try:
            async with gate:
                reader, writer = await asyncio.open_connection(self._url.hostname, self._url.port)
                client.local_port = writer.get_extra_info("sockname")[1]
                ws = WSConnection(ConnectionType.CLIENT)
                origin = f"{self._url.scheme}://{self._url.netloc}"
                writer.write(ws.send(Request(
                    host=self._url.netloc, target=f"{NAMESPACE}/?token={client.token}&EIO=4&transport=websocket",
                    subprotocols=[self._protocol.subprotocol],
                    extra_headers=[(b"origin", origin.encode()), (b"cookie", self._cookie.encode())])))
                await writer.drain()
                connected = asyncio.create_task(client.ready.wait())
                session = asyncio.create_task(self._session(client, reader, writer, ws))
                await asyncio.wait([connected, session], timeout=60, return_when=asyncio.FIRST_COMPLETED)
                if not client.ready.is_set():
                    client.failed = client.failed or "no waiting room loaded within 60 s"
                    client.ready.set()
                    session.cancel()
                    return
                connected.cancel()
            await session
        except Exception as exc:  # one client's failure is reported, not raised in the loop
            client.failed = client.failed or f"{type(exc).__name__}: {exc}"
            client.ready.set()
        finally:
            if writer is not None:
                writer.close()
                with contextlib.suppress(ConnectionError, OSError):
                    await writer.wait_closed()

    async def _session(self, client: _Client, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                       ws: WSConnection) -> None:
        """Read frames until told to stop; speak Engine.IO / Socket.IO; poll every 10 s."""
        assert self._stopping is not None
        poller: asyncio.Task[None] | None = None
        stopping = asyncio.create_task(self._stopping.wait())

        def send(text: str) -> None:
            writer.write(ws.send(TextMessage(data=text)))

        try:
            buffer = ""
            while True:
                read = asyncio.create_task(reader.read(65536))
                await asyncio.wait([read, stopping], return_when=asyncio.FIRST_COMPLETED)
                if stopping.done():
                    read.cancel()
                    send(f"41{NAMESPACE},")  # Socket.IO disconnect of the namespace
                    send("1")  # Engine.IO close
                    writer.write(ws.send(CloseConnection(code=1000)))
                    await writer.drain()
                    return
                data = read.result()
                if not data:
                    if not client.ready.is_set():
                        client.failed = "the server closed the connection"
                        client.ready.set()
                    return
                ws.receive_data(data)
                for event in ws.events():
                    if isinstance(event, AcceptConnection):
                        pass
                    elif isinstance(event, RejectConnection):
                        client.failed = f"WebSocket refused ({event.status_code})"
                        client.ready.set()
                        return
                    elif isinstance(event, Ping):
                        writer.write(ws.send(event.response()))
                    elif isinstance(event, CloseConnection):
                        if not client.ready.is_set():
                            client.failed = f"closed by the server ({event.code})"
                            client.ready.set()
                        return
                    elif isinstance(event, TextMessage):
                        buffer += event.data
                        if event.message_finished:
                            message, buffer = buffer, ""
                            if self._on_message(client, message, send) and poller is None and self._poll:
                                poller = asyncio.create_task(self._poller(client, send))
                await writer.drain()
        finally:
            stopping.cancel()
            if poller is not None:
                poller.cancel()

    def _on_message(self, client: _Client, message: str, send: Any) -> bool:
        """Handle one Engine.IO message; True once the waiting room has loaded."""
        client.messages += 1
        if message.startswith("0"):  # Engine.IO open: connect the namespace, boot event in the auth
            auth = copy.deepcopy(self._protocol.connect_auth)
            auth["event"]["router_data"] = _router_data(client.meeting_id)
            send(f"40{NAMESPACE},{json.dumps(auth)}")
        elif message == "2":  # Engine.IO ping from the server
            send("3")
        elif message.startswith(f"44{NAMESPACE}"):  # Socket.IO connect error
            client.failed = f"connect refused: {message[:200]}"
            client.ready.set()
        elif message.startswith(f"42{NAMESPACE},") and not client.ready.is_set():
            name, update = json.loads(message[len(NAMESPACE) + 3:])[:2]
            for substate in (update.get("delta") or {}).values() if name == "event" else ():
                status = substate.get("status_rx_state_") if isinstance(substate, dict) else None
                if status == "waiting":
                    client.ready.set()
                    return True
                if status in ("missing", "ended", "cancelled", "live"):
                    client.failed = f"waiting room of meeting {client.meeting_id} shows {status!r}"
                    client.ready.set()
        return False

    async def _poller(self, client: _Client, send: Any) -> None:
        """Like the page's rx.moment(interval=10000): poll now, then every 10 s (random phase)."""
        assert self._protocol.poll_event is not None
        event = copy.deepcopy(self._protocol.poll_event)
        event["router_data"] = _router_data(client.meeting_id)
        frame = f"42{NAMESPACE},{json.dumps(['event', event])}"
        await asyncio.sleep(random.uniform(0, POLL_SECONDS))
        while True:
            send(frame)
            client.polls += 1
            await asyncio.sleep(POLL_SECONDS)
