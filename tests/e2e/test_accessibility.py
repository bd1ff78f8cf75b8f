"""DESIGN.md section 7: no axe-core violations of WCAG 2.1 A/AA on the main pages, checked in the
real app in Chromium. axe-core comes from the npm registry through scripts/bootstrap.sh (into
.tools/), so nothing is fetched while the tests run."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from rxapp.db import unit_of_work
from rxapp.models import Appointment, AppointmentStatus, Meeting
from rxapp.services.telehealth.meetings import actions
from tests.e2e.conftest import in_thread, sign_in
from tests.e2e.flows import quiet_meeting_at_zoom
from tests.e2e.stack import ROOT, Stack
from tests.integration.zoom_helpers import sign_in as service_sign_in

AXE = ROOT / ".tools/node_modules/axe-core/axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
TOPIC = "Accessibility check-in"

# Wait for the page's own transitions (a dialog opening) but not for endless ones (spinners).
_SETTLE = """() => Promise.all(document.getAnimations()
    .filter(a => a.effect && a.effect.getComputedTiming().iterations !== Infinity)
    .map(a => a.finished.catch(() => null)))"""
_RUN = "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})"


def _describe(where: str, violations: list[dict]) -> str:
    lines = [f"{len(violations)} axe-core violation(s) on {where}:"]
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} [{v['helpUrl']}]")
        for node in v["nodes"][:3]:
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"    at {' > '.join(map(str, node['target']))}: {summary[:300]}")
        if len(v["nodes"]) > 3:
            lines.append(f"    … and {len(v['nodes']) - 3} more element(s)")
    return "\n".join(lines)


def assert_accessible(page: Page, where: str) -> None:
    """Run axe-core on the page as it is now; fail with a readable list of WCAG 2.1 A/AA violations."""
    assert AXE.exists(), f"{AXE} is missing: run `bash scripts/bootstrap.sh test`"
    page.evaluate(_SETTLE)
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Through the DevTools protocol: an inline <script> tag would be refused by the page's CSP.
        page.evaluate(AXE.read_text())
    violations = page.evaluate(_RUN, WCAG_TAGS)["violations"]
    assert not violations, _describe(where, violations)


def _open(page: Page, stack: Stack, path: str, heading: str) -> None:
    page.goto(f"{stack.url}{path}")
    expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible(timeout=20_000)


@pytest.fixture(scope="module")
def alex_session(stack: Stack, zoom_ready) -> Iterator[int]:
    """A meeting of Dr. Lee's with Alex starting in 10 minutes, created at Zoom.

    The row is written directly rather than through schedule_meeting so that Alex gets no
    "Telehealth session on" email: other journeys in the same stack count those. It is ended
    and deleted afterwards, so Dr. Lee's list is empty again for them.
    """
    meeting_id = quiet_meeting_at_zoom(TOPIC)
    yield meeting_id
    host = service_sign_in("dr.lee@demo.clinic").principal
    with unit_of_work() as s:
        started = s.get(Appointment, meeting_id).status == AppointmentStatus.IN_PROGRESS  # type: ignore[union-attr]
    if not started:  # only a started meeting can be ended (some tests may have been deselected)
        in_thread(lambda: asyncio.run(actions.start_url(host, meeting_id)))
    in_thread(lambda: asyncio.run(actions.end(host, meeting_id)))
    actions.delete(host, meeting_id)


def test_the_sign_in_page(page: Page, stack: Stack) -> None:
    page.goto(f"{stack.url}/login")
    expect(page.get_by_label("Email")).to_be_visible(timeout=20_000)
    assert_accessible(page, "/login")


@pytest.mark.parametrize(("path", "heading", "content"), [
    ("/settings", "Practice settings", "Allow Zoom Integration?"),
    ("/meetings", "Meetings", TOPIC),
    ("/clients", "Clients", "Alex Rivera"),
    ("/attention", "Needs attention", "Messages that failed"),
])
def test_the_owners_pages(page: Page, stack: Stack, alex_session: int, path: str, heading: str,
                          content: str) -> None:
    sign_in(page, stack, "owner@demo.clinic", landing="/calendar")
    _open(page, stack, path, heading)
    expect(page.get_by_text(content).first).to_be_visible()
    assert_accessible(page, f"{path} as the owner")


def test_the_meetings_page_with_the_new_meeting_dialog_open(page: Page, stack: Stack, alex_session: int) -> None:
    sign_in(page, stack, "dr.lee@demo.clinic", landing="/calendar")
    _open(page, stack, "/meetings", "Meetings")
    expect(page.locator(".meeting-row").filter(has_text=TOPIC)).to_be_visible()
    page.get_by_role("button", name="New meeting").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Topic")).to_be_visible()
    expect(dialog.get_by_label("Patient")).to_be_visible()
    assert_accessible(page, "/meetings as Dr. Lee, New meeting dialog open")


def test_the_practitioners_profile(page: Page, stack: Stack, zoom_ready) -> None:
    sign_in(page, stack, "dr.lee@demo.clinic", landing="/calendar")
    _open(page, stack, "/profile", "My profile")
    expect(page.get_by_role("tabpanel")).to_be_visible()
    assert_accessible(page, "/profile as Dr. Lee (Meeting tab)")


def test_the_clients_sessions(page: Page, stack: Stack, alex_session: int) -> None:
    sign_in(page, stack, "alex@demo.client", landing="/portal")
    expect(page.locator("#portal-upcoming .client-visit").filter(has_text=TOPIC)).to_be_visible()
    assert_accessible(page, "/portal as Alex")


def test_the_clients_practitioners(page: Page, stack: Stack) -> None:
    sign_in(page, stack, "alex@demo.client", landing="/portal")
    _open(page, stack, "/portal/practitioners", "My practitioners")
    expect(page.get_by_role("switch").first).to_be_visible()
    assert_accessible(page, "/portal/practitioners as Alex")


def test_the_waiting_room_while_waiting(page: Page, stack: Stack, alex_session: int) -> None:
    sign_in(page, stack, "alex@demo.client", landing="/portal")
    page.goto(f"{stack.url}/portal/waiting?meeting={alex_session}")
    expect(page.locator("#waiting-message")).to_be_visible(timeout=20_000)
    assert_accessible(page, "/portal/waiting as Alex, waiting for the provider")


_TURNING = """() => document.getAnimations().filter(a => a.playState === 'running'
    && a.effect.getComputedTiming().iterations === Infinity).length"""


@pytest.mark.parametrize(("motion", "turning"), [("reduce", False), ("no-preference", True)])
def test_the_waiting_rooms_spinner_stands_still_for_someone_who_asked_for_less_motion(
        browser: Browser, stack: Stack, alex_session: int, motion: str, turning: bool) -> None:
    """assets/app.css ends every animation at once under prefers-reduced-motion: reduce. The browser tests
    all ask for that (conftest.LESS_MOTION): endless spinners kept Chromium drawing frames, a third of their CPU."""
    page = browser.new_context(reduced_motion=motion).new_page()  # type: ignore[arg-type]
    sign_in(page, stack, "alex@demo.client", landing="/portal")
    page.goto(f"{stack.url}/portal/waiting?meeting={alex_session}")
    expect(page.locator("#waiting-message")).to_be_visible(timeout=20_000)
    expect(page.locator(".rt-Spinner").first).to_be_visible()
    assert (page.evaluate(_TURNING) > 0) is turning


def test_the_waiting_room_once_the_provider_started(page: Page, stack: Stack, alex_session: int) -> None:
    sign_in(page, stack, "alex@demo.client", landing="/portal")
    page.goto(f"{stack.url}/portal/waiting?meeting={alex_session}")
    expect(page.locator("#waiting-message")).to_be_visible(timeout=20_000)
    # Started in Zoom (the sandbox's host page): the app hears it by webhook and pushes it to the room.
    with unit_of_work() as s:
        zoom_id = s.get(Meeting, alex_session).zoom_meeting_id
    stack.zoom("POST", f"/meetings/{zoom_id}/start")
    expect(page.get_by_role("link", name="Join session")).to_be_visible(timeout=10_000)
    assert_accessible(page, "/portal/waiting as Alex, Join session shown")
