"""OAuth: pages, PKCE, code reuse and expiry, rotation, re-authorization, revocation."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlparse

from .conftest import REDIRECT, Receiver, Zoom, pkce_pair


def _authorize_params(zoom: Zoom, **extra: str) -> dict[str, str]:
    return {"response_type": "code", "client_id": zoom.config.client_id, "redirect_uri": REDIRECT,
            "state": "xyz", **extra}


def _hidden_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def test_sign_in_and_consent_pages_redirect_with_code_and_state(zoom: Zoom) -> None:
    page = zoom.http.get("/oauth/authorize", params=_authorize_params(zoom))
    assert page.status_code == 200
    for text in ('<label for="email">Email</label>', '<label for="password">Password</label>',
                 ">Sign In</button>", "lee@zoom.demo", "patel@zoom.demo", "basic@zoom.demo", "zoom-demo"):
        assert text in page.text
    fields = _hidden_fields(page.text)
    wrong = zoom.http.post("/oauth/signin", data={**fields, "email": "lee@zoom.demo", "password": "nope"})
    assert wrong.status_code == 400 and "Incorrect email or password" in wrong.text
    consent = zoom.http.post("/oauth/signin", data={**fields, "email": "lee@zoom.demo", "password": "zoom-demo"})
    assert consent.status_code == 200 and ">Allow</button>" in consent.text and ">Decline</button>" in consent.text
    assert "meeting:write:meeting" in consent.text
    allowed = zoom.http.post("/oauth/consent", data={**_hidden_fields(consent.text), "decision": "allow"})
    assert allowed.status_code == 302
    location = urlparse(allowed.headers["location"])
    query = parse_qs(location.query)
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    assert query["state"] == ["xyz"]
    assert zoom.exchange(query["code"][0]).status_code == 200


def test_decline_redirects_with_access_denied(zoom: Zoom) -> None:
    page = zoom.http.get("/oauth/authorize", params=_authorize_params(zoom))
    consent = zoom.http.post("/oauth/signin", data={**_hidden_fields(page.text), "email": "patel@zoom.demo",
                                                    "password": "zoom-demo"})
    declined = zoom.http.post("/oauth/consent", data={**_hidden_fields(consent.text), "decision": "decline"})
    assert declined.status_code == 302
    query = parse_qs(urlparse(declined.headers["location"]).query)
    assert query == {"error": ["access_denied"], "state": ["xyz"]}


def test_authorize_rejects_unknown_redirect_and_client(zoom: Zoom) -> None:
    bad_redirect = zoom.http.get("/oauth/authorize", params=_authorize_params(zoom, redirect_uri="http://evil/cb"))
    assert bad_redirect.status_code == 400 and "4709" in bad_redirect.text
    bad_client = zoom.http.get("/oauth/authorize", params=_authorize_params(zoom, client_id="other"))
    assert bad_client.status_code == 400 and "client_id" in bad_client.text


def test_token_response_shape(zoom: Zoom) -> None:
    tokens = zoom.connect()
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 3599
    assert tokens["api_url"] == zoom.sandbox.base_url
    assert "meeting:write:meeting" in tokens["scope"].split()
    assert tokens["access_token"] != tokens["refresh_token"]


def test_access_token_ttl_is_configurable(make_sandbox: Callable[..., Zoom]) -> None:
    other = make_sandbox(access_token_ttl=60)
    assert other.connect()["expires_in"] == 60


def test_pkce_s256_and_plain(zoom: Zoom) -> None:
    for method in ("S256", "plain"):
        verifier, challenge = pkce_pair(method)
        extra = {"code_challenge": challenge, "code_challenge_method": method}
        assert zoom.exchange(zoom.code(**extra), code_verifier=verifier).status_code == 200
        wrong = zoom.exchange(zoom.code(**extra), code_verifier=verifier + "x")
        assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_request"
        missing = zoom.exchange(zoom.code(**extra))
        assert missing.status_code == 400


def test_code_is_single_use(zoom: Zoom) -> None:
    code = zoom.code()
    assert zoom.exchange(code).status_code == 200
    again = zoom.exchange(code)
    assert again.status_code == 400
    assert again.json() == {"reason": "Invalid authorization code", "error": "invalid_request"}


def test_code_expires_after_five_minutes(zoom: Zoom) -> None:
    code = zoom.code()
    zoom.control("POST", "/clock/advance", json={"seconds": 301})
    expired = zoom.exchange(code)
    assert expired.status_code == 400
    assert expired.json()["reason"] == "Authorization code is expired"
    fresh = zoom.code()
    zoom.control("POST", "/clock/advance", json={"seconds": 299})
    assert zoom.exchange(fresh).status_code == 200


def test_token_errors_as_zoom(zoom: Zoom) -> None:
    wrong_secret = zoom.token({"grant_type": "authorization_code", "code": zoom.code(), "redirect_uri": REDIRECT},
                              auth=(zoom.config.client_id, "wrong"))
    assert wrong_secret.status_code == 401
    assert wrong_secret.json() == {"reason": "Invalid client_id or client_secret", "error": "invalid_client"}
    no_auth = zoom.http.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": "x"})
    assert no_auth.status_code == 401
    mismatch = zoom.exchange(zoom.code(), redirect_uri="http://127.0.0.1:9/other")
    assert mismatch.status_code == 400
    assert mismatch.json() == {"reason": "Redirect URI mismatch.", "error": "invalid_request"}
    unsupported = zoom.token({"grant_type": "password"})
    assert unsupported.status_code == 400
    assert unsupported.json() == {"reason": "Unsupported grant type", "error": "unsupported_grant_type"}
    bad_code = zoom.exchange("not-a-code")
    assert bad_code.status_code == 400 and bad_code.json()["reason"] == "Invalid authorization code"


def test_refresh_rotates_without_grace(zoom: Zoom) -> None:
    first = zoom.connect()
    second = zoom.refresh(first["refresh_token"])
    assert second.status_code == 200
    new = second.json()
    assert new["refresh_token"] != first["refresh_token"]
    assert new["expires_in"] == 3599 and new["api_url"] == zoom.sandbox.base_url
    reused = zoom.refresh(first["refresh_token"])
    assert reused.status_code == 400
    assert reused.json() == {"reason": "Invalid Token!", "error": "invalid_grant"}
    assert zoom.refresh(new["refresh_token"]).status_code == 200
    stats = zoom.control("GET", "/stats").json()["calls"]
    assert stats["token.refresh_token"] == 3 and stats["token.authorization_code"] == 1


def test_refresh_token_expires_after_90_days_of_sandbox_time(zoom: Zoom) -> None:
    tokens = zoom.connect()
    zoom.control("POST", "/clock/advance", json={"seconds": 89 * 86400})
    renewed = zoom.refresh(tokens["refresh_token"])
    assert renewed.status_code == 200  # still inside its lifetime; the new one lives 90 days from now
    zoom.control("POST", "/clock/advance", json={"seconds": 90 * 86400 + 1})
    expired = zoom.refresh(renewed.json()["refresh_token"])
    assert expired.status_code == 400 and expired.json() == {"reason": "Invalid Token!", "error": "invalid_grant"}
    revoke = zoom.http.post("/oauth/revoke", data={"token": renewed.json()["refresh_token"]},
                            auth=(zoom.config.client_id, zoom.config.client_secret))
    assert revoke.status_code == 400


def test_refresh_token_lifetime_is_configurable(make_sandbox: Callable[..., Zoom]) -> None:
    zoom = make_sandbox(refresh_token_ttl=100)
    tokens = zoom.connect()
    zoom.control("POST", "/clock/advance", json={"seconds": 99})
    assert zoom.refresh(tokens["refresh_token"]).status_code == 200
    other = zoom.connect("patel@zoom.demo")
    zoom.control("POST", "/clock/advance", json={"seconds": 100})
    assert zoom.refresh(other["refresh_token"]).status_code == 400


def test_newer_authorization_revokes_older_tokens(zoom: Zoom) -> None:
    old = zoom.connect("patel@zoom.demo")
    new = zoom.connect("patel@zoom.demo")
    revoked = zoom.refresh(old["refresh_token"])
    assert revoked.status_code == 400
    assert revoked.json() == {"reason": "The token has been revoked", "error": "invalid_grant"}
    dead = zoom.api("GET", "/users/me", old["access_token"])
    assert dead.status_code == 401 and dead.json()["code"] == 124
    assert zoom.api("GET", "/users/me", new["access_token"]).status_code == 200
    # Another user's connection is untouched.
    other = zoom.connect("lee@zoom.demo")
    assert zoom.api("GET", "/users/me", new["access_token"]).status_code == 200
    assert zoom.api("GET", "/users/me", other["access_token"]).json()["email"] == "lee@zoom.demo"


def test_revoke_answers_success_and_fires_app_deauthorized(zoom: Zoom, receiver: Receiver) -> None:
    tokens = zoom.connect("lee@zoom.demo")
    response = zoom.http.post("/oauth/revoke", data={"token": tokens["access_token"]},
                              auth=(zoom.config.client_id, zoom.config.client_secret))
    assert response.status_code == 200 and response.json() == {"status": "success"}
    assert zoom.api("GET", "/users/me", tokens["access_token"]).status_code == 401
    assert zoom.refresh(tokens["refresh_token"]).status_code == 400
    event = receiver.wait_for("app_deauthorized")[0].json
    me = zoom.control("GET", "/users").json()["users"][0]
    assert event["payload"]["user_id"] == me["id"] and event["payload"]["account_id"] == me["account_id"]
    assert event["payload"]["client_id"] == zoom.config.client_id
    again = zoom.http.post("/oauth/revoke", data={"token": tokens["access_token"]},
                           auth=(zoom.config.client_id, zoom.config.client_secret))
    assert again.status_code == 400
    wrong = zoom.http.post("/oauth/revoke", data={"token": "x"}, auth=(zoom.config.client_id, "bad"))
    assert wrong.status_code == 401


def test_expired_access_token_answers_124(zoom: Zoom) -> None:
    tokens = zoom.connect()
    zoom.control("POST", "/clock/advance", json={"seconds": 3600})
    expired = zoom.api("GET", "/users/me", tokens["access_token"])
    assert expired.status_code == 401
    assert expired.json() == {"code": 124, "message": "Access token is expired."}
    refreshed = zoom.refresh(tokens["refresh_token"]).json()
    assert zoom.api("GET", "/users/me", refreshed["access_token"]).status_code == 200
    invalid = zoom.api("GET", "/users/me", "garbage")
    assert invalid.status_code == 401 and invalid.json()["code"] == 124


def test_control_expires_and_revokes_a_users_tokens(zoom: Zoom, receiver: Receiver) -> None:
    tokens = zoom.connect("basic@zoom.demo")
    assert zoom.control("POST", "/users/basic@zoom.demo/expire-access-tokens").json() == {"expired": 1}
    assert zoom.api("GET", "/users/me", tokens["access_token"]).json()["code"] == 124
    refreshed = zoom.refresh(tokens["refresh_token"]).json()
    assert zoom.control("POST", "/users/basic@zoom.demo/revoke").json() == {"revoked": True}
    assert zoom.api("GET", "/users/me", refreshed["access_token"]).status_code == 401
    assert zoom.refresh(refreshed["refresh_token"]).status_code == 400
    receiver.wait_for("app_deauthorized")


def test_scopes_are_granted_as_asked_and_enforced(zoom: Zoom) -> None:
    tokens = zoom.connect(scope="user:read:user meeting:read:meeting unknown:scope")
    assert tokens["scope"] == "user:read:user meeting:read:meeting"
    assert zoom.api("GET", "/users/me", tokens["access_token"]).status_code == 200
    denied = zoom.api("POST", "/users/me/meetings", tokens["access_token"], json={"topic": "x"})
    assert denied.status_code == 400
    assert denied.json()["code"] == 4711
    assert denied.json()["message"].startswith("Invalid access token, does not contain scopes:[meeting:write:meeting")
    settings = zoom.api("GET", "/users/me/settings", tokens["access_token"])
    assert settings.status_code == 400 and settings.json()["code"] == 4711


def test_classic_scopes_are_equivalent(zoom: Zoom) -> None:
    tokens = zoom.connect(scope="user:read meeting:write")
    token = tokens["access_token"]
    meeting = zoom.create(token)
    assert zoom.api("GET", f"/meetings/{meeting['id']}", token).status_code == 200
    assert zoom.api("DELETE", f"/meetings/{meeting['id']}", token).status_code == 204
    assert zoom.api("GET", "/users/me/settings", token).status_code == 200
