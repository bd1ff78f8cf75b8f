"""No blocking database work on the event loop: under a slow database (100 ms per statement)
the async entry points (meeting actions, the start route, Zoom connect/disconnect/check, token
refresh, meeting sync) keep the loop answering within 50 ms, and no statement runs on its thread."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import event
from sqlmodel import select

from rxapp import api, db
from rxapp.clock import now
from rxapp.db import unit_of_work
from rxapp.models import Client, ZoomConnection
from rxapp.services.identity import auth
from rxapp.services.telehealth.meetings import actions, sync
from rxapp.services.telehealth.meetings.schedule import MeetingDraft, schedule_meeting
from rxapp.services.telehealth.zoom import connections, tokens
from rxapp.settings import get_settings
from tests.integration.conftest import ZoomSandbox
from tests.integration.zoom_helpers import SignedIn, authorize, demo_practice, sign_in

T = TypeVar("T")

STATEMENT_DELAY = 0.1  # seconds per SQL statement: a slow database
MAX_LOOP_HOLD = 0.05  # the longest the loop may be held without running another task
TICK = 0.005
WORKERS = 8


@dataclass
class SlowDatabase:
    loop_thread: int
    active: bool = True
    loop_wait: float = 0.0  # seconds the loop thread spent waiting for the database
    on_loop: list[str] = field(default_factory=list)


@contextmanager
def slow_database() -> Iterator[SlowDatabase]:
    """Every statement sleeps; statements issued from the calling (event loop) thread are noted."""
    slow = SlowDatabase(loop_thread=threading.get_ident())

    def before_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not slow.active:
            return
        if threading.get_ident() == slow.loop_thread:
            slow.on_loop.append(statement.split("\n")[0][:80])
            slow.loop_wait += STATEMENT_DELAY
        time.sleep(STATEMENT_DELAY)

    # Switched off rather than removed: other threads (the webhook route) may be mid-statement.
    event.listen(db.get_engine(), "before_cursor_execute", before_execute)
    try:
        yield slow
    finally:
        slow.active = False


async def _longest_hold_while(work: Awaitable[T], slow: SlowDatabase) -> tuple[T, float]:
    """Run `work` while a monitor task ticks every 5 ms; returns the longest time the loop thread
    was held between two ticks. Held time is the loop thread's CPU time plus the slow
    database's time on that thread: unlike the wall-clock gap it does not count the moments a
    busy machine (two cores shared by many test runs) simply did not schedule this process."""
    loop = asyncio.get_running_loop()
    # Start the worker threads first, as a running server has them already.
    loop.set_default_executor(ThreadPoolExecutor(max_workers=WORKERS))
    await asyncio.gather(*(asyncio.to_thread(time.sleep, 0.02) for _ in range(WORKERS)))
    done, worst = asyncio.Event(), 0.0

    async def monitor() -> None:
        nonlocal worst
        cpu, db_wait = time.thread_time(), slow.loop_wait
        while not done.is_set():
            await asyncio.sleep(TICK)
            worst = max(worst, time.thread_time() - cpu + slow.loop_wait - db_wait)
            cpu, db_wait = time.thread_time(), slow.loop_wait

    watcher = asyncio.create_task(monitor())
    await asyncio.sleep(0)
    try:
        result = await work
    finally:
        done.set()
        await watcher
    return result, worst


def assert_never_blocks(call: Callable[[], Awaitable[T]]) -> T:
    """Run the async entry point under a slow database and check the loop stayed free."""
    with slow_database() as slow:
        result, worst = asyncio.run(_longest_hold_while(call(), slow))
    assert slow.on_loop == [], f"SQL ran on the event loop: {slow.on_loop}"
    assert worst < MAX_LOOP_HOLD, f"the event loop was held for {worst * 1000:.0f} ms"
    return result


def _meeting(who: SignedIn, topic: str) -> int:
    with unit_of_work() as s:
        client_id = s.exec(select(Client).where(Client.email == "alex@demo.client")).one().id
    start = (now() + timedelta(days=2)).astimezone(ZoneInfo("America/New_York"))
    draft = MeetingDraft(topic=topic, description="", date=start.date().isoformat(), hour="10:00",
                         timezone="America/New_York", client_id=client_id)
    meeting_id = schedule_meeting(who.principal, draft, overlap_confirmed=True).meeting_id
    assert meeting_id is not None
    return meeting_id


def _app_client(session_token: str) -> httpx.AsyncClient:
    """The app's own HTTP routes, served on the test's event loop."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=api.build()), base_url="http://app.test",
                             cookies={get_settings().session_cookie_name: session_token})


def test_creating_a_meeting_at_zoom_never_blocks_the_loop(zoom: ZoomSandbox, lee: SignedIn) -> None:
    meeting_id = _meeting(lee, "Loop: create")
    assert assert_never_blocks(lambda: sync.sync_meeting(meeting_id, force=True))


def test_start_route_end_and_cancel_never_block_the_loop(zoom: ZoomSandbox, lee: SignedIn) -> None:
    started, cancelled = _meeting(lee, "Loop: start"), _meeting(lee, "Loop: cancel")
    for meeting_id in (started, cancelled):
        assert asyncio.run(sync.sync_meeting(meeting_id, force=True))

    async def start_through_the_route() -> httpx.Response:
        check = auth.request_token(lee.token, f"start:{started}")
        async with _app_client(lee.token) as app:
            return await app.get(f"/meetings/{started}/start", params={"t": check})

    response = assert_never_blocks(start_through_the_route)
    assert response.status_code == 303 and "/s/" in response.headers["location"]
    assert httpx.get(response.headers["location"]).status_code == 200  # the host opens it: running at Zoom
    assert not assert_never_blocks(lambda: actions.end(lee.principal, started)).warning
    assert not assert_never_blocks(lambda: actions.cancel(lee.principal, cancelled, "Clinic closed")).warning


def test_connect_callback_check_refresh_and_disconnect_never_block_the_loop(zoom: ZoomSandbox) -> None:
    demo_practice()
    lee = sign_in("dr.lee@demo.clinic")
    state, code = authorize(zoom.url, connections.begin_connect(lee.principal, lee.principal.user_id, lee.token),
                            "lee@zoom.demo")

    async def callback() -> httpx.Response:
        async with _app_client(lee.token) as app:
            return await app.get("/auth/zoom/callback", params={"state": state, "code": code})

    response = assert_never_blocks(callback)
    assert response.status_code == 303 and "attempt=" in response.headers["location"]
    assert "works" in assert_never_blocks(lambda: connections.check(lee.principal, lee.principal.user_id))
    with unit_of_work() as s:
        s.exec(select(ZoomConnection)).one().access_expires_at = now()  # due for a refresh
    assert assert_never_blocks(lambda: tokens.get_credentials(lee.principal.user_id)).access_token
    outcome = assert_never_blocks(lambda: connections.disconnect(lee.principal, lee.principal.user_id))
    assert outcome.revoked_at_zoom


def test_the_probe_catches_a_blocking_call(sqlite_database: str) -> None:
    """The check itself works: a unit of work run directly in a coroutine is caught."""

    async def blocking() -> None:
        with unit_of_work() as s:
            s.exec(select(Client)).all()

    with pytest.raises(AssertionError, match="SQL ran on the event loop"):
        assert_never_blocks(blocking)
