"""How long a client in the waiting room waits for Join session once the provider starts.

Starts the whole app as `make run` does (`reflex run --env prod`, Zoom sandbox, mail catcher; the
stack of the end-to-end tests, built in `.web-bench` unless E2E_WEB_WORKDIR says otherwise, with
the outbox polled every 2 s as in `make run`, not the tests' 0.5 s),
connects Dr. Lee to the sandbox, and signs Alex (alex@demo.client) in, in one Chromium page.

One run: a meeting of Dr. Lee's with Alex ~10 minutes ahead is scheduled and created at Zoom
through the services (in a worker thread; not timed); the page opens its waiting room
(`/portal/waiting?meeting=<id>`) and waits for "Waiting for your provider to start the session";
a MutationObserver is installed that records `performance.timeOrigin + performance.now()` as soon
as `#join-session` is in the DOM; the browser's clock is read against this process's clock (the
shortest of three `page.evaluate` round trips; its half-width is the error, ~2 ms); then **t0** is taken in this
process right before the trigger is sent, and the latency is the observer's time (corrected to
this process's clock) minus t0: start → Join session in the DOM, measured in the browser, before
the frame is painted. The end-to-end wall time seen by this process (Playwright's
`wait_for_function` returning) is reported beside it as a cross-check; it adds Playwright's
round trips.

Triggers:
  start   the host's Start meeting link: GET /meetings/<id>/start?t=<request token> with
          Dr. Lee's session cookie (what the browser sends; the route answers 303 to Zoom)
  webhook the Zoom sandbox's control API POST /_sandbox/meetings/<zoom id>/start, which makes
          the sandbox send a signed `meeting.started` webhook to /api/zoom/webhook

Two configurations, one after the other (`--workers 1,2`, the default; or either alone):
  1 worker   `make run`: SQLite, Reflex's states in memory and on disk, one backend worker.
  2 workers  `make run-scaled`: a throwaway PostgreSQL (devtools/postgres.py), Redis (redis-server,
             for Reflex's states and the push registry) and GRANIAN_WORKERS=2. The kernel spreads
             the connections over the two workers, so the measured page's socket and the
             trigger's request land on either: when the worker that handles the trigger does not
             hold the page's socket, Reflex relays the delta through Redis (its "lost and found"
             channel of the owning worker). The benchmark listens on those channels and reads
             Reflex's socket records in Redis (which worker instance holds each token's socket;
             `GET /dev/worker` of the probe plugin maps instances to process ids), so it reports,
             for each row, on which worker the page was and how many Joins came from the other
             worker, and how the other open rooms are split (by Redis record and by the TCP
             connections each worker process holds). The start link and the probe open a new
             connection per request (a provider's start is a new request that either worker may
             take); the sandbox's webhooks reuse its connection, as Zoom's may.

Load: (a) nothing else; then N other open waiting rooms (200 and 1,000; 20 with --quick), each a
protocol-level client (see `waiting_room_clients.py`: own token, Alex's cookie, hydrate and
on_load of its own meeting's waiting room, pings answered; like the page, it sends nothing else
while connected). The backend's CPU use is the CPU time of the `reflex run` process tree over the
wall time of each block of runs (100% = one core; this machine has `os.cpu_count()` cores), and
with nothing measured ("idle") at each load over one whole heartbeat cycle (the server pings every
page every 40 s, `rxapp/heartbeat.py`): rooms opened together are pinged together, so a shorter
window would measure where it fell in the cycle (10 s windows read 1.9-4.6% for the same rooms).

Push-to-render floor: before each measured trigger, the same page gets a push that changes nothing
but a hidden number (`benchmarks/push_probe.py`, mounted only for this benchmark through
`DEV_PLUGINS`; POST /dev/push-probe; no database work beyond the
permission check), timed the same way; every latency is also shown as a multiple of its p50.

Targets: p95 <= 100 ms with up to 200 other rooms (issue 15); with 1,000 other rooms <= 60 ms on
one worker and <= 100 ms on two (issue 26); idle CPU with 1,000 rooms open <= 3% of one core
(issue 26; with two workers counted with PostgreSQL and Redis, whose share is shown apart). The page
no longer polls while connected, so a lost push shows as a failure (no Join within the timeout).

Figures also go to var/bench/results.json (see benchmarks/results.py), each with params.workers:
waiting_room.join_after_start and waiting_room.join_after_webhook (.p50/.p95, params other_rooms),
waiting_room.push_floor, waiting_room.backend_cpu and waiting_room.idle_cpu (fraction of one core,
params rooms; with two workers also waiting_room.idle_cpu_services, PostgreSQL and Redis),
waiting_room.rooms_opened (per_s), waiting_room.open_settle (ms until the backend is quiet after the
rooms opened, params cpu_seconds); with two workers waiting_room.relayed_joins (fraction of a row's
Joins pushed by the worker without the page's socket) and waiting_room.busiest_worker_share (of the
other open rooms). BENCH_QUICK=1 is --quick.

    python benchmarks/bench_waiting_room.py [--quick] [--runs N] [--background N[,N...]] [--workers 1,2]
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import functools
import os
import pickle
import shutil
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
import psutil

from benchmarks import results
from rxapp import heartbeat

os.environ.setdefault("E2E_WEB_WORKDIR", ".web-bench")  # own build folder: no clash with test runs

# By backend workers, then by other open rooms (other numbers of rooms: the nearest below).
TARGET_P95_MS = {1: {0: 100.0, 200: 100.0, 1000: 60.0}, 2: {0: 100.0, 200: 100.0, 1000: 100.0}}
IDLE_TARGET, IDLE_TARGET_ROOMS = 0.03, 1000  # of one core, with this many rooms open
TIMEOUT_S = 12.0  # a run this slow is counted as failed (the page does not poll while connected)
WAITING_TEXT = "Waiting for your provider to start the session"
LEE, ALEX, LEE_ZOOM = "dr.lee@demo.clinic", "alex@demo.client", "lee@zoom.demo"
PAGE_TOKEN_JS = "() => window.sessionStorage.getItem('token')"  # Reflex's client token of the page

# Installed in the page before each trigger: the time #join-session enters the DOM.
OBSERVE_JS = """() => {
  window.__joinAt = null;
  const seen = () => {
    if (window.__joinAt === null && document.getElementById('join-session')) {
      window.__joinAt = performance.timeOrigin + performance.now();
      return true;
    }
    return false;
  };
  if (seen()) return 'already';
  const observer = new MutationObserver(() => { if (seen()) observer.disconnect(); });
  observer.observe(document.body, {childList: true, subtree: true, attributes: true});
  return 'observing';
}"""

# Installed before each floor probe: the time the hidden #push-probe shows the stamp.
PROBE_JS = """(stamp) => {
  window.__probeAt = null;
  const el = document.getElementById('push-probe');
  const observer = new MutationObserver(() => {
    if (el.textContent === String(stamp)) {
      window.__probeAt = performance.timeOrigin + performance.now();
      observer.disconnect();
    }
  });
  observer.observe(el, {childList: true, characterData: true, subtree: true});
}"""


@dataclass(frozen=True)
class Size:
    runs: int
    warmup: int
    background: tuple[int, ...]
    idle_seconds: float


FULL = Size(runs=30, warmup=2, background=(200, 1000), idle_seconds=heartbeat.PING_INTERVAL_SECONDS)
QUICK = Size(runs=5, warmup=1, background=(20,), idle_seconds=4.0)


@dataclass
class Block:
    """One load level and trigger: latencies and the backend's CPU use while they ran."""

    load: str
    trigger: str
    rooms: int = 0  # other open waiting rooms
    workers: int = 1
    latencies_ms: list[float] = field(default_factory=list)
    floor_ms: list[float] = field(default_factory=list)  # the push-to-render floor, same page and load
    wall_ms: list[float] = field(default_factory=list)
    failures: int = 0
    trigger_ms: list[float] = field(default_factory=list)  # until the app answered the trigger's request
    clock_offsets_ms: list[float] = field(default_factory=list)  # browser clock minus this process's
    clock_errors_ms: list[float] = field(default_factory=list)  # half the round trip of that reading
    # With several workers, per measured run that showed Join: the Reflex instance holding the page's
    # socket, and whether the Join came through Redis from the other worker.
    page_workers: list[str] = field(default_factory=list)
    relayed: list[bool] = field(default_factory=list)
    cpu_seconds: float = 0.0
    service_cpu_seconds: float = 0.0  # PostgreSQL and Redis, when they run beside the app
    wall_seconds: float = 0.0
    host_busy: float = 0.0

    @property
    def cpu_percent(self) -> float:
        return 100 * self.cpu_seconds / self.wall_seconds if self.wall_seconds else 0.0

    @property
    def service_cpu_percent(self) -> float:
        return 100 * self.service_cpu_seconds / self.wall_seconds if self.wall_seconds else 0.0

    def p(self, pct: int, values: list[float] | None = None) -> float:
        data = sorted(self.latencies_ms if values is None else values)
        if not data:
            return float("nan")
        return data[min(len(data) - 1, max(0, round(pct / 100 * len(data)) - 1))]

    @property
    def target_ms(self) -> float:
        targets = TARGET_P95_MS[min(self.workers, max(TARGET_P95_MS))]
        return targets[max(k for k in targets if k <= self.rooms)]

    @property
    def meets_target(self) -> bool:
        return not self.failures and bool(self.latencies_ms) and self.p(95) <= self.target_ms


