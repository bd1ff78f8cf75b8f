"""How long a client in the waiting room waits for Join session once the provider starts.

Starts the whole app as `make run` does (`reflex run --env prod`, Zoom sandbox, mail catcher; the
stack of the end-to-end tests, built in `.web-bench` unless E2E_WEB_WORKDIR says otherwise),
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

Targets (issue 15): p95 <= 100 ms with 200 other rooms, <= 250 ms with 1,000; idle CPU of 1,000
rooms <= 5% of one core. The page no longer polls while connected, so a lost push shows as a
failure (no Join within the timeout).

Figures also go to var/bench/results.json (see benchmarks/results.py): waiting_room.join_after_start
and waiting_room.join_after_webhook (.p50/.p95, params other_rooms), waiting_room.push_floor,
waiting_room.backend_cpu and waiting_room.idle_cpu (fraction of one core, params rooms),
waiting_room.rooms_opened (per_s), waiting_room.open_settle (ms until the backend is quiet after the
rooms opened, params cpu_seconds). BENCH_QUICK=1 is --quick.

    python benchmarks/bench_waiting_room.py [--quick] [--runs N] [--background N[,N...]]
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
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psutil

from benchmarks import results
from rxapp import heartbeat

os.environ.setdefault("E2E_WEB_WORKDIR", ".web-bench")  # own build folder: no clash with test runs

TARGET_P95_MS = {0: 100.0, 200: 100.0, 1000: 250.0}  # by other open rooms; others: the nearest below
TIMEOUT_S = 12.0  # a run this slow is counted as failed (the page does not poll while connected)
WAITING_TEXT = "Waiting for your provider to start the session"
LEE, ALEX, LEE_ZOOM = "dr.lee@demo.clinic", "alex@demo.client", "lee@zoom.demo"

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
    latencies_ms: list[float] = field(default_factory=list)
    floor_ms: list[float] = field(default_factory=list)  # the push-to-render floor, same page and load
    wall_ms: list[float] = field(default_factory=list)
    failures: int = 0
    trigger_ms: list[float] = field(default_factory=list)  # until the trigger's HTTP answer
    clock_offsets_ms: list[float] = field(default_factory=list)  # browser clock minus this process's
    clock_errors_ms: list[float] = field(default_factory=list)  # half the round trip of that reading
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    host_busy: float = 0.0

    @property
    def cpu_percent(self) -> float:
        return 100 * self.cpu_seconds / self.wall_seconds if self.wall_seconds else 0.0

    def p(self, pct: int, values: list[float] | None = None) -> float:
        data = sorted(self.latencies_ms if values is None else values)
        if not data:
            return float("nan")
        return data[min(len(data) - 1, max(0, round(pct / 100 * len(data)) - 1))]

    @property
    def target_ms(self) -> float:
        return TARGET_P95_MS[max(k for k in TARGET_P95_MS if k <= self.rooms)]

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


@contextmanager
def cpu_meter(pid: int, block: Block) -> Iterator[None]:
    """Add the app tree's CPU seconds, the wall seconds and the host's busy share to `block`."""
    before, host_before, started = _tree_cpu(pid), psutil.cpu_times(), time.perf_counter()
    try:
        yield
    finally:
        after, host_after = _tree_cpu(pid), psutil.cpu_times()
        block.wall_seconds += time.perf_counter() - started
        block.cpu_seconds += sum(t - before.get(p, 0.0) for p, t in after.items())
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


# -- one run in the browser ----------------------------------------------------------------------
class Bench:
    """The running stack, Alex's page and the two ways to start a meeting."""

    def __init__(self, stack: Any, page: Any, lee_token: str, cookie_name: str, alex_cookie: str) -> None:
        self.stack, self.page, self.lee_token = stack, page, lee_token
        self.http = httpx.Client(timeout=30, follow_redirects=False)
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
            response = self.http.get(f"{self.stack.url}/meetings/{meeting_id}/start", params={"t": t},
                                     headers=self.host_cookie)
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
                                  headers=self.client_cookie)
        if response.status_code != 200 or not response.json().get("pushed"):
            raise RuntimeError(f"the push probe answered {response.status_code}: {response.text[:200]}")
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
        offset_ms, error_ms = self.clock_offset()
        if block is not None:
            block.clock_offsets_ms.append(offset_ms)
            block.clock_errors_ms.append(error_ms)
            floor = self.floor_once(meeting_id, offset_ms)
            if floor is not None:
                block.floor_ms.append(floor)
        t0 = time.time()
        self.trigger(kind, meeting_id, zoom_id)
        if block is not None:
            block.trigger_ms.append((time.time() - t0) * 1000)
        try:
            page.wait_for_function("window.__joinAt !== null", timeout=TIMEOUT_S * 1000, polling="raf")
        except Exception as exc:  # Playwright's TimeoutError
            if "Timeout" not in type(exc).__name__:
                raise
            return None
        wall_ms = (time.time() - t0) * 1000
        joined_at = page.evaluate("window.__joinAt")
        page.locator("#join-session").wait_for(state="visible", timeout=5_000)
        return joined_at - offset_ms - t0 * 1000, wall_ms


