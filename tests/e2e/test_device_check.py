"""Issue 27.3: in the waiting room, Check my camera and microphone shows the camera, a moving microphone
level, a test tone and a connection check, all in the browser, and lets go of the camera when closed or
left; when the browser refuses, plain steps for the client's phone or computer. Chromium's fake devices
stand in for a camera and microphone (each test launches its own Chromium with the media flags)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect

from rxapp.services.telehealth.meetings import actions
from tests.e2e.conftest import CHROMIUM_ARGS, ensure_lee_connected, in_thread
from tests.e2e.flows import quiet_meeting_at_zoom, sign_in_as
from tests.e2e.stack import Stack
from tests.e2e.test_accessibility import assert_accessible
from tests.integration.zoom_helpers import sign_in as service_sign_in

FAKE_DEVICES = "--use-fake-device-for-media-stream"  # a test pattern camera and a beeping microphone
ALLOW = "--use-fake-ui-for-media-stream"  # answers the permission prompt with Allow
DENY = "--deny-permission-prompts"  # answers it with Block
WIDTH = 390
PHONE = {"viewport": {"width": WIDTH, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}

# Keeps every stream and AudioContext the page makes, to see that closing the check stops them.
RECORD_MEDIA = """
window.recordedStreams = []; window.recordedAudio = [];
if (navigator.mediaDevices) {
  const ask = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = c => ask(c).then(s => { window.recordedStreams.push(s); return s; });
}
const Original = window.AudioContext;
window.AudioContext = class extends Original {
  constructor(...args) { super(...args); window.recordedAudio.push(this); }
};
"""
LIVE_TRACKS = "() => recordedStreams.flatMap(s => s.getTracks()).filter(t => t.readyState === 'live').length"
OPEN_AUDIO = "() => recordedAudio.filter(a => a.state !== 'closed').length"


@pytest.fixture(scope="module")
def waiting_room(stack: Stack, zoom_ready) -> Iterator[str]:
    """The address of Alex's waiting room for a session of Dr. Lee's in 30 minutes (written directly:
    Alex gets no email, which other journeys count); cancelled and deleted afterwards."""
    ensure_lee_connected(stack)
    meeting_id = quiet_meeting_at_zoom("Device check session", minutes_ahead=30)
    yield f"{stack.url}/portal/waiting?meeting={meeting_id}"
    host = service_sign_in("dr.lee@demo.clinic").principal
    in_thread(lambda: asyncio.run(actions.cancel(host, meeting_id, "Device check over")))
    actions.delete(host, meeting_id)


@pytest.fixture
def chromium(playwright: Playwright, request: pytest.FixtureRequest) -> Iterator[Browser]:
    """A Chromium with fake devices; `allow` or `deny` (indirect parametrisation) answers its prompt."""
    answer = ALLOW if request.param == "allow" else DENY
    browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                         args=[*CHROMIUM_ARGS, FAKE_DEVICES, answer])
    yield browser
    browser.close()


def _open_check(browser: Browser, stack: Stack, waiting_room: str) -> tuple[Page, list[str]]:
    """Alex, on a phone, in the waiting room with the check opened; and the page's script errors."""
    context = browser.new_context(**PHONE)
    context.add_init_script(RECORD_MEDIA)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in_as(page, stack, "alex")
    page.goto(waiting_room)
    expect(page.locator("#waiting-message")).to_be_visible(timeout=20_000)
    page.wait_for_function("() => window.deviceCheckInstalled === true")
    toggle = page.get_by_role("button", name="Check my camera and microphone")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("region", name="Camera and microphone check")).to_be_visible()
    return page, errors


def _meter_values(page: Page, samples: int = 16) -> list[int]:
    meter = page.get_by_role("meter", name="Microphone level")
    values = []
    for _ in range(samples):
        values.append(int(meter.get_attribute("aria-valuenow") or "0"))
        page.wait_for_timeout(150)
    return values


def _assert_fits_the_phone(page: Page) -> None:
    assert page.evaluate("() => document.documentElement.scrollWidth") <= WIDTH
    small = page.evaluate("""() => [...document.querySelectorAll('#device-check-panel button, #device-check-toggle')]
        .filter(b => b.offsetParent !== null)
        .map(b => b.getBoundingClientRect()).filter(r => r.height < 44 || r.right > innerWidth).length""")
    assert small == 0, "a button of the check is smaller than 44 px or off the screen"