# -- the backend's CPU ---------------------------------------------------------------------------
def _tree_cpu(pid: int) -> dict[int, float]:
    """CPU seconds (user + system) of `pid` and all its descendants, by process id."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return {}
    seconds: dict[int, float] = {}
    for proc in procs:
        try:
            times = proc.cpu_times()
            seconds[proc.pid] = times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return seconds


def _trees_cpu(pids: tuple[int, ...]) -> dict[int, float]:
    return {p: t for pid in pids for p, t in _tree_cpu(pid).items()}


@contextmanager
def cpu_meter(pid: int, block: Block, services: tuple[int, ...] = ()) -> Iterator[None]:
    """Add the app tree's CPU seconds (and apart those of the `services` trees), the wall seconds and
    the host's busy share to `block`."""
    before, host_before, started = _tree_cpu(pid), psutil.cpu_times(), time.perf_counter()
    services_before = _trees_cpu(services)
    try:
        yield
    finally:
        after, host_after = _tree_cpu(pid), psutil.cpu_times()
        services_after = _trees_cpu(services)
        block.wall_seconds += time.perf_counter() - started
        block.cpu_seconds += sum(t - before.get(p, 0.0) for p, t in after.items())
        block.service_cpu_seconds += sum(t - services_before.get(p, 0.0) for p, t in services_after.items())
        busy = sum(host_after) - sum(host_before)
        idle = (host_after.idle + getattr(host_after, "iowait", 0.0)) - \
            (host_before.idle + getattr(host_before, "iowait", 0.0))
        block.host_busy = 100 * (busy - idle) / busy if busy else 0.0


# -- service code (it runs asyncio.run, so never on Playwright's thread) -------------------------
_pool = ThreadPoolExecutor(1, thread_name_prefix="services")


def in_thread(fn: Callable[..., Any], *args: Any) -> Any:
    """Run service code in the worker thread (Playwright's sync API keeps a loop in this one)."""
    return _pool.submit(fn, *args).result()


