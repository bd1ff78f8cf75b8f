"""The pages run under the Content-Security-Policy, and carry the other security headers."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in
from tests.e2e.stack import Stack

_LISTEN = ("window.__csp = []; document.addEventListener('securitypolicyviolation', "
           "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));")


def _headers_are_set(headers: dict[str, str]) -> None:
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"


def test_pages_and_api_routes_carry_the_security_headers(page: Page, stack: Stack) -> None:
    for path in ("/login/", "/api/health"):
        response = page.request.get(f"{stack.url}{path}")
        assert response.ok, path
        _headers_are_set(response.headers)


def test_the_main_pages_break_no_rule_of_the_content_security_policy(page: Page, stack: Stack) -> None:
    reported: list[str] = []
    page.on("console", lambda m: reported.append(m.text) if "Content Security Policy" in m.text else None)
    page.add_init_script(_LISTEN)

    def visit(path: str, heading: str) -> None:
        response = page.goto(f"{stack.url}{path}")
        assert response is not None and "content-security-policy" in response.headers
        expect(page.get_by_role("heading", name=heading).first).to_be_visible()
        reported.extend(page.evaluate("window.__csp"))

    visit("/login", "Sign in")
    sign_in(page, stack, "owner@demo.clinic", landing="/calendar")  # the ticket's form POST and its redirect
    reported.extend(page.evaluate("window.__csp"))
    for path, heading in (("/meetings", "Meetings"), ("/clients", "Clients"), ("/settings", "Practice settings"),
                          ("/team", "Team"), ("/dev/mail", "Caught mail")):
        visit(path, heading)
    page.get_by_role("button", name="Sign out").click()  # rx.call_script (eval) and the sign-out form POST
    expect(page).to_have_url(re.compile(r"/login/?\?signed_out=1$"))
    reported.extend(page.evaluate("window.__csp"))
    sign_in(page, stack, "alex@demo.client", landing="/portal")
    visit("/portal", "My sessions")
    assert reported == []
