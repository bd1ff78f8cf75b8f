"""End-to-end fixtures: one running stack per test session, Debian's Chromium driven by Playwright."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from rxapp.services.demo_data import DEMO_PASSWORD
from tests.e2e.stack import Stack, run_stack

CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with run_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


def sign_in(page: Page, stack: Stack, email: str, password: str = DEMO_PASSWORD, landing: str = "") -> None:
    page.goto(f"{stack.url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    if landing:
        expect(page).to_have_url(re.compile(rf"{re.escape(landing)}/?(\?.*)?$"), timeout=20_000)