def _prepare_practice(sandbox_url: str) -> str:
    """Zoom allowed, Dr. Lee connected to the sandbox; returns Dr. Lee's session token."""
    from sqlmodel import select

    from rxapp.db import unit_of_work
    from rxapp.models import Practice
    from tests.conftest import reset_app_caches
    from tests.integration.zoom_helpers import connect, sign_in

    reset_app_caches()
    with unit_of_work() as s:
        s.exec(select(Practice)).one().allow_zoom = True
    lee = sign_in(LEE)
    connect(sandbox_url, lee, LEE_ZOOM)
    return lee.token


@functools.cache
def _lee() -> Any:
    """Dr. Lee signed in once through the services (each sign-in hashes the password)."""
    from tests.integration.zoom_helpers import sign_in

    return sign_in(LEE)


def _schedule(topic: str, minutes_ahead: int, sandbox_url: str, at_zoom: bool) -> tuple[int, int]:
    """A meeting of Dr. Lee's with Alex (as the New meeting modal makes it); (id, Zoom id)."""
    from sqlmodel import select

    from rxapp.clock import now
    from rxapp.db import unit_of_work
    from rxapp.models import Client, Meeting, SyncState
    from rxapp.services.telehealth.meetings.schedule import MeetingDraft, schedule_meeting
    from rxapp.services.telehealth.meetings.sync import sync_meeting

    lee = _lee()
    with unit_of_work() as s:
        client_id = s.exec(select(Client).where(Client.email == ALEX)).one().id
    start = (now() + timedelta(minutes=minutes_ahead)).astimezone(ZoneInfo("America/New_York"))
    draft = MeetingDraft(topic=topic, description="", date=start.date().isoformat(), hour=start.strftime("%H:%M"),
                         timezone="America/New_York", client_id=client_id)
    meeting_id = schedule_meeting(lee.principal, draft, overlap_confirmed=True).meeting_id
    assert meeting_id is not None
    if at_zoom:
        # The sandbox allows 100 meeting creations per user and day, like Zoom; a benchmark makes more.
        httpx.post(f"{sandbox_url}/_sandbox/users/{LEE_ZOOM}/reset-daily-limit", timeout=10).raise_for_status()
        if not asyncio.run(sync_meeting(meeting_id, force=True)) and not _created_by_the_app(meeting_id):
            raise RuntimeError(f"meeting {meeting_id} could not be created at the Zoom sandbox")
    else:
        # Only the waiting room is needed: keep the app's sync job from creating it at Zoom meanwhile.
        with unit_of_work() as s:
            meeting = s.get(Meeting, meeting_id)
            assert meeting is not None
            meeting.sync_state, meeting.next_sync_at = SyncState.SYNCED, None
    with unit_of_work() as s:
        meeting = s.get(Meeting, meeting_id)
        assert meeting is not None
        return meeting_id, meeting.zoom_meeting_id or 0


def _background_meetings(count: int, first: int) -> list[int]:
    """`count` meetings of Dr. Lee's with Alex 20 minutes ahead, inserted at once: only their waiting
    rooms are needed (scheduling each through the services checks overlaps with all the others)."""
    from sqlmodel import select

    from rxapp.clock import now
    from rxapp.db import unit_of_work
    from rxapp.models import Client, SyncState, User
    from rxapp.services.telehealth.meeting_list import meeting_search_text
    from tests.factories import telehealth_visit

    with unit_of_work() as s:
        lee = s.exec(select(User).where(User.email == LEE)).one()
        alex = s.exec(select(Client).where(Client.email == ALEX)).one()
        rows = [telehealth_visit(s, practice_id=lee.practice_id, practitioner_id=lee.id or 0, client_id=alex.id or 0,
                                 topic=f"Background {n}", start_at=now() + timedelta(minutes=20),
                                 timezone="America/New_York", sync_state=SyncState.SYNCED,
                                 search_text=meeting_search_text(f"Background {n}", "", alex.full_name))
                for n in range(first, first + count)]
        return [m.id or 0 for m in rows]


def _started_at(meeting_id: int) -> Any:
    from rxapp.db import unit_of_work
    from rxapp.models import Meeting

    with unit_of_work() as s:
        meeting = s.get(Meeting, meeting_id)
        return meeting.started_at if meeting is not None else None


def _recent_webhook_events(count: int = 3) -> list[tuple[Any, ...]]:
    """The last Zoom events the app stored: (event, received, processed, attempts, error)."""
    from sqlmodel import col, select

    from rxapp.db import unit_of_work
    from rxapp.models import WebhookEvent

    with unit_of_work() as s:
        rows = s.exec(select(WebhookEvent).order_by(col(WebhookEvent.id).desc()).limit(count)).all()
        return [(r.event, r.received_at.time(), r.processed_at and r.processed_at.time(), r.attempts, r.error[:80])
                for r in rows]


def _created_by_the_app(meeting_id: int, timeout: float = 15.0) -> bool:
    """The app's own sync job may claim a new meeting first (then ours gets nothing to do): wait for it."""
    from rxapp.db import unit_of_work
    from rxapp.models import Meeting

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with unit_of_work() as s:
            meeting = s.get(Meeting, meeting_id)
            if meeting is not None and meeting.zoom_meeting_id is not None:
                return True
        time.sleep(0.2)
    return False


# -- two workers: PostgreSQL, Redis, and which worker did what --------------------------------------
@dataclass(frozen=True)
class ScaledServices:
    database_url: str
    redis_url: str
    pids: tuple[int, ...]  # Redis and PostgreSQL: their CPU is spent for the app too


def _listening_pid(port: int) -> int:
    """The process listening on a local TCP port (the PostgreSQL server runs as its own user)."""
    return next(c.pid for c in psutil.net_connections("tcp")
                if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port and c.pid)


