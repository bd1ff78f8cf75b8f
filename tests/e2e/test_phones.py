"""Issue 11.8: on a 390 x 844 phone every page fits the screen (no sideways scrolling), the sidebar is a
menu, dialogs fit, and the main actions can be reached and clicked; for the keyboard, a skip link and
focus back on the opener when a dialog closes; a favicon instead of a 404 on every page."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from rxapp.services.telehealth.meetings import actions
from tests.e2e.conftest import in_thread
from tests.e2e.flows import quiet_meeting_at_zoom, sign_in_as
from tests.e2e.stack import Stack
from tests.integration.zoom_helpers import sign_in as service_sign_in

WIDTH = 390
PHONE = {"viewport": {"width": WIDTH, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}
TOPIC = "Phone check-in with a rather long topic that must wrap"

# Besides the menu's pages: pages reached from inside the app.
EXTRA_PAGES = {"lee": ["/profile/zoom-review"], "alex": ["/portal/practitioners"], "frontdesk": ["/waitlist"]}
PUBLIC_PAGES = ["/login", "/forgot-password", "/reset-password/not-a-real-token", "/invite/not-a-real-token"]


@pytest.fixture(scope="module")
def alex_session(stack: Stack, zoom_ready) -> Iterator[int]:
    """A meeting of Dr. Lee's with Alex in 10 minutes, at Zoom (written directly: Alex gets no email,
    which other journeys count); ended and deleted afterwards."""
    meeting_id = quiet_meeting_at_zoom(TOPIC)
    yield meeting_id
    host = service_sign_in("dr.lee@demo.clinic").principal
    in_thread(lambda: asyncio.run(actions.cancel(host, meeting_id, "Phone layout check over")))
    actions.delete(host, meeting_id)


def _phone(browser: Browser) -> Page:
    return browser.new_context(**PHONE).new_page()


def _settled(page: Page) -> None:
    """The page's heading is shown and the shell has stopped loading its content."""
    expect(page.locator("main h1")).to_be_visible(timeout=20_000)
    expect(page.get_by_text("Loading…", exact=True)).to_have_count(0, timeout=20_000)
    page.wait_for_timeout(300)  # late layout: fonts, badges, lists filled by the first state delta


def _assert_fits(page: Page, where: str) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{where} is {width} px wide on a {WIDTH} px phone: {_widest(page)}"
    # Nothing outside a scrolling container (tables scroll inside the page) sticks out of the screen.
    outside = page.evaluate("""w => [...document.querySelectorAll(
            'main a, main button, main input, main select, main textarea, main h1, main h2, main p')]
        .filter(e => e.offsetParent !== null && !e.closest('.rt-TableRoot, .rt-ScrollAreaViewport'))
        .filter(e => { const r = e.getBoundingClientRect(); return r.right > w + 0.5 || r.left < -0.5; })
        .map(e => `${e.tagName.toLowerCase()} "${(e.innerText || e.value || '').slice(0, 40)}"`)""", WIDTH)
    assert not outside, f"{where}: outside the screen: {outside}"


def _widest(page: Page) -> list[str]:
    return page.evaluate("""w => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > w + 0.5)
        .slice(-5).map(e => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')} ` +
                             `(${Math.round(e.getBoundingClientRect().right)} px)`)""", WIDTH)


def _assert_reachable(control: Locator) -> None:
    """Visible on the screen after scrolling to it, not covered by anything, clickable."""
    control.scroll_into_view_if_needed()
    expect(control).to_be_visible()
    box = control.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, box
    control.click(trial=True, timeout=5_000)  # fails when another element would receive the tap


def _menu_pages(page: Page) -> list[str]:
    """Open the menu (the sidebar is hidden on phones): it offers the sidebar's pages."""
    sidebar = page.locator("#main-nav a")
    expect(sidebar.first).to_be_hidden()
    links = {sidebar.nth(i).inner_text(): sidebar.nth(i).get_attribute("href") or "" for i in range(sidebar.count())}
    menu = page.get_by_role("button", name="Menu")
    _assert_reachable(menu)
    menu.click()
    items = page.get_by_role("menuitem")
    expect(items.first).to_be_visible()
    labels = [items.nth(i).inner_text() for i in range(items.count())]
    page.keyboard.press("Escape")
    assert labels and labels == list(links), (labels, links)
    return list(links.values())


