"""No state-changing GET, no cross-site POST, and the security headers on every response."""

from __future__ import annotations

import base64
import gzip
import hashlib

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from rxapp import api
from rxapp.dev import demo_data
from rxapp.services.identity import auth
from rxapp.settings import get_settings
from rxapp.web_security import SecurityHeaders

APP = "http://localhost:3000"
EVIL = {"origin": "https://evil.example", "sec-fetch-site": "cross-site"}
OWN = {"origin": APP, "sec-fetch-site": "same-origin"}


@pytest.fixture
def client(demo, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setenv("APP_URL", APP)
    get_settings.cache_clear()
    return TestClient(api.build(), base_url=APP, follow_redirects=False)


def _ticket() -> str:
    return auth.check_password("dr.lee@demo.clinic", demo_data.DEMO_PASSWORD)


def _session_cookie(response) -> str | None:
    return response.cookies.get(get_settings().session_cookie_name)


def test_a_cross_site_link_to_the_ticket_route_does_nothing(client: TestClient) -> None:
    ticket = _ticket()
    response = client.get(f"/auth/session?ticket={ticket}&next=/meetings", headers=EVIL)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert _session_cookie(response) is None
    assert auth.redeem_ticket(ticket) is not None  # still unused


def test_a_ticket_posted_from_another_site_is_refused(client: TestClient) -> None:
    ticket = _ticket()
    response = client.post("/auth/session", data={"ticket": ticket}, headers=EVIL)
    assert response.status_code == 403 and _session_cookie(response) is None
    no_origin = client.post("/auth/session", data={"ticket": ticket}, headers={"sec-fetch-site": "cross-site"})
    assert no_origin.status_code == 403
    assert auth.redeem_ticket(ticket) is not None


def test_the_apps_own_form_post_signs_in(client: TestClient) -> None:
    response = client.post("/auth/session", data={"ticket": _ticket(), "next": "/meetings"}, headers=OWN)
    assert response.status_code == 303 and response.headers["location"] == "/meetings"
    assert auth.principal_for_token(_session_cookie(response)) is not None


def _signed_in() -> str:
    new = auth.redeem_ticket(_ticket())
    assert new is not None
    return new.token


def test_a_cross_site_link_or_post_does_not_sign_out(client: TestClient) -> None:
    token = _signed_in()
    client.cookies.set(get_settings().session_cookie_name, token)
    assert client.get("/auth/signed-out", headers=EVIL).status_code == 303
    assert client.post("/auth/signed-out", headers=EVIL).status_code == 403
    assert auth.principal_for_token(token) is not None
    response = client.post("/auth/signed-out", headers=OWN)
    assert response.status_code == 303 and response.headers["location"] == "/login?signed_out=1"
    assert auth.principal_for_token(token) is None


def test_an_api_route_carries_the_security_headers(client: TestClient) -> None:
    headers = client.get("/api/health").headers
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "strict-transport-security" not in headers


def test_https_adds_hsts(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_URL", "https://clinic.example")
    get_settings.cache_clear()
    assert client.get("/api/health").headers["strict-transport-security"].startswith("max-age=")


def test_behind_the_https_proxy_the_app_builds_https_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    """The proxy speaks plain http to the app; a redirect the server builds (the frontend's trailing
    slash) must still say https, or the browser refuses it after a form POST (form-action 'self')."""
    from starlette.applications import Starlette
    from starlette.responses import RedirectResponse
    from starlette.routing import Route

    from rxapp.web_security import SecurityHeaders

    async def slash(request):  # what StaticFiles(html=True) does for a directory without its slash
        return RedirectResponse(str(request.url.replace(path="/welcome/")), status_code=307)

    app = SecurityHeaders(Starlette(routes=[Route("/welcome", slash)]))
    monkeypatch.setenv("APP_URL", "https://clinic.example")
    get_settings.cache_clear()
    answer = TestClient(app, base_url="http://clinic.example").get("/welcome", follow_redirects=False)
    assert answer.headers["location"] == "https://clinic.example/welcome/"
    monkeypatch.setenv("APP_URL", "http://localhost:3000")
    get_settings.cache_clear()
    answer = TestClient(app, base_url="http://localhost:3000").get("/welcome", follow_redirects=False)
    assert answer.headers["location"] == "http://localhost:3000/welcome/"


def test_the_client_address_behind_trusted_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    from starlette.requests import Request

    from rxapp.api import _address

    def request(forwarded: str) -> Request:
        return Request({"type": "http", "client": ("10.0.0.2", 5000), "headers": [
            (b"x-forwarded-for", forwarded.encode())] if forwarded else []})

    monkeypatch.delenv("REFLEX_TRUSTED_PROXY_HOPS", raising=False)
    assert _address(request("6.6.6.6")) == "10.0.0.2"  # no proxy trusted: the header is anyone's to write
    monkeypatch.setenv("REFLEX_TRUSTED_PROXY_HOPS", "1")
    assert _address(request("6.6.6.6, 203.0.113.9")) == "203.0.113.9"  # the proxy's entry, not the forged one
    assert _address(request("")) == "10.0.0.2"


PAGE = b"<!doctype html><html><head><script>window.boot = 1;</script><script src='/a.js'></script></head></html>"


def _html_app(body: bytes, **headers: str) -> TestClient:
    async def page(_):
        return Response(body, media_type="text/html", headers=headers)

    return TestClient(Starlette(routes=[Route("/", page)], middleware=[Middleware(SecurityHeaders)]))


@pytest.mark.parametrize("compressed", [False, True])
def test_a_page_may_run_exactly_its_own_inline_scripts(sqlite_database: str, compressed: bool) -> None:
    body = gzip.compress(PAGE) if compressed else PAGE
    extra = {"content-encoding": "gzip"} if compressed else {}
    policy = _html_app(body, **extra).get("/").headers["content-security-policy"]
    digest = base64.b64encode(hashlib.sha256(b"window.boot = 1;").digest()).decode()
    script_src = next(p for p in policy.split(";") if p.strip().startswith("script-src"))
    assert script_src.split() == ["script-src", "'self'", "'unsafe-eval'", f"'sha256-{digest}'"]


def test_a_page_the_server_sends_as_a_file_gets_its_hashes_too(sqlite_database: str, tmp_path) -> None:
    """Granian sends static files with the `http.response.pathsend` extension, not body messages."""
    import asyncio

    page = tmp_path / "login.html"
    page.write_bytes(PAGE)
    sent: list[dict] = []

    async def static_file(scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
        await send({"type": "http.response.pathsend", "path": str(page)})

    async def collect(message: dict) -> None:
        sent.append(message)

    asyncio.run(SecurityHeaders(static_file)({"type": "http", "headers": []}, None, collect))
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.pathsend"]
    policy = dict(sent[0]["headers"])[b"content-security-policy"].decode()
    assert base64.b64encode(hashlib.sha256(b"window.boot = 1;").digest()).decode() in policy