@contextmanager
def scaled_services(workdir: Path) -> Iterator[ScaledServices]:
    """A throwaway PostgreSQL (migrated, empty) and Redis, as `make run-scaled` starts them."""
    from devtools import postgres
    from devtools import redis as redis_server
    from rxapp import migrate

    with ExitStack() as stack:
        server = stack.enter_context(postgres.temporary_server())
        database_url = f"{server}/postgres"
        migrate.upgrade(database_url)
        redis = stack.enter_context(redis_server.temporary_server(workdir))
        yield ScaledServices(database_url, redis.url, (redis.pid, _listening_pid(urlsplit(server).port or 0)))


def _shows_join(delta: dict[str, Any]) -> bool:
    """Whether a pushed delta gives the waiting room its Join session link."""
    return any(name.endswith("waiting_room_state") and isinstance(values, dict)
               and values.get("join_href_rx_state_") for name, values in delta.items())


class Workers:
    """Which of several app workers holds which socket, and which pushes crossed between them. Reflex
    keeps both in Redis: a record per client token naming the worker instance that holds its socket,
    and a "lost and found" channel per instance through which the others relay its deltas."""

    SOCKET_RECORD = "token_manager_socket_record_"
    LOST_AND_FOUND = "channel:token_manager_lost_and_found_*"

    def __init__(self, redis_url: str) -> None:
        import redis

        self.redis = redis.Redis.from_url(redis_url)
        self.pids: dict[str, int] = {}  # Reflex instance id -> worker process id
        self._relayed: list[tuple[float, bytes]] = []
        self._pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        self._pubsub.psubscribe(**{self.LOST_AND_FOUND: self._on_relayed})
        self._listener = self._pubsub.run_in_thread(sleep_time=0.01, daemon=True)

    def close(self) -> None:
        self._listener.stop()
        self._listener.join(5)
        self._pubsub.close()
        self.redis.close()

    def _on_relayed(self, message: dict[str, Any]) -> None:
        self._relayed.append((time.time(), message["data"]))

    def learn(self, answer: dict[str, Any]) -> None:
        """Remember the instance and process id a probe route answered with."""
        if answer.get("instance"):
            self.pids[answer["instance"]] = int(answer["worker"])

    def discover(self, http: httpx.Client, url: str, expected: int, attempts: int = 100) -> None:
        """Ask `GET /dev/worker` over new connections until `expected` workers answered."""
        for _ in range(attempts):
            if len(self.pids) >= expected:
                return
            self.learn(http.get(f"{url}/dev/worker", headers={"Connection": "close"}).json())

    def name(self, instance: str) -> str:
        return f"pid {self.pids[instance]}" if instance in self.pids else f"instance {instance[:8] or '?'}"

    def owners(self, tokens: list[str]) -> list[str]:
        """The instance holding each token's socket ("" when Redis has no record)."""
        found: list[str] = []
        for start in range(0, len(tokens), 500):
            keys = [f"{self.SOCKET_RECORD}{t}" for t in tokens[start:start + 500]]
            # Written by our own app's Reflex into our own throwaway Redis.
            found += [pickle.loads(r).instance_id if r else "" for r in self.redis.mget(keys)]  # noqa: S301
        return found

    def relayed_join(self, token: str, since: float, until: float) -> bool:
        """Whether a delta showing Join session to `token` was relayed through Redis between `since`
        and `until`: pushed by a worker that does not hold the page's socket."""
        for at, data in list(self._relayed):
            if since <= at <= until:
                record = pickle.loads(data)  # noqa: S301  (our own app's Reflex, our own Redis)
                if record.token == token and _shows_join(record.update.delta):
                    return True
        return False


def tcp_split(app_pid: int, port: int, client_ports: set[int]) -> dict[int, int]:
    """Per process of the app: how many of these clients' connections it holds (the server's end)."""
    counts: dict[int, int] = {}
    root = psutil.Process(app_pid)
    for proc in [root, *root.children(recursive=True)]:
        try:
            held = sum(1 for c in proc.net_connections("tcp")
                       if c.laddr and c.laddr.port == port and c.raddr and c.raddr.port in client_ports)
        except psutil.NoSuchProcess:
            continue
        if held:
            counts[proc.pid] = held
    return counts


