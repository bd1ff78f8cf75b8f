"""Live updates with several backend workers behind Redis (the scaled set-up): the browser's socket
and the worker that handles the provider's start need not be the same process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import redis
from playwright.sync_api import Browser, expect

from devtools import redis as redis_server
from tests.e2e.conftest import allow_zoom_and_connect_lee
from tests.e2e.flows import sign_in_as, start_meeting
from tests.e2e.stack import Stack, run_stack
from tests.e2e.test_waiting_room import _meeting_soon


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    try:
        with redis_server.temporary_server(tmp_path_factory.mktemp("redis")) as server:
            yield server.url
    except redis_server.RedisNotInstalled as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def scaled_stack(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Stack]:
    """The app with Redis state and two workers (its own build folder, beside the main stack)."""
    workdir: Path = tmp_path_factory.mktemp("scaled")
    with run_stack(workdir, {"REDIS_URL": redis_url, "GRANIAN_WORKERS": "2",
                             "REFLEX_WEB_WORKDIR": ".web-redis"}) as running:
        yield running


def test_join_appears_without_reload_with_two_workers_behind_redis(browser: Browser, scaled_stack: Stack,
                                                                     redis_url: str) -> None:
    allow_zoom_and_connect_lee(scaled_stack)
    # Granian's workers are child processes of `reflex run` with its command line (one child per worker).
    workers = [p for p in psutil.Process(scaled_stack.pid).children(recursive=True) if "reflex" in p.name()]
    assert len(workers) >= 2
    alex = sign_in_as(browser.new_context().new_page(), scaled_stack, "alex")
    lee = sign_in_as(browser.new_context().new_page(), scaled_stack, "lee")
    # Four sessions, started by the host's link and by Zoom's webhook in turn: each start is a new
    # HTTP request that either worker may take, while Alex's socket stays on one of them.
    for round_ in range(4):
        topic = f"Scaled session {round_}"
        meeting_id = _meeting_soon(topic, "alex@demo.client", minutes_ahead=10 + 60 * round_)
        alex.goto(f"{scaled_stack.url}/portal/waiting?meeting={meeting_id}")
        expect(alex.locator("#waiting-message")).to_be_visible()
        assert redis.Redis.from_url(redis_url).zcard(f"telehealth:live:meeting:{meeting_id}") >= 1
        if round_ % 2 == 0:
            start_meeting(lee, scaled_stack, topic).close()
        else:
            zoom_id = next(m["id"] for m in scaled_stack.zoom("GET", "/meetings")["meetings"] if m["topic"] == topic)
            scaled_stack.zoom("POST", f"/meetings/{zoom_id}/start")
        expect(alex.get_by_role("link", name="Join session")).to_be_visible(timeout=3_000)
    reflex_keys = [k for k in redis.Redis.from_url(redis_url).keys("*") if not k.startswith(b"telehealth:")]
    assert reflex_keys, "Reflex did not keep its state in Redis"
