"""End-to-end fixtures: one running stack per test session, Debian's Chromium driven by Playwright."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Browser, BrowserContext
from sqlmodel import select

from rxapp.db import unit_of_work
from rxapp.dev.demo_data import PRACTICE_NAME  # the main stack holds other practices too
from rxapp.models import Practice, ZoomConnection, ZoomConnectionStatus
from tests.conftest import reset_app_caches
from tests.e2e.flows import sign_in  # noqa: F401  (re-exported: the tests' one way to sign in)
from tests.e2e.stack import Stack, run_stack

T = TypeVar("T")
log = logging.getLogger(__name__)

CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
# Every page of the browser tests asks for less motion (assets/app.css then ends animations at once):
# endless spinners otherwise keep Chromium drawing frames, which was a third of the browser tests' CPU (a
# waiting-room journey: 98 s of CPU with them turning, 61 s without). Set on the contexts of the `page`
# and `browser` fixtures (`browser_context_args`, `_keep_evidence_of_failures`); a test may ask for
# "no-preference" (test_accessibility checks the spinner turns then).
LESS_MOTION = {"reduced_motion": "reduce"}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, **LESS_MOTION}


# Files whose tests start apps of their own (`make run`, `make run-scaled`, production from an empty
# database, two workers behind Redis) or none (the testers' tools): marked `own_stack`. They wait on
# start-ups (Python, frontend builds, servers) more than they compute, so `make test` runs them beside the
# unit tests (`-m own_stack`), and the tests of the session's shared stack afterwards (`-m "not own_stack"`).
OWN_STACKS = frozenset({"test_make_run.py", "test_run_scaled.py", "test_going_live.py", "test_live_redis.py",
                        "test_testers_tools.py"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name in OWN_STACKS:
            item.add_marker(pytest.mark.own_stack)


def pytest_configure(config: pytest.Config) -> None:
    """On a failure keep Playwright's trace and a screenshot of every page under test-results/<test>/
    (open a trace with `.venv/bin/playwright show-trace <file>`); `--tracing on` still records all."""
    if config.getoption("--tracing", "off") == "off":
        config.option.tracing = "retain-on-failure"
    if config.getoption("--screenshot", "off") == "off":
        config.option.screenshot = "only-on-failure"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    setattr(item, f"_report_{report.when}", report)
    return report


@pytest.fixture(autouse=True)
def _keep_evidence_of_failures(request: pytest.FixtureRequest, output_path: str) -> Iterator[None]:
    """Contexts a test opens itself (`browser.new_context()`) are traced like pytest-playwright's own; when
    the test fails, the logs of the stacks it used (app log, sandbox deliveries and meetings, caught
    mail) are written beside the trace."""
    recorder = request.getfixturevalue("_artifacts_recorder") if "browser" in request.fixturenames else None
    contexts: list[BrowserContext] = []
    if recorder is not None:
        _record_each_context_once(recorder)
        browser: Browser = request.getfixturevalue("browser")
        original = browser.new_context

        def new_context(**kwargs: Any) -> BrowserContext:
            context = original(**{**LESS_MOTION, **kwargs})
            recorder.on_did_create_browser_context(context)
            contexts.append(context)
            close = context.close

            def close_and_keep_trace(*args: Any, **kw: Any) -> None:
                if context in contexts:
                    contexts.remove(context)
                    recorder.on_will_close_browser_context(context)
                close(*args, **kw)

            context.close = close_and_keep_trace  # type: ignore[method-assign]
            return context

        browser.new_context = new_context  # type: ignore[method-assign]
    yield
    if recorder is not None:
        del browser.new_context  # back to the class's method
        for context in list(contexts):
            try:
                context.close()
            except Exception:  # a dead browser: nothing left to record
                log.warning("could not close a browser context", exc_info=True)
    report = getattr(request.node, "_report_call", None)
    if report is not None and report.failed:
        stacks = [v for v in request.node.funcargs.values() if isinstance(v, Stack)]
        for index, running in enumerate(stacks):
            _save_stack_logs(running, Path(output_path) / ("logs" if index == 0 else f"logs-{index + 1}"))


def _record_each_context_once(recorder: Any) -> None:
    """pytest-playwright's own `page`/`context` fixtures report their context too: trace it once."""
    traced: set[int] = set()
    did_create, will_close = recorder.on_did_create_browser_context, recorder.on_will_close_browser_context

    def on_did_create(context: BrowserContext) -> None:
        if id(context) not in traced:
            traced.add(id(context))
            did_create(context)

    def on_will_close(context: BrowserContext) -> None:
        if id(context) in traced:
            traced.discard(id(context))
            will_close(context)

    recorder.on_did_create_browser_context = on_did_create
    recorder.on_will_close_browser_context = on_will_close