@pytest.mark.parametrize("who", ["owner", "lee", "frontdesk", "alex"])
def test_every_page_fits_a_phone_and_its_main_actions_can_be_tapped(browser: Browser, stack: Stack,
                                                                    alex_session: int, who: str) -> None:
    page = sign_in_as(_phone(browser), stack, who)
    _settled(page)
    _assert_fits(page, f"the home page of {who}")
    paths = _menu_pages(page)
    if who == "alex":
        paths += [f"/portal/waiting?meeting={alex_session}"]
    for path in paths + EXTRA_PAGES.get(who, []):
        page.goto(f"{stack.url}{path}")
        _settled(page)
        _assert_fits(page, f"{path} as {who}")
        _assert_reachable(page.get_by_role("button", name="Menu"))
        _assert_reachable(page.get_by_role("button", name="Sign out"))

    # The menu takes you to another page.
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("menuitem").first.click()
    expect(page).to_have_url(re.compile(rf"{re.escape(paths[0])}/?(\?.*)?$"))

    if who == "owner":
        page.goto(f"{stack.url}/settings")
        _settled(page)
        _assert_reachable(page.get_by_role("button", name="Save", exact=True))
    if who == "lee":
        page.goto(f"{stack.url}/meetings")
        _settled(page)
        expect(page.locator(".meeting-row").filter(has_text=TOPIC)).to_have_count(1)
        _assert_fits(page, "/meetings with a meeting listed")
        new_meeting = page.get_by_role("button", name="New meeting")
        _assert_reachable(new_meeting)
        new_meeting.click()
        dialog = page.get_by_role("dialog")
        expect(dialog.get_by_label("Topic")).to_be_visible()
        box = dialog.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, box
        _assert_fits(page, "/meetings with the New meeting dialog open")
        _assert_reachable(dialog.get_by_role("button", name="Save meeting"))
        _assert_reachable(dialog.get_by_role("button", name="Close"))
    if who == "alex":
        page.goto(f"{stack.url}/portal")
        _settled(page)
        session = page.locator("#portal-upcoming .client-visit").filter(has_text=TOPIC)
        _assert_reachable(session.get_by_role("link", name="Launch telehealth session"))
        session.get_by_role("link", name="Launch telehealth session").click()
        message = page.locator("#waiting-message")
        expect(message).to_be_visible(timeout=20_000)
        _assert_reachable(message)
        assert message.evaluate("e => e.scrollWidth <= e.clientWidth"), "the waiting-room message is cut off"
        _assert_fits(page, "the waiting room")


# Every control of every row, and every word broken across two lines, in the page's card tables.
_CARD_TABLES = """w => {
    const rows = [...document.querySelectorAll('.card-table tbody tr')];
    const controls = rows.flatMap(r => [...r.querySelectorAll('a, button, [role=switch], select, input')])
        .filter(e => e.offsetParent !== null);
    const outside = controls.filter(e => { const b = e.getBoundingClientRect();
                                           return b.left < -0.5 || b.right > w + 0.5 || b.width === 0; })
        .map(e => `${e.tagName.toLowerCase()} "${(e.innerText || e.getAttribute('aria-label') || '').slice(0, 40)}"`);
    const broken = [];
    for (const row of rows) {
        const walker = document.createTreeWalker(row, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (const m of node.textContent.matchAll(/[A-Za-z\u00C0-\u024F]{2,}/g)) {
                const range = document.createRange();
                range.setStart(node, m.index);
                range.setEnd(node, m.index + m[0].length);
                const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
                if (lines.size > 1) broken.push(m[0]);
            }
        }
    }
    return {rows: rows.length, cards: rows.filter(r => getComputedStyle(r).display === 'block').length,
            controls: controls.length, outside, broken};
}"""


@pytest.mark.parametrize(("who", "path"), [("lee", "/meetings"), ("frontdesk", "/clients"), ("owner", "/team"),
                                           ("owner", "/settings"), ("owner", "/meetings")])
def test_tables_are_cards_on_a_phone_with_every_rows_actions_inside_the_screen(
        browser: Browser, stack: Stack, alex_session: int, who: str, path: str) -> None:
    """Issue 23.6: below 600 px one card per row; every action of every row is inside the 390 px
    screen without sideways scrolling, and no word is broken mid-word."""
    page = sign_in_as(_phone(browser), stack, who)
    page.goto(f"{stack.url}{path}")
    _settled(page)
    expect(page.locator(".card-table tbody tr").first).to_be_visible(timeout=20_000)
    found = page.evaluate(_CARD_TABLES, WIDTH)
    assert found["rows"] > 0 and found["cards"] == found["rows"], found
    assert found["controls"] > 0 and found["outside"] == [], found
    assert found["broken"] == [], f"{path} as {who}: words broken across lines: {found['broken']}"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= WIDTH
    expect(page.locator(".card-table thead").first).not_to_be_in_viewport()
    # A row's action is tapped where it is (nothing covers it).
    _assert_reachable(page.locator(".card-table tbody tr").first.locator("a, button").last)