# -- one run in the browser ----------------------------------------------------------------------
class Bench:
    """The running stack, Alex's page and the two ways to start a meeting."""

    def __init__(self, stack: Any, page: Any, lee_token: str, cookie_name: str, alex_cookie: str,
                 workers: Workers | None = None) -> None:
        self.stack, self.page, self.lee_token, self.workers = stack, page, lee_token, workers
        self.http = httpx.Client(timeout=30, follow_redirects=False)
        # (page's token, its worker instance, t0, Join seen) per measured run that showed Join
        self.routes: list[tuple[str, str, float, float]] = []
        self.host_cookie = {"Cookie": f"{cookie_name}={lee_token}"}  # what Dr. Lee's browser sends
        self.client_cookie = {"Cookie": f"{cookie_name}={alex_cookie}"}  # what Alex's browser sends
        self.stamp = 0
        self.sent_frames: list[str] = []
        page.on("websocket", self._on_websocket)

    def _on_websocket(self, ws: Any) -> None:
        if "/_event" in ws.url:
            ws.on("framesent", lambda payload: self.sent_frames.append(payload)
                  if isinstance(payload, str) and len(self.sent_frames) < 500 else None)

    def trigger(self, kind: str, meeting_id: int, zoom_id: int) -> None:
        if kind == "start":
            from rxapp.services.identity.auth import request_token

            t = request_token(self.lee_token, f"start:{meeting_id}")
            # A new connection, as a new request of the provider's browser may be: either worker takes it.
            response = self.http.get(f"{self.stack.url}/meetings/{meeting_id}/start", params={"t": t},
                                     headers={**self.host_cookie, "Connection": "close"})
            if response.status_code != 303:
                raise RuntimeError(f"start route answered {response.status_code}: {response.text[:300]}")
        else:
            response = self.http.post(f"{self.stack.sandbox_url}/_sandbox/meetings/{zoom_id}/start")
            response.raise_for_status()
            if not response.json().get("changed"):
                raise RuntimeError(f"the sandbox did not start Zoom meeting {zoom_id}")

    def clock_offset(self, readings: int = 3) -> tuple[float, float]:
        """Browser clock minus this process's clock in ms, and its error (half the round trip):
        the reading with the shortest round trip of a few."""
        best: tuple[float, float] | None = None
        for _ in range(readings):
            before = time.time()
            browser_now = self.page.evaluate("performance.timeOrigin + performance.now()")
            after = time.time()
            reading = (browser_now - (before + after) * 500, (after - before) * 500)
            if best is None or reading[1] < best[1]:
                best = reading
        assert best is not None
        return best

    def floor_once(self, meeting_id: int, offset_ms: float) -> float | None:
        """The push-to-render floor on the open page: probe push -> hidden number in the DOM (ms)."""
        self.stamp += 1
        self.page.evaluate(PROBE_JS, self.stamp)
        t0 = time.time()
        response = self.http.post(f"{self.stack.url}/dev/push-probe", params={"meeting": meeting_id,
                                                                             "stamp": self.stamp},
                                  headers={**self.client_cookie, "Connection": "close"})
        if response.status_code != 200 or not response.json().get("pushed"):
            raise RuntimeError(f"the push probe answered {response.status_code}: {response.text[:200]}")
        if self.workers is not None:
            self.workers.learn(response.json())
        try:
            self.page.wait_for_function("window.__probeAt !== null", timeout=TIMEOUT_S * 1000, polling="raf")
        except Exception as exc:  # Playwright's TimeoutError
            if "Timeout" not in type(exc).__name__:
                raise
            return None
        return self.page.evaluate("window.__probeAt") - offset_ms - t0 * 1000

    def run_once(self, kind: str, n: int, block: Block | None = None) -> tuple[float, float] | None:
        """One measured run; (browser-observed ms, wall ms), or None when Join never came."""
        meeting_id, zoom_id = in_thread(_schedule, f"Bench {kind} {n}", 10, self.stack.sandbox_url, True)
        page = self.page
        page.goto(f"{self.stack.url}/portal/waiting?meeting={meeting_id}")
        page.locator("#waiting-message").filter(has_text=WAITING_TEXT).wait_for(state="visible", timeout=30_000)
        if page.evaluate(OBSERVE_JS) != "observing":
            raise RuntimeError("Join session was shown before the meeting started")
        token = page.evaluate(PAGE_TOKEN_JS) if self.workers else ""
        offset_ms, error_ms = self.clock_offset()
        if block is not None:
            block.clock_offsets_ms.append(offset_ms)
            block.clock_errors_ms.append(error_ms)
            floor = self.floor_once(meeting_id, offset_ms)
            if floor is not None:
                block.floor_ms.append(floor)
        t0 = time.time()
        self.trigger(kind, meeting_id, zoom_id)
        answered = time.time()
        try:
            page.wait_for_function("window.__joinAt !== null", timeout=TIMEOUT_S * 1000, polling="raf")
        except Exception as exc:  # Playwright's TimeoutError
            if "Timeout" not in type(exc).__name__:
                raise
            print(f"    no Join within {TIMEOUT_S:.0f} s: {self.why_no_join(meeting_id, zoom_id, token, t0)}",
                  flush=True)
            return None
        wall_ms = (time.time() - t0) * 1000
        if block is not None:
            if kind == "webhook":  # when the app answered the sandbox's delivery (same clock: this process)
                answered = next((a["at"] + a["duration"] for d in self._deliveries(zoom_id)
                                 if d["event"] == "meeting.started" for a in d["attempts"][:1]), float("nan"))
            block.trigger_ms.append((answered - t0) * 1000)
        if self.workers is not None and block is not None:
            self.routes.append((token, self.workers.owners([token])[0], t0, time.time()))
        joined_at = page.evaluate("window.__joinAt")
        page.locator("#join-session").wait_for(state="visible", timeout=5_000)
        return joined_at - offset_ms - t0 * 1000, wall_ms

    def _deliveries(self, zoom_id: int) -> list[dict[str, Any]]:
        """The sandbox's webhook deliveries about one Zoom meeting, oldest first."""
        return [d for d in self.stack.zoom("GET", "/deliveries")["deliveries"]
                if str(d["body"].get("payload", {}).get("object", {}).get("id")) == str(zoom_id)]

    def why_no_join(self, meeting_id: int, zoom_id: int, token: str, t0: float) -> str:
        """What the database, the sandbox and Redis say about a run whose page showed no Join."""
        facts = [f"meeting {meeting_id} started_at {in_thread(_started_at, meeting_id)}"]
        deliveries = self._deliveries(zoom_id)
        facts += [f"delivery {d['event']} {d['state']} {[(a['status'], a['duration']) for a in d['attempts']]}"
                  for d in deliveries]
        facts.append(f"stored events {in_thread(_recent_webhook_events)}")
        if self.workers is not None:
            watchers = self.workers.redis.zrange(f"telehealth:live:meeting:{meeting_id}", 0, -1)
            facts.append(f"page token {token[:8]} on {self.workers.name(self.workers.owners([token])[0])}, "
                         f"now {str(self.page.evaluate(PAGE_TOKEN_JS))[:8]}; "
                         f"watchers {[w.decode()[:8] for w in watchers]}; "
                         f"Join relayed: {self.workers.relayed_join(token, t0, time.time())}")
        facts.append(f"page shows {self.page.locator('#waiting-message').text_content(timeout=2_000)!r}")
        return "; ".join(facts)