def measure(bench: Bench, block: Block, size: Size) -> None:
    print(f"  {block.load}, trigger {block.trigger}: {size.warmup} warm-up + {size.runs} runs", flush=True)
    for n in range(size.warmup):
        bench.run_once(block.trigger, -n)
    with cpu_meter(bench.stack.pid, block):
        for n in range(size.runs):
            result = bench.run_once(block.trigger, n, block)
            if result is None:
                block.failures += 1
            else:
                block.latencies_ms.append(result[0])
                block.wall_ms.append(result[1])


def print_table(blocks: list[Block], size: Size, idle: list[Block]) -> None:
    headers = ("load", "trigger", "runs", "p50 ms", "p95 ms", "max ms", "mean ms", "floor p50/p95 ms",
               "p95 / floor p50", "wall p50/p95 ms", "answer p50 ms", "failed", "backend CPU", "host busy",
               "p95 target", "met")
    cells = [(b.load, b.trigger, str(len(b.latencies_ms) + b.failures), f"{b.p(50):.0f}", f"{b.p(95):.0f}",
              f"{max(b.latencies_ms, default=float('nan')):.0f}",
              f"{statistics.fmean(b.latencies_ms):.0f}" if b.latencies_ms else "nan",
              f"{b.p(50, b.floor_ms):.0f} / {b.p(95, b.floor_ms):.0f}", f"{b.p(95) / b.p(50, b.floor_ms):.1f}x",
              f"{b.p(50, b.wall_ms):.0f} / {b.p(95, b.wall_ms):.0f}", f"{b.p(50, b.trigger_ms):.0f}",
              str(b.failures),
              f"{b.cpu_percent:.0f}% ({b.cpu_seconds:.1f} s / {b.wall_seconds:.0f} s)", f"{b.host_busy:.0f}%",
              f"{b.target_ms:.0f} ms", "yes" if b.meets_target else "NO") for b in blocks]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    for line in (headers, tuple("-" * w for w in widths), *cells):
        print("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True))))
    print("(p50/p95/max/mean: browser-observed; wall: seen by this process through Playwright; answer: until "
          "the trigger's HTTP response, i.e. the start route's 303 or the sandbox control API's reply)")
    print("\nBackend CPU with nothing measured (connections open, no starts):")
    for b in idle:
        print(f"  {b.load:<40} {b.cpu_percent:5.1f}% of one core ({b.cpu_seconds:.1f} s / {b.wall_seconds:.0f} s), "
              f"host busy {b.host_busy:.0f}%")
    offsets = [o for b in blocks for o in b.clock_offsets_ms]
    errors = sorted(e for b in blocks for e in b.clock_errors_ms)
    if offsets:
        print(f"\nBrowser clock minus this process's clock: {min(offsets):+.1f} .. {max(offsets):+.1f} ms "
              f"(median {statistics.median(offsets):+.1f}); reading error (half round trip): median "
              f"{statistics.median(errors):.1f} ms, max {errors[-1]:.1f} ms.")
    failed = sum(b.failures for b in blocks)
    verdict = "MET" if all(b.meets_target for b in blocks) else "NOT MET"
    print(f"\nLatency targets: {verdict} ({failed} runs without Join within {TIMEOUT_S:.0f} s).")


def _idle(pid: int, label: str, seconds: float, rooms: int) -> Block:
    block = Block(label, "-", rooms=rooms)
    with cpu_meter(pid, block):
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


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 when it ran to the end (whatever the figures), 1 if it could not."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK.runs} runs, {QUICK.background} rooms")
    parser.add_argument("--runs", type=int, help="measured runs per load and trigger")
    parser.add_argument("--background", help="other open waiting rooms per load level, e.g. 200,1000 (0: none)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (app log, database)")
    parser.add_argument("--no-results", action="store_true", help="do not write var/bench/results.json")
    args = parser.parse_args(argv)
    base = QUICK if args.quick or os.environ.get("BENCH_QUICK") == "1" else FULL
    levels = base.background if args.background is None else \
        tuple(n for n in (int(v) for v in args.background.split(",")) if n > 0)
    size = Size(runs=args.runs or base.runs, warmup=base.warmup, background=levels, idle_seconds=base.idle_seconds)

    from playwright.sync_api import sync_playwright

    from benchmarks.waiting_room_clients import Protocol, WaitingRooms
    from rxapp.settings import get_settings
    from tests.e2e.conftest import CHROMIUM_ARGS, sign_in
    from tests.e2e.stack import run_stack

    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="bench-waiting-room-"))
    blocks: list[Block] = []
    idle: list[Block] = []
    with ExitStack() as cleanup:
        if not args.keep:
            import shutil

            cleanup.callback(shutil.rmtree, workdir, ignore_errors=True)
        cleanup.callback(_pool.shutdown)
        print(f"starting the app (build folder {os.environ['E2E_WEB_WORKDIR']}, work folder {workdir})", flush=True)
        stack = cleanup.enter_context(run_stack(workdir, extra_env={"DEV_PLUGINS": "benchmarks.push_probe"}))
        print(f"  up in {time.perf_counter() - started:.0f} s at {stack.url}, reflex pid {stack.pid}", flush=True)
        lee_token = in_thread(_prepare_practice, stack.sandbox_url)

        playwright = cleanup.enter_context(sync_playwright())
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        cleanup.callback(browser.close)
        page = browser.new_context().new_page()
        sign_in(page, stack, ALEX, landing="/portal")
        cookie_name = get_settings().session_cookie_name
        alex_cookie = next(c["value"] for c in page.context.cookies() if c["name"] == cookie_name)
        bench = Bench(stack, page, lee_token, cookie_name, alex_cookie)
        cleanup.callback(bench.http.close)

        idle.append(_idle(stack.pid, "(a) no other connections", size.idle_seconds, 0))
        for trigger in ("start", "webhook"):
            blocks.append(Block("(a) no other load", trigger))
            measure(bench, blocks[-1], size)

        protocol = Protocol.from_frames(bench.sent_frames, subprotocol=_reflex_version())
        opened = 0
        for label, rooms_wanted in zip("bcdefg", levels, strict=False):
            made = time.perf_counter()
            background_ids = in_thread(_background_meetings, rooms_wanted - opened, opened)
            print(f"  {len(background_ids)} more background meetings in {time.perf_counter() - made:.0f} s; "
                  f"opening their waiting rooms", flush=True)
            rooms = WaitingRooms(stack.url, f"{cookie_name}={alex_cookie}", protocol, background_ids)
            cleanup.callback(rooms.stop)
            made = time.perf_counter()
            rooms.start(timeout=600)
            rate = rooms.ready / (time.perf_counter() - made)
            opened += rooms.ready
            results.record("waiting_room.rooms_opened", "per_s", rate, rooms=len(background_ids))
            print(f"  {rooms.ready} ready ({rate:.0f} per second); {opened} other rooms open", flush=True)
            load = f"({label}) {opened} other rooms"
            settled = _settle(stack.pid)
            results.record("waiting_room.open_settle", "ms", settled.wall_seconds * 1000, rooms=opened,
                           cpu_seconds=round(settled.cpu_seconds, 1))
            print(f"  settled in {settled.wall_seconds:.0f} s ({settled.cpu_seconds:.1f} s of backend CPU: the "
                  f"openings' state writes)", flush=True)
            idle.append(_idle(stack.pid, load, size.idle_seconds, opened))
            for trigger in ("start", "webhook"):
                blocks.append(Block(load, trigger, rooms=opened))
                measure(bench, blocks[-1], size)
            if rooms.polls:
                print(f"  the other rooms sent {rooms.polls} polls", flush=True)

    print(f"\nStart -> Join session in the DOM of a real Chromium page (reflex run --env prod, 1 backend worker, "
          f"{os.cpu_count()} cores), {size.runs} runs per row after {size.warmup} warm-up runs; "
          f"total time {time.perf_counter() - started:.0f} s:")
    print_table(blocks, size, idle)
    _record(blocks, idle)
    if not args.no_results:
        print(f"figures appended to {results.save()}")
    return 0


