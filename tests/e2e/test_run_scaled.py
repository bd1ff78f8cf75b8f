"""`make run-scaled` (issue 15.5): the app on PostgreSQL and Redis with two workers serves the
waiting-room journey with Dr. Lee's and Alex's browsers connected to different workers, and stops
everything, its PostgreSQL included, when stopped."""

from __future__ import annotations

import os
import pickle
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import redis
from playwright.sync_api import Browser, Page, expect

from devtools.ports import free_port
from tests.e2e.flows import allow_zoom, connect_zoom, new_meeting, open_waiting_room, sign_in_as, start_meeting
from tests.e2e.stack import Stack
from tests.e2e.test_make_run import MakeRun, _alive, _descendants


@pytest.fixture
def scaled(tmp_path: Path) -> Iterator[tuple[MakeRun, Stack, str]]:
    run = MakeRun(tmp_path, "run-scaled", {"POSTGRES_PORT": str(free_port()), "REDIS_PORT": str(free_port())})
    started: list[psutil.Process] = []
    try:
        try:
            run.wait_until_serving()
        finally:
            run.build_turn.close()  # built: other builds may go on
        started = _descendants(run.proc.pid)
        stack = Stack(url=f"http://localhost:{run.app_port}", database_url="", mail_dir=tmp_path / "mail", env={},
                      sandbox_url=f"http://127.0.0.1:{run.sandbox_port}", log=tmp_path / "logs" / "app.log")
        yield run, stack, run.output.read_text()
    finally:
        if run.proc.poll() is None:
            os.killpg(run.proc.pid, signal.SIGINT)  # Ctrl-C
            try:
                run.proc.wait(timeout=40)
            except Exception:
                os.killpg(run.proc.pid, signal.SIGKILL)
        for p in _alive([*started, *_descendants(run.proc.pid)]):
            p.kill()


def _worker_of(page: Page, client: redis.Redis) -> str:
    """The app worker holding this page's websocket (Reflex records it in Redis per browser token)."""
    token = page.evaluate("() => window.sessionStorage.getItem('token')")
    deadline = time.time() + 10
    while time.time() < deadline:
        record = client.get(f"token_manager_socket_record_{token}")
        if record:
            return pickle.loads(record).instance_id  # written by our own app's Reflex
        time.sleep(0.2)
    raise AssertionError("the page has no websocket record in Redis")


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_the_waiting_room_journey_on_two_workers(browser: Browser, scaled: tuple[MakeRun, Stack, str]) -> None:
    run, stack, banner = scaled
    redis_port, postgres_port = int(run.env["REDIS_PORT"]), int(run.env["POSTGRES_PORT"])
    assert f"App:            http://localhost:{run.app_port}" in banner  # the same banner as make run
    assert "2 app workers" in banner
    client = redis.Redis(port=redis_port)

    owner, lee, alex = (browser.new_context().new_page() for _ in range(3))
    allow_zoom(sign_in_as(owner, stack, "owner"), stack)
    connect_zoom(sign_in_as(lee, stack, "lee"), stack)
    new_meeting(lee, stack, "Scaled check-in", patient="Alex Rivera", minutes_ahead=10)
    open_waiting_room(sign_in_as(alex, stack, "alex"), stack, "Scaled check-in")
    lee.goto(f"{stack.url}/meetings")
    expect(lee.locator(".meeting-row").filter(has_text="Scaled check-in")).to_be_visible()

    # Two workers share the port; a reload opens a new websocket that either may take.
    lee_worker = _worker_of(lee, client)
    for _ in range(30):
        if _worker_of(alex, client) != lee_worker:
            break
        alex.reload()
        expect(alex.locator("#waiting-message")).to_be_visible(timeout=20_000)
    assert _worker_of(alex, client) != lee_worker, "all websockets landed on one worker"

    start_meeting(lee, stack, "Scaled check-in").close()
    expect(alex.get_by_role("link", name="Join session")).to_be_visible(timeout=5_000)  # pushed across workers
    alex.get_by_role("link", name="Join session").click()
    expect(alex.get_by_text("You have joined the meeting")).to_be_visible()

    # Ctrl-C stops it all, the throwaway PostgreSQL and Redis too.
    os.killpg(run.proc.pid, signal.SIGINT)
    run.proc.wait(timeout=40)
    deadline = time.time() + 20
    while (_port_open(postgres_port) or _port_open(redis_port)) and time.time() < deadline:
        time.sleep(0.5)
    assert not _port_open(postgres_port) and not _port_open(redis_port)
    assert not run.ports_in_use()
