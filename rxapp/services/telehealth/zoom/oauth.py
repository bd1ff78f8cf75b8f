"""Zoom OAuth (user-managed app) through Authlib: authorize URL with PKCE S256, code exchange,
refresh, revoke. https://developers.zoom.us/docs/integrations/oauth/"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client

from rxapp.clock import now
from rxapp.services.telehealth.zoom.client import http_client, tls_context
from rxapp.services.telehealth.zoom.errors import ZoomNeedsReconnect, ZoomRejected, ZoomUnavailable
from rxapp.settings import get_settings

# What each granted scope lets the app do, in the words the review page uses.
SCOPE_DESCRIPTIONS: dict[str, str] = {
    "user:read:user": "See your Zoom user id and account id",
    "user:read:settings": "Read your meeting passcode rules",
    "meeting:read:meeting": "Read the meetings it created",
    "meeting:write:meeting": "Create meetings for your sessions",
    "meeting:update:meeting": "Move meetings when sessions are rescheduled",
    "meeting:delete:meeting": "Delete meetings of cancelled sessions",
    "meeting:update:status": "End meetings when you end a session",
    "meeting:read:list_meetings": "List your upcoming meetings",
}


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str
    expires_at: datetime
    scope: str
    api_url: str


def _keep_zoom_reason(response: httpx.Response) -> httpx.Response:
    """Zoom explains errors in `reason`; copy it where Authlib looks (`error_description`)."""
    try:
        body = response.json()
    except ValueError:
        return response
    if isinstance(body, dict) and body.get("reason") and not body.get("error_description"):
        return httpx.Response(response.status_code, json={**body, "error_description": body["reason"]},
                              request=response.request)
    return response


def _client() -> AsyncOAuth2Client:
    settings = get_settings()
    client = AsyncOAuth2Client(client_id=settings.zoom_client_id, client_secret=settings.zoom_client_secret,
                               token_endpoint_auth_method="client_secret_basic", code_challenge_method="S256",
                               redirect_uri=settings.zoom_callback_url,
                               timeout=settings.zoom_http_timeout_seconds, verify=tls_context())
    client.register_compliance_hook("access_token_response", _keep_zoom_reason)
    client.register_compliance_hook("refresh_token_response", _keep_zoom_reason)
    return client


def _url(path: str) -> str:
    return f"{get_settings().zoom_oauth_base_url.rstrip('/')}{path}"


def authorization_url(state: str, code_verifier: str) -> str:
    """Where to send the browser: Zoom's sign-in and consent, coming back with `code` and `state`."""
    url, _ = _client().create_authorization_url(_url("/oauth/authorize"), state=state, code_verifier=code_verifier)
    return url


def _token_set(token: dict) -> TokenSet:
    return TokenSet(access_token=token["access_token"], refresh_token=token["refresh_token"],
                    expires_at=now() + timedelta(seconds=int(token.get("expires_in") or 3599)),
                    scope=str(token.get("scope", "")), api_url=str(token.get("api_url", "")))


async def _token_call(coro_factory: Callable[[AsyncOAuth2Client], Awaitable[dict]]) -> dict:
    try:
        async with await asyncio.to_thread(_client) as client:  # built off the event loop
            return await coro_factory(client)
    except OAuthError as exc:
        raise _oauth_error(exc) from exc
    except httpx.TimeoutException as exc:
        raise ZoomUnavailable("Zoom did not answer in time") from exc
    except httpx.HTTPStatusError as exc:
        raise ZoomUnavailable(f"Zoom answered {exc.response.status_code}", status=exc.response.status_code) from exc
    except httpx.TransportError as exc:
        raise ZoomUnavailable(f"Zoom could not be reached ({type(exc).__name__})") from exc


def _oauth_error(exc: OAuthError) -> Exception:
    reason = exc.description or exc.error or "refused"
    if exc.error == "invalid_grant":
        return ZoomNeedsReconnect(reason)
    return ZoomRejected(reason, status=400)


async def exchange_code(code: str, code_verifier: str) -> TokenSet:
    """Trade the authorization code (single use, 5 minutes) for tokens."""
    token = await _token_call(lambda c: c.fetch_token(_url("/oauth/token"), grant_type="authorization_code",
                                                      code=code, code_verifier=code_verifier))
    return _token_set(token)


async def refresh(refresh_token: str) -> TokenSet:
    """Rotate the pair. Raises `ZoomNeedsReconnect` when Zoom refuses the refresh token
    (used already, revoked, or replaced by a newer authorization) and `ZoomUnavailable`
    when Zoom cannot answer, in which case the stored pair is still the valid one."""
    token = await _token_call(lambda c: c.refresh_token(_url("/oauth/token"), refresh_token=refresh_token))
    return _token_set(token)


async def revoke(token: str) -> None:
    """Revoke the grant at Zoom (Zoom then sends app_deauthorized)."""
    settings = get_settings()
    try:
        async with await http_client() as http:
            response = await http.post(_url("/oauth/revoke"), data={"token": token},
                                       auth=(settings.zoom_client_id, settings.zoom_client_secret))
    except httpx.HTTPError as exc:
        raise ZoomUnavailable(f"Zoom could not be reached ({type(exc).__name__})") from exc
    if response.status_code >= 500:
        raise ZoomUnavailable(f"Zoom answered {response.status_code}", status=response.status_code)
    if not response.is_success:
        raise ZoomRejected(f"Zoom refused to revoke ({response.status_code})", status=response.status_code)
