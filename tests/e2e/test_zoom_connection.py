"""Issue 4 journey in Chromium: allow Zoom, connect through Zoom's pages, disconnect, lose the
connection by Zoom's action, reconnect; no token ever reaches the browser or the logs."""

from __future__ import annotations

import base64
import hashlib
import secrets

import httpx
from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from rxapp.db import unit_of_work
from rxapp.models import ZoomConnection
from rxapp.services import crypto
from tests.conftest import reset_app_caches
from tests.e2e.conftest import allow_zoom_and_connect_lee, ensure_lee_disconnected, sign_in
from tests.e2e.flows import zoom_sign_in_and_allow
from tests.e2e.stack import Stack


def _connect_from_meeting_tab(page: Page, button: str = "Connect to Zoom") -> None:
    page.get_by_role("button", name=button).click()
    page.get_by_role("button", name="Continue to Zoom").click()
    zoom_sign_in_and_allow(page, "lee@zoom.demo")
    expect(page.locator("#zoom-review-title")).to_have_text("Zoom connected for Dr. Dana Lee", timeout=20_000)
    expect(page.get_by_text("Create meetings for your sessions")).to_be_visible()
    page.get_by_role("link", name="Done").click()
    expect(page.locator("#zoom-status")).to_have_text("Connected")


def _supersede_lee_authorization(stack: Stack) -> None:
    """Another authorization of the same Zoom user (e.g. another system): Zoom kills our tokens (4741)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    redirect = f"{stack.url}/auth/zoom/callback"
    code = stack.zoom("POST", "/authorize", json={
        "email": "lee@zoom.demo", "client_id": "sandbox-client-id", "redirect_uri": redirect, "state": "x",
        "code_challenge": challenge, "code_challenge_method": "S256"})["code"]
    httpx.post(f"{stack.sandbox_url}/oauth/token", auth=("sandbox-client-id", "sandbox-client-secret"),
               data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect,
                     "code_verifier": verifier}).raise_for_status()
    stack.zoom("POST", "/users/lee@zoom.demo/expire-access-tokens")


def _stored_tokens() -> list[str]:
    reset_app_caches()
    with unit_of_work() as s:
        rows = s.exec(select(ZoomConnection)).all()
        return [crypto.decrypt(t) for r in rows for t in (r.access_token_encrypted, r.refresh_token_encrypted)]


def test_owner_allows_zoom_and_lee_connects_loses_and_restores_it(browser: Browser, stack: Stack) -> None:
    ensure_lee_disconnected()
    owner = browser.new_context().new_page()
    sign_in(owner, stack, "owner@demo.clinic", landing="/calendar")
    owner.get_by_role("link", name="Practice settings").click()
    owner.get_by_label("Yes", exact=True).click()
    owner.get_by_role("button", name="Save", exact=True).click()
    expect(owner.locator("#settings-saved")).to_have_text("Saved. Zoom integration is allowed.")

    context = browser.new_context()
    page = context.new_page()
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(str(payload))))
    sign_in(page, stack, "dr.lee@demo.clinic", landing="/calendar")
    page.get_by_role("link", name="My profile").click()
    expect(page.locator("#zoom-status")).to_have_text("Not connected")
    _connect_from_meeting_tab(page)
    seen_tokens = _stored_tokens()

    page.get_by_role("button", name="Disconnect").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Disconnect").click()
    expect(page.locator("#zoom-status")).to_have_text("Not connected")
    _connect_from_meeting_tab(page)
    seen_tokens += _stored_tokens()

    # Zoom ends the grant (a newer authorization of the same Zoom user): the next use fails.
    _supersede_lee_authorization(stack)
    page.get_by_role("button", name="Refresh connection status").click()
    banner = page.locator("#zoom-reconnect-banner")
    expect(banner).to_contain_text("Error refreshing access token")
    expect(page.locator("#zoom-status")).to_have_text("Needs reconnect")
    assert stack.mail_to("dr.lee@demo.clinic", "reconnect your Zoom account")
    banner.get_by_role("button", name="Reconnect").click()
    zoom_sign_in_and_allow(page, "lee@zoom.demo")
    expect(page.locator("#zoom-review-title")).to_have_text("Zoom connected for Dr. Dana Lee", timeout=20_000)
    page.get_by_role("link", name="Done").click()
    expect(page.locator("#zoom-status")).to_have_text("Connected")
    expect(page.locator("#zoom-reconnect-banner")).to_have_count(0)
    seen_tokens += _stored_tokens()

    # Zoom's side: the app is removed from the account (app_deauthorized, signed webhook).
    stack.zoom("POST", "/users/lee@zoom.demo/revoke")
    page.reload()
    expect(page.locator("#zoom-status")).to_have_text("Not connected", timeout=15_000)
    expect(page.locator("#zoom-notice")).to_contain_text("removed from your Zoom account")

    assert seen_tokens and frames
    leaked = [t for t in seen_tokens if any(t in f for f in frames)]
    assert leaked == [], "a Zoom token reached the browser"
    log = stack.log.read_text() if stack.log else ""
    assert not [t for t in seen_tokens if t in log], "a Zoom token was written to the app log"
    context.close()


def test_practitioners_see_why_they_cannot_connect_while_zoom_is_not_allowed(browser: Browser, stack: Stack) -> None:
    owner = browser.new_context().new_page()
    sign_in(owner, stack, "owner@demo.clinic", landing="/calendar")
    owner.goto(f"{stack.url}/settings")
    owner.get_by_label("No", exact=True).click()
    owner.get_by_role("button", name="Save", exact=True).click()
    expect(owner.locator("#settings-saved")).to_have_text("Saved. Zoom integration is not allowed.")
    patel = browser.new_context().new_page()
    sign_in(patel, stack, "dr.patel@demo.clinic", landing="/calendar")
    patel.goto(f"{stack.url}/profile")
    expect(patel.locator("#zoom-not-allowed")).to_be_visible()
    expect(patel.get_by_role("button", name="Connect to Zoom")).to_have_count(0)
    owner.get_by_label("Yes", exact=True).click()
    owner.get_by_role("button", name="Save", exact=True).click()
    expect(owner.locator("#settings-saved")).to_have_text("Saved. Zoom integration is allowed.")


def test_a_zoom_account_held_by_a_colleague_is_refused_on_the_review_page(browser: Browser, stack: Stack) -> None:
    allow_zoom_and_connect_lee(stack)
    page = browser.new_context().new_page()
    sign_in(page, stack, "dr.patel@demo.clinic", landing="/calendar")
    page.goto(f"{stack.url}/profile")
    expect(page.locator("#zoom-status")).to_have_text("Not connected")
    page.get_by_role("button", name="Connect to Zoom").click()
    page.get_by_role("button", name="Continue to Zoom").click()
    zoom_sign_in_and_allow(page, "lee@zoom.demo")
    expect(page.locator("#zoom-review-title")).to_have_text("Zoom was not connected", timeout=20_000)
    expect(page.get_by_text("This Zoom account is already connected for Dr. Dana Lee")).to_be_visible()
    page.get_by_role("link", name="Done").click()
    expect(page.locator("#zoom-status")).to_have_text("Not connected")