def _save_stack_logs(running: Stack, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if running.log is not None and running.log.exists():
        (folder / "app.log").write_text(running.log.read_text(errors="replace"))
    for name, path in (("sandbox-deliveries.json", "/deliveries"), ("sandbox-meetings.json", "/meetings"),
                       ("sandbox-faults.json", "/faults")):
        try:
            (folder / name).write_text(json.dumps(running.zoom("GET", path), indent=2))
        except Exception as exc:
            (folder / name).write_text(f"could not read the sandbox: {exc}")
    mail = sorted(running.mail_dir.glob("*.eml")) if running.mail_dir.exists() else []
    (folder / "mail.txt").write_text("\n\n".join(p.read_text(errors="replace") for p in mail[-20:]))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # Takes new practices (/signup, test_signup) beside the demo practice: two practices share it.
    # Each pytest-xdist worker (`make test` runs the browser tests in two) has its own stack, built in its
    # own folder: one serving from a folder the other is rebuilding would lose its pages.
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    env = {"PRACTICE_SIGNUP": "open"}
    if worker:
        env["REFLEX_WEB_WORKDIR"] = f"{os.environ.get('E2E_WEB_WORKDIR', '.web')}-{worker}"
    with run_stack(tmp_path_factory.mktemp("stack"), env) as running:
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
        s.exec(select(Practice).where(Practice.name == PRACTICE_NAME)).one().allow_zoom = True
    # In a worker thread: Playwright's sync API keeps an event loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(connect, stack.sandbox_url, service_sign_in("dr.lee@demo.clinic"), "lee@zoom.demo").result()


def ensure_lee_connected(stack: Stack) -> None:
    """Earlier journeys may have disconnected Dr. Lee (or removed the app in Zoom): connect her again
    when she has no working connection (`zoom_ready` only connects once per session)."""
    from tests.integration.zoom_helpers import sign_in as service_sign_in

    lee = service_sign_in("dr.lee@demo.clinic")
    with unit_of_work() as s:
        found = s.exec(select(ZoomConnection).where(ZoomConnection.practitioner_id == lee.principal.user_id,
                                                    ZoomConnection.status == ZoomConnectionStatus.CONNECTED)).first()
    if found is None:
        allow_zoom_and_connect_lee(stack)


def ensure_lee_disconnected() -> None:
    """Earlier tests may have connected Dr. Lee through the services; this journey starts without."""
    from tests.integration.zoom_helpers import sign_in as service_sign_in

    reset_app_caches()
    lee = service_sign_in("dr.lee@demo.clinic")
    with unit_of_work() as s:
        connected = s.exec(select(ZoomConnection).where(ZoomConnection.practitioner_id == lee.principal.user_id)
                           ).first()
    if connected is not None:
        from rxapp.services.telehealth.zoom import connections

        in_thread(lambda: asyncio.run(connections.disconnect(lee.principal, lee.principal.user_id)))


@pytest.fixture
def forget_bookings(stack: Stack) -> Iterator[None]:
    """Appointments a journey books are removed afterwards (with their Zoom meeting rows and join
    links), so the next journey in the shared stack finds the practitioners' lists as it expects."""
    from sqlalchemy import delete, func

    from rxapp.models import Appointment, Attendance, JoinLink, Meeting, WaitlistOffer

    with unit_of_work() as s:
        before = s.exec(select(func.max(Appointment.id))).one() or 0
    yield
    with unit_of_work() as s:
        s.execute(delete(Attendance).where(Attendance.appointment_id > before))
        s.execute(delete(WaitlistOffer).where(WaitlistOffer.appointment_id > before))
        s.execute(delete(JoinLink).where(JoinLink.meeting_id > before))
        s.execute(delete(Meeting).where(Meeting.id > before))
        s.execute(delete(Appointment).where(Appointment.id > before))


def in_thread(fn: Callable[..., T], *args: object) -> T:
    """Run service code that uses asyncio.run outside Playwright's running loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args).result()