def test_public_pages_fit_a_phone(browser: Browser, stack: Stack) -> None:
    page = _phone(browser)
    for path in PUBLIC_PAGES:
        page.goto(f"{stack.url}{path}")
        expect(page.get_by_role("heading", level=1)).to_be_visible(timeout=20_000)
        page.wait_for_timeout(300)
        _assert_fits(page, path)
    page.goto(f"{stack.url}/login")
    _assert_reachable(page.get_by_role("button", name="Sign in"))


def test_a_skip_link_leads_the_keyboard_to_the_main_content(page: Page, stack: Stack) -> None:
    sign_in_as(page, stack, "owner")
    _settled(page)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("#main-content")).to_be_focused()
    assert page.url.rstrip("/").endswith("/calendar")


def test_focus_returns_to_the_opener_when_a_dialog_closes(page: Page, stack: Stack, zoom_ready) -> None:
    sign_in_as(page, stack, "lee")
    page.goto(f"{stack.url}/meetings")
    _settled(page)
    opener = page.get_by_role("button", name="New meeting")
    for close in ("Escape", "Close"):
        opener.focus()
        page.keyboard.press("Enter")
        dialog = page.get_by_role("dialog")
        expect(dialog.get_by_label("Topic")).to_be_visible()
        if close == "Escape":
            page.keyboard.press("Escape")
        else:
            dialog.get_by_role("button", name="Close").click()
        expect(dialog).to_have_count(0)
        expect(opener).to_be_focused()


def test_every_page_has_a_favicon(page: Page, stack: Stack) -> None:
    assert httpx.get(f"{stack.url}/favicon.ico").status_code == 200
    page.goto(f"{stack.url}/login")
    expect(page.get_by_role("heading", level=1)).to_be_visible(timeout=20_000)
    icons = page.evaluate("() => [...document.querySelectorAll('link[rel~=icon]')].map(l => l.href)")
    assert icons
    for href in icons:
        response = httpx.get(href)
        assert response.status_code == 200 and response.headers["content-type"].startswith("image/"), href


def test_pages_a_client_opens_from_an_email_fit_a_phone_and_a_used_link_says_so(browser: Browser, stack: Stack,
                                                                                forget_bookings: None) -> None:
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from sqlmodel import select

    from rxapp.clock import now
    from rxapp.db import unit_of_work
    from rxapp.models import Client
    from rxapp.services.notify.reminders import links
    from rxapp.services.scheduling.appointments import AppointmentDraft, book_appointments
    from tests.integration.zoom_helpers import principal_of, user_id

    with unit_of_work() as s:
        alex = s.exec(select(Client).where(Client.email == "alex@demo.client")).one()
        alex_id, opted_out = alex.id or 0, alex.email_reminders_opt_out
    start = (now() + timedelta(days=9)).astimezone(ZoneInfo("America/New_York"))
    [visit] = in_thread(lambda: book_appointments(principal_of("frontdesk@demo.clinic"), AppointmentDraft(
        client_id=alex_id, practitioner_id=user_id("dr.lee@demo.clinic"), date=start.date().isoformat(),
        hour="07:10", duration_minutes=50, telehealth=False, timezone="America/New_York", allow_overlap=True)).ids)
    page = _phone(browser)
    try:
        for purpose, token, button, done, used in (
                ("confirm", links.make_token(links.CONFIRM, visit, alex_id), "Confirm", "Appointment confirmed",
                 "Already confirmed"),
                ("stop-email", links.make_token(links.STOP_EMAIL, alex_id, alex_id), "Stop email reminders",
                 "Email reminders stopped", "Email reminders are off")):
            url = f"{stack.url}/r/{purpose}/{token}"
            page.goto(url)
            assert page.locator("meta[name=viewport]").count() == 1
            _assert_fits(page, url)
            press = page.get_by_role("button", name=button)
            _assert_reachable(press)
            press.click()
            expect(page.get_by_role("heading", level=1)).to_have_text(done)
            _assert_fits(page, f"{url} (answered)")
            page.goto(url)  # the same link again: it says so, and there is nothing left to press
            expect(page.get_by_role("heading", level=1)).to_have_text(used)
            expect(page.get_by_role("button")).to_have_count(0)
            _assert_fits(page, f"{url} (used)")
        for path in ("/r/confirm/not-a-token", "/join/not-a-token"):
            page.goto(f"{stack.url}{path}")
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            _assert_fits(page, path)
    finally:
        with unit_of_work() as s:
            s.get(Client, alex_id).email_reminders_opt_out = opted_out  # type: ignore[union-attr]