RELAY_SLACK_S = 0.5  # a relayed delta reaches this process's listener about when it reaches the page


def measure(bench: Bench, block: Block, size: Size, services: tuple[int, ...] = ()) -> None:
    print(f"  {block.load}, trigger {block.trigger}: {size.warmup} warm-up + {size.runs} runs", flush=True)
    for n in range(size.warmup):
        bench.run_once(block.trigger, -n)
    bench.routes.clear()
    with cpu_meter(bench.stack.pid, block, services):
        for n in range(size.runs):
            result = bench.run_once(block.trigger, n, block)
            if result is None:
                block.failures += 1
            else:
                block.latencies_ms.append(result[0])
                block.wall_ms.append(result[1])
    if bench.workers is not None:
        time.sleep(RELAY_SLACK_S)
        for token, instance, t0, seen in bench.routes:
            block.page_workers.append(instance)
            block.relayed.append(bench.workers.relayed_join(token, t0, seen + RELAY_SLACK_S))


def print_table(blocks: list[Block], idle: list[Block]) -> None:
    headers = ("workers", "load", "trigger", "runs", "p50 ms", "p95 ms", "max ms", "mean ms", "floor p50/p95 ms",
               "p95 / floor p50", "wall p50/p95 ms", "answer p50 ms", "failed", "backend CPU", "host busy",
               "p95 target", "met")
    cells = [(str(b.workers), b.load, b.trigger, str(len(b.latencies_ms) + b.failures), f"{b.p(50):.0f}",
              f"{b.p(95):.0f}", f"{max(b.latencies_ms, default=float('nan')):.0f}",
              f"{statistics.fmean(b.latencies_ms):.0f}" if b.latencies_ms else "nan",
              f"{b.p(50, b.floor_ms):.0f} / {b.p(95, b.floor_ms):.0f}", f"{b.p(95) / b.p(50, b.floor_ms):.1f}x",
              f"{b.p(50, b.wall_ms):.0f} / {b.p(95, b.wall_ms):.0f}", f"{b.p(50, b.trigger_ms):.0f}",
              str(b.failures),
              f"{b.cpu_percent:.0f}% ({b.cpu_seconds:.1f} s / {b.wall_seconds:.0f} s)", f"{b.host_busy:.0f}%",
              f"{b.target_ms:.0f} ms", "yes" if b.meets_target else "NO") for b in blocks]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    for line in (headers, tuple("-" * w for w in widths), *cells):
        print("  ".join(c.ljust(w) if 0 < i < 3 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(line, widths, strict=True))))
    print("(p50/p95/max/mean: browser-observed; wall: seen by this process through Playwright; answer: until "
          "the app answered the trigger's HTTP request: the start route's 303, or the 200 to the sandbox's webhook; "
          "backend CPU: the app's processes, all workers)")
    print("\nBackend CPU with nothing measured (connections open, no starts):")
    for b in idle:
        services = f" + PostgreSQL and Redis {b.service_cpu_percent:.1f}%" if b.workers > 1 else ""
        verdict = ""
        if b.rooms >= IDLE_TARGET_ROOMS:
            met = b.cpu_percent + b.service_cpu_percent <= 100 * IDLE_TARGET
            verdict = f"; target {100 * IDLE_TARGET:.0f}%: {'met' if met else 'NOT MET'}"
        print(f"  {b.workers} worker(s), {b.load:<32} {b.cpu_percent:5.1f}% of one core{services} "
              f"({b.cpu_seconds:.1f} s / {b.wall_seconds:.0f} s), host busy {b.host_busy:.0f}%{verdict}")
    offsets = [o for b in blocks for o in b.clock_offsets_ms]
    errors = sorted(e for b in blocks for e in b.clock_errors_ms)
    if offsets:
        print(f"\nBrowser clock minus this process's clock: {min(offsets):+.1f} .. {max(offsets):+.1f} ms "
              f"(median {statistics.median(offsets):+.1f}); reading error (half round trip): median "
              f"{statistics.median(errors):.1f} ms, max {errors[-1]:.1f} ms.")
    failed = sum(b.failures for b in blocks)
    verdict = "MET" if all(b.meets_target for b in blocks) else "NOT MET"
    print(f"\nLatency targets: {verdict} ({failed} runs without Join within {TIMEOUT_S:.0f} s).")


def print_routes(blocks: list[Block], workers: Workers) -> None:
    """With several workers: where the page's socket was, and Joins pushed from the other worker."""
    print("\nWhich worker: the page's socket (Reflex's record in Redis) and where its Join came from")
    for b in blocks:
        if not b.relayed:
            continue
        pages = ", ".join(f"{workers.name(i)}: {n}" for i, n in Counter(b.page_workers).most_common())
        same = [ms for ms, r in zip(b.latencies_ms, b.relayed, strict=True) if not r]
        other = [ms for ms, r in zip(b.latencies_ms, b.relayed, strict=True) if r]
        print(f"  {b.load:<22} {b.trigger:<8} page on {pages}; Join pushed by the page's own worker in "
              f"{len(same)} runs (p50/p95 {b.p(50, same):.0f} / {b.p(95, same):.0f} ms), by the other worker "
              f"through Redis in {len(other)} (p50/p95 {b.p(50, other):.0f} / {b.p(95, other):.0f} ms)")


def _idle(pid: int, label: str, seconds: float, rooms: int, workers: int, services: tuple[int, ...]) -> Block:
    block = Block(label, "-", rooms=rooms, workers=workers)
    with cpu_meter(pid, block, services):
        time.sleep(seconds)
    return block


