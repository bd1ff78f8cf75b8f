"""Issue 11.11, for testers: `make e2e` runs only the browser tests (K= selects, HEADED=1 shows the
browser), and a failed browser test leaves its trace, screenshots and the stack's logs in test-results/."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.stack import ROOT

_CONFTEST = """
from tests.e2e.conftest import (  # noqa: F401  (the project's e2e hooks and fixtures)
    _keep_evidence_of_failures, browser_type_launch_args, pytest_configure, pytest_runtest_makereport)
"""

_FAILING_TEST = """
import pytest
from tests.e2e.stack import Stack


@pytest.fixture
def stack(tmp_path):
    log = tmp_path / "app.log"
    log.write_text("a line of the app's log")
    (tmp_path / "mail").mkdir()
    return Stack(url="http://127.0.0.1:9", database_url="", mail_dir=tmp_path / "mail", env={},
                 sandbox_url="http://127.0.0.1:9", log=log)


def test_a_journey_that_fails(browser, stack):
    page = browser.new_context().new_page()  # a context the test opens itself
    page.set_content("<h1>Where it went wrong</h1>")
    assert page.locator("h1").inner_text() == "Somewhere else"
"""


def test_make_e2e_runs_only_the_browser_tests_selected_by_k() -> None:
    env = {**os.environ, "PYTEST_ADDOPTS": "--collect-only -p no:cacheprovider"}
    result = subprocess.run(["make", "-s", "e2e", "K=favicon", "HEADED=1"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    tests = [line for line in result.stdout.splitlines() if "::" in line]
    assert tests == ["tests/e2e/test_phones.py::test_every_page_has_a_favicon[chromium]"], result.stdout[-2000:]


def test_a_failed_browser_test_keeps_its_trace_screenshot_and_logs(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(_CONFTEST)
    (tmp_path / "test_journey.py").write_text(_FAILING_TEST)
    output = tmp_path / "test-results"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir",
                             str(tmp_path), "--output", str(output), str(tmp_path)],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stdout[-3000:]
    (kept,) = output.iterdir()
    assert (kept / "trace.zip").stat().st_size > 0
    assert list(kept.glob("test-failed-*.png"))
    assert (kept / "logs" / "app.log").read_text() == "a line of the app's log"
    assert (kept / "logs" / "sandbox-deliveries.json").exists()