def _record(blocks: list[Block], idle: list[Block]) -> None:
    """Every printed figure, for var/bench/results.json."""
    for b in blocks:
        name = "waiting_room.join_after_start" if b.trigger == "start" else "waiting_room.join_after_webhook"
        params = {"other_rooms": b.rooms, "runs": len(b.latencies_ms) + b.failures}
        results.record(f"{name}.p50", "ms", b.p(50), **params)
        results.record(f"{name}.p95", "ms", b.p(95), **params)
        results.record(f"{name}.max", "ms", max(b.latencies_ms, default=float("nan")), **params)
        results.record(f"{name}.wall_p95", "ms", b.p(95, b.wall_ms), **params)
        results.record(f"{name}.failed", "fraction", b.failures / max(1, len(b.latencies_ms) + b.failures), **params)
        results.record("waiting_room.push_floor.p50", "ms", b.p(50, b.floor_ms), trigger=b.trigger, **params)
        results.record("waiting_room.push_floor.p95", "ms", b.p(95, b.floor_ms), trigger=b.trigger, **params)
        results.record("waiting_room.backend_cpu", "fraction", b.cpu_percent / 100, rooms=b.rooms, trigger=b.trigger)
    for b in idle:
        results.record("waiting_room.idle_cpu", "fraction", b.cpu_percent / 100, rooms=b.rooms,
                       seconds=round(b.wall_seconds, 1))


def _reflex_version() -> str:
    from importlib.metadata import version

    return version("reflex")


if __name__ == "__main__":
    sys.exit(main())