SETTLE_WINDOW_S, SETTLE_BELOW, SETTLE_MAX_S = 2.0, 0.10, 180.0


def _settle(pid: int) -> Block:
    """Wait until the backend is quiet after rooms opened (Reflex writes each new state to `.states/`
    a little later, in the background): two windows in a row under 10% of a core, or 3 minutes.
    The idle figure is then the cost of rooms that stay open, not the tail of their opening."""
    total, quiet = Block("settle", "-"), 0
    while quiet < 2 and total.wall_seconds < SETTLE_MAX_S:
        window = Block("window", "-")
        with cpu_meter(pid, window):
            time.sleep(SETTLE_WINDOW_S)
        total.wall_seconds += window.wall_seconds
        total.cpu_seconds += window.cpu_seconds
        quiet = quiet + 1 if window.cpu_percent < 100 * SETTLE_BELOW else 0
    return total


@dataclass
class Configuration:
    """One way of running the app, measured: its rows, its idle figures and how its rooms were spread."""

    workers: int
    blocks: list[Block] = field(default_factory=list)
    idle: list[Block] = field(default_factory=list)
    splits: list[str] = field(default_factory=list)  # with several workers: the other rooms per worker


def _report_split(config: Configuration, stack: Any, open_rooms: list[Any], workers: Workers) -> None:
    """How all the other open rooms are spread over the workers: by Reflex's socket records in Redis
    and by the TCP connections each app process holds."""
    connections = {token: port for rooms in open_rooms for token, port in rooms.connections.items()}
    by_record = Counter(workers.owners(list(connections)))
    by_tcp = tcp_split(stack.pid, urlsplit(stack.url).port or 0, set(connections.values()))
    records = ", ".join(f"{workers.name(i)}: {n}" for i, n in by_record.most_common())
    tcp = ", ".join(f"pid {pid}: {n}" for pid, n in sorted(by_tcp.items(), key=lambda kv: -kv[1]))
    line = f"{len(connections)} other rooms by Redis socket record: {records}; by TCP connection held: {tcp}"
    config.splits.append(line)
    print(f"  {line}", flush=True)
    results.record("waiting_room.busiest_worker_share", "fraction",
                   max(by_record.values(), default=0) / max(1, len(connections)), workers=config.workers,
                   rooms=len(connections))


