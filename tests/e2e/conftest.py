"""End-to-end fixtures: one running stack per test session, Debian's Chromium driven by Playwright."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from rxapp.db import unit_of_work
from rxapp.models import Practice
from rxapp.services.demo_data import DEMO_PASSWORD
from tests.conftest import reset_app_caches
from tests.e2e.stack import Stack, run_stack

T = TypeVar("T")

CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with run_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


@pytest.fixture(scope="session")
def zoom_ready(stack: Stack) -> None:
    """Zoom allowed and Dr. Lee connected (the browser flow itself is covered by test_zoom_connection)."""
    allow_zoom_and_connect_lee(stack)


def allow_zoom_and_connect_lee(stack: Stack) -> None:
    from tests.integration.zoom_helpers import connect
    from tests.integration.zoom_helpers import sign_in as service_sign_in

    reset_app_caches()
    with unit_of_work() as s:
        s.exec(select(Practice)).one().allow_zoom = True
    # In a worker thread: Playwright's sync API keeps an event loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(connect, stack.sandbox_url, service_sign_in("dr.lee@demo.clinic"), "lee@zoom.demo").result()


def in_thread(fn: Callable[..., T], *args: object) -> T:
    """Run service code that uses asyncio.run outside Playwright's running loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args).result()


def sign_in(page: Page, stack: Stack, email: str, password: str = DEMO_PASSWORD, landing: str = "") -> None:
    page.goto(f"{stack.url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    if landing:
        expect(page).to_have_url(re.compile(rf"{re.escape(landing)}/?(\?.*)?$"), timeout=20_000)
