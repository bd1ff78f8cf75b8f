"""The README's browser-journey example runs as written: the code block under "Testing flows in the
browser" is read from README.md and run, from a practice where Zoom is not allowed yet and Dr. Lee
has not connected (what the example starts from)."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser
from sqlmodel import select

from rxapp.db import unit_of_work
from rxapp.dev.demo_data import PRACTICE_NAME  # the main stack holds other practices too
from rxapp.models import Practice
from tests.conftest import reset_app_caches
from tests.e2e.conftest import ensure_lee_disconnected
from tests.e2e.stack import Stack

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_example() -> str:
    section = README.read_text().split("### Testing flows in the browser", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found, "the README's browser-journey example is missing"
    return found.group(1)


def test_the_readme_browser_journey_runs_as_written(browser: Browser, stack: Stack, forget_bookings: None) -> None:
    ensure_lee_disconnected()
    reset_app_caches()
    with unit_of_work() as s:
        s.exec(select(Practice).where(Practice.name == PRACTICE_NAME)).one().allow_zoom = False
    namespace: dict[str, object] = {}
    exec(compile(readme_example(), str(README), "exec"), namespace)
    journeys = [fn for name, fn in namespace.items() if name.startswith("test_") and callable(fn)]
    assert len(journeys) == 1
    journeys[0](browser, stack)