def run_configuration(workers: int, size: Size, keep: bool) -> Configuration:
    """Start the app with `workers` backend workers (more than one: on PostgreSQL and Redis, as
    `make run-scaled`), measure every load level and trigger, and stop it again."""
    from playwright.sync_api import sync_playwright

    from benchmarks.waiting_room_clients import Protocol, WaitingRooms
    from rxapp.settings import Settings, get_settings
    from tests.e2e.conftest import CHROMIUM_ARGS, sign_in
    from tests.e2e.stack import run_stack

    config = Configuration(workers)
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-waiting-room-{workers}w-"))
    _lee.cache_clear()  # signed in to the previous configuration's database
    with ExitStack() as cleanup:
        if not keep:
            cleanup.callback(shutil.rmtree, workdir, ignore_errors=True)
        # The outbox polled as `make run` polls it (the test stack's 0.5 s would add to the idle figures).
        env = {"DEV_PLUGINS": "benchmarks.push_probe",
               "OUTBOX_POLL_SECONDS": str(Settings.model_fields["outbox_poll_seconds"].default)}
        services: tuple[int, ...] = ()
        if workers > 1:
            scaled = cleanup.enter_context(scaled_services(workdir))
            env |= {"DATABASE_URL": scaled.database_url, "REDIS_URL": scaled.redis_url,
                    "GRANIAN_WORKERS": str(workers)}
            services = scaled.pids
        kind = "PostgreSQL, Redis" if workers > 1 else "SQLite"
        print(f"\n{workers} backend worker(s), {kind}: starting the app (build folder "
              f"{os.environ['E2E_WEB_WORKDIR']}, work folder {workdir})", flush=True)
        stack = cleanup.enter_context(run_stack(workdir, extra_env=env))
        print(f"  up in {time.perf_counter() - started:.0f} s at {stack.url}, reflex pid {stack.pid}", flush=True)
        lee_token = in_thread(_prepare_practice, stack.sandbox_url)

        playwright = cleanup.enter_context(sync_playwright())
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        cleanup.callback(browser.close)
        # A client's page as most have it: the spinner turning (the browser tests ask for less motion).
        page = browser.new_context(reduced_motion="no-preference").new_page()
        sign_in(page, stack, ALEX, landing="/portal")
        cookie_name = get_settings().session_cookie_name
        alex_cookie = next(c["value"] for c in page.context.cookies() if c["name"] == cookie_name)
        seen = None
        if workers > 1:
            seen = Workers(env["REDIS_URL"])
            cleanup.callback(seen.close)
        bench = Bench(stack, page, lee_token, cookie_name, alex_cookie, seen)
        cleanup.callback(bench.http.close)
        if seen is not None:
            seen.discover(bench.http, stack.url, workers)
            print(f"  workers: {', '.join(seen.name(i) for i in seen.pids)}", flush=True)

        config.idle.append(_idle(stack.pid, "(a) no other connections", size.idle_seconds, 0, workers, services))
        for trigger in ("start", "webhook"):
            config.blocks.append(Block("(a) no other load", trigger, workers=workers))
            measure(bench, config.blocks[-1], size, services)

        protocol = Protocol.from_frames(bench.sent_frames, subprotocol=_reflex_version())
        opened, open_rooms = 0, []
        for label, rooms_wanted in zip("bcdefg", size.background, strict=False):
            made = time.perf_counter()
            background_ids = in_thread(_background_meetings, rooms_wanted - opened, opened)
            print(f"  {len(background_ids)} more background meetings in {time.perf_counter() - made:.0f} s; "
                  f"opening their waiting rooms", flush=True)
            rooms = WaitingRooms(stack.url, f"{cookie_name}={alex_cookie}", protocol, background_ids)
            cleanup.callback(rooms.stop)
            open_rooms.append(rooms)
            made = time.perf_counter()
            rooms.start(timeout=600)
            rate = rooms.ready / (time.perf_counter() - made)
            opened += rooms.ready
            results.record("waiting_room.rooms_opened", "per_s", rate, rooms=len(background_ids), workers=workers)
            print(f"  {rooms.ready} ready ({rate:.0f} per second); {opened} other rooms open", flush=True)
            if seen is not None:
                _report_split(config, stack, open_rooms, seen)
            load = f"({label}) {opened} other rooms"
            settled = _settle(stack.pid)
            results.record("waiting_room.open_settle", "ms", settled.wall_seconds * 1000, rooms=opened,
                           cpu_seconds=round(settled.cpu_seconds, 1), workers=workers)
            print(f"  settled in {settled.wall_seconds:.0f} s ({settled.cpu_seconds:.1f} s of backend CPU: the "
                  f"openings' state writes)", flush=True)
            config.idle.append(_idle(stack.pid, load, size.idle_seconds, opened, workers, services))
            for trigger in ("start", "webhook"):
                config.blocks.append(Block(load, trigger, rooms=opened, workers=workers))
                measure(bench, config.blocks[-1], size, services)
            if rooms.polls:
                print(f"  the other rooms sent {rooms.polls} polls", flush=True)
    print(f"\n{workers} backend worker(s), {kind}, {os.cpu_count()} cores: {size.runs} runs per row after "
          f"{size.warmup} warm-up runs; {time.perf_counter() - started:.0f} s")
    print_table(config.blocks, config.idle)
    if seen is not None:
        print_routes(config.blocks, seen)
    return config


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 when it ran to the end (whatever the figures), 1 if it could not."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK.runs} runs, {QUICK.background} rooms")
    parser.add_argument("--runs", type=int, help="measured runs per load and trigger")
    parser.add_argument("--background", help="other open waiting rooms per load level, e.g. 200,1000 (0: none)")
    parser.add_argument("--workers", default="1,2",
                        help="backend workers per configuration, in order (1: as make run; 2: as make run-scaled)")
    parser.add_argument("--keep", action="store_true", help="keep the work folders (app log, database)")
    parser.add_argument("--no-results", action="store_true", help="do not write var/bench/results.json")
    args = parser.parse_args(argv)
    base = QUICK if args.quick or os.environ.get("BENCH_QUICK") == "1" else FULL
    levels = base.background if args.background is None else \
        tuple(n for n in (int(v) for v in args.background.split(",")) if n > 0)
    size = Size(runs=args.runs or base.runs, warmup=base.warmup, background=levels, idle_seconds=base.idle_seconds)
    worker_counts = tuple(int(v) for v in args.workers.split(","))

    started = time.perf_counter()
    configurations: list[Configuration] = []
    try:
        for workers in worker_counts:
            configurations.append(run_configuration(workers, size, args.keep))
            _record(configurations[-1])
    finally:
        _pool.shutdown()
    if len(configurations) > 1:
        print(f"\nAll configurations ({time.perf_counter() - started:.0f} s in all):")
        print_table([b for c in configurations for b in c.blocks], [b for c in configurations for b in c.idle])
        for config in configurations:
            for line in config.splits:
                print(f"  {config.workers} workers: {line}")
    if not args.no_results:
        print(f"figures appended to {results.save()}")
    return 0


def _record(config: Configuration) -> None:
    """Every printed figure, for var/bench/results.json."""
    workers = config.workers
    for b in config.blocks:
        name = "waiting_room.join_after_start" if b.trigger == "start" else "waiting_room.join_after_webhook"
        params = {"other_rooms": b.rooms, "runs": len(b.latencies_ms) + b.failures, "workers": workers}
        results.record(f"{name}.p50", "ms", b.p(50), **params)
        results.record(f"{name}.p95", "ms", b.p(95), **params)
        results.record(f"{name}.max", "ms", max(b.latencies_ms, default=float("nan")), **params)
        results.record(f"{name}.wall_p95", "ms", b.p(95, b.wall_ms), **params)
        results.record(f"{name}.failed", "fraction", b.failures / max(1, len(b.latencies_ms) + b.failures), **params)
        results.record("waiting_room.push_floor.p50", "ms", b.p(50, b.floor_ms), trigger=b.trigger, **params)
        results.record("waiting_room.push_floor.p95", "ms", b.p(95, b.floor_ms), trigger=b.trigger, **params)
        results.record("waiting_room.backend_cpu", "fraction", b.cpu_percent / 100, rooms=b.rooms, trigger=b.trigger,
                       workers=workers)
        if b.relayed:
            results.record("waiting_room.relayed_joins", "fraction", sum(b.relayed) / len(b.relayed),
                           trigger=b.trigger, **params)
    for b in config.idle:
        results.record("waiting_room.idle_cpu", "fraction", b.cpu_percent / 100, rooms=b.rooms,
                       seconds=round(b.wall_seconds, 1), workers=workers)
        if workers > 1:
            results.record("waiting_room.idle_cpu_services", "fraction", b.service_cpu_percent / 100,
                           rooms=b.rooms, seconds=round(b.wall_seconds, 1), workers=workers)


def _reflex_version() -> str:
    from importlib.metadata import version

    return version("reflex")


if __name__ == "__main__":
    sys.exit(main())