def _expect_a_good_connection(page: Page, tries: int = 3) -> None:
    """The server is on this machine, so the check says Good; a machine busy with other tests can hold
    the pings up past 300 ms, and then, as a client would, we press Check connection again."""
    result = page.locator("#device-check-connection-result")
    for attempt in range(1, tries + 1):
        expect(result).to_contain_text(re.compile(r"Connection: (Good|Slow|Offline)"), timeout=15_000)
        if "Connection: Good" in result.inner_text() or attempt == tries:
            break
        page.get_by_role("button", name="Check connection").click()
    expect(result).to_contain_text("Connection: Good")


@pytest.mark.parametrize("chromium", ["allow"], indirect=True)
def test_the_check_shows_the_camera_a_moving_level_a_tone_and_the_connection(
        chromium: Browser, stack: Stack, waiting_room: str) -> None:
    page, errors = _open_check(chromium, stack, waiting_room)
    expect(page.locator("#device-check-status")).to_contain_text("Your camera and microphone are working")
    page.wait_for_function("() => document.getElementById('device-check-video').videoWidth > 0")
    values = _meter_values(page)
    assert len(set(values)) >= 2 and max(values) > 0, f"the level does not move: {values}"
    _expect_a_good_connection(page)
    expect(page.locator("#device-check-help")).to_be_hidden()
    _assert_fits_the_phone(page)
    assert_accessible(page, "the waiting room's device check, working")

    page.get_by_role("button", name="Play test sound").click()
    expect(page.locator("#device-check-sound-result")).to_contain_text("Did you hear a short tone?")
    expect(page.get_by_role("button", name="Play test sound")).to_be_enabled()

    page.get_by_role("button", name="Stop the check").click()
    expect(page.get_by_role("button", name="Check my camera and microphone")).to_be_focused()
    expect(page.get_by_role("button", name="Check my camera and microphone")).to_have_attribute(
        "aria-expanded", "false")
    expect(page.locator("#device-check-panel")).to_be_hidden()
    assert page.evaluate(LIVE_TRACKS) == 0, "the camera or microphone is still on after closing"
    assert page.evaluate(OPEN_AUDIO) == 0
    assert page.evaluate("() => document.getElementById('device-check-video').srcObject") is None

    # Leaving the room with the check open lets go of the camera too (a route change, no reload).
    page.get_by_role("button", name="Check my camera and microphone").click()
    expect(page.locator("#device-check-status")).to_contain_text("Your camera and microphone are working")
    assert page.evaluate(LIVE_TRACKS) == 2
    page.get_by_role("link", name="Back to My sessions").click()
    expect(page.locator("#portal-upcoming")).to_be_visible()
    page.wait_for_function(f"() => ({LIVE_TRACKS})() === 0 && ({OPEN_AUDIO})() === 0")
    assert errors == []


@pytest.mark.parametrize("chromium", ["deny"], indirect=True)
def test_a_refused_camera_shows_plain_steps_for_the_phone_and_the_browser(
        chromium: Browser, stack: Stack, waiting_room: str) -> None:
    page, errors = _open_check(chromium, stack, waiting_room)
    help_text = page.locator("#device-check-help")
    expect(help_text).to_be_visible()
    expect(page.locator("#device-check-help-title")).to_have_text("Your camera or microphone is blocked")
    expect(help_text).to_contain_text("Settings > Zoom and turn on Microphone and Camera")
    expect(help_text).to_contain_text("Settings > Safari > Camera and Microphone")
    expect(help_text).to_contain_text("lock icon")
    expect(page.locator("#device-check-status")).to_contain_text("cannot use your camera or microphone")
    expect(page.locator("#device-check-video")).to_be_hidden()
    assert page.evaluate(LIVE_TRACKS) == 0
    _assert_fits_the_phone(page)
    assert_accessible(page, "the waiting room's device check, refused")

    page.get_by_role("button", name="Try again").click()  # still refused: the steps stay
    expect(help_text).to_be_visible()
    expect(page.locator("#device-check-help-title")).to_have_text("Your camera or microphone is blocked")

    # The speaker and the connection can be checked without the camera.
    _expect_a_good_connection(page)
    page.get_by_role("button", name="Play test sound").click()
    expect(page.locator("#device-check-sound-result")).to_contain_text("Did you hear a short tone?")
    page.context.set_offline(True)
    page.get_by_role("button", name="Check connection").click()
    expect(page.locator("#device-check-connection-result")).to_contain_text("Connection: Offline")
    page.context.set_offline(False)
    assert errors == []
