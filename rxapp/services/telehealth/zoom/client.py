"""The Zoom REST client: one method per Zoom call, typed results, Zoom's errors mapped.

Endpoints: https://developers.zoom.us/docs/api/meetings/ and /users/ (a user-managed app
uses `me` as the user id). Tokens come from `tokens.py`; this module never refreshes.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import httpx

from rxapp.services.telehealth.zoom.errors import (
    ZoomAccessTokenInvalid,
    ZoomError,
    ZoomMeetingNotFound,
    ZoomRateLimited,
    ZoomRejected,
    ZoomUnavailable,
)
from rxapp.settings import get_settings


@lru_cache(maxsize=1)
def tls_context() -> ssl.SSLContext:
    """One TLS context for every Zoom call: loading the CA bundle costs tens of milliseconds of
    CPU, which a new httpx client would otherwise spend on the event loop each time."""
    return httpx.create_ssl_context()


def _new_http_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=get_settings().zoom_http_timeout_seconds, verify=tls_context())


async def http_client() -> httpx.AsyncClient:
    """An HTTP client for Zoom calls, built off the event loop (use it with `async with`)."""
    return await asyncio.to_thread(_new_http_client)


@dataclass(frozen=True)
class ZoomUser:
    id: str
    account_id: str
    timezone: str
    type: int


@dataclass(frozen=True)
class PasscodeRules:
    """`schedule_meeting.meeting_password_requirement` of the user's settings."""

    length: int = 6
    have_letter: bool = False
    have_number: bool = False
    have_special_character: bool = False
    only_allow_numeric: bool = False
    have_upper_and_lower_characters: bool = False
    consecutive_characters_length: int = 0


@dataclass(frozen=True)
class ZoomMeeting:
    id: int
    uuid: str
    host_id: str
    topic: str
    start_time: str
    duration: int
    timezone: str
    join_url: str
    start_url: str
    password: str
    status: str
    agenda: str = ""


def _meeting(body: dict[str, Any]) -> ZoomMeeting:
    return ZoomMeeting(id=int(body["id"]), uuid=str(body.get("uuid", "")), host_id=str(body.get("host_id", "")),
                       topic=str(body.get("topic", "")), start_time=str(body.get("start_time", "")),
                       duration=int(body.get("duration") or 0), timezone=str(body.get("timezone", "")),
                       join_url=str(body.get("join_url", "")), start_url=str(body.get("start_url", "")),
                       password=str(body.get("password", "")), status=str(body.get("status", "")),
                       agenda=str(body.get("agenda", "")))


def raise_for_zoom_error(response: httpx.Response) -> None:
    """Map a non-2xx answer to a domain error; an unparsable body (XML, HTML) keeps its status."""
    if response.is_success:
        return
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    code = body.get("code") if isinstance(body, dict) else None
    message = str(body.get("message")) if isinstance(body, dict) and body.get("message") else \
        f"Zoom answered {status} {response.reason_phrase}".strip()
    if status == 429:
        retry = response.headers.get("Retry-After")
        daily = response.headers.get("X-RateLimit-Type", "").lower().startswith("daily") or "daily" in message
        raise ZoomRateLimited(message, retry_after=float(retry) if retry and retry.isdigit() else None, daily=daily)
    if status >= 500 or body is None:
        raise ZoomUnavailable(message, status=status, code=code)
    if status == 401 and code in (124, None):
        raise ZoomAccessTokenInvalid(message, status=status, code=code)
    if status == 404 and code in (3001, 1001):
        raise ZoomMeetingNotFound(message, status=status, code=code)
    raise ZoomRejected(message, status=status, code=code)


class ZoomApi:
    """Calls made with one access token. Create it per use; it holds no state of its own."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, access_token: str) -> None:
        self._http, self._base, self._token = http, base_url.rstrip("/"), access_token

    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._http.request(method, f"{self._base}{path}",
                                                headers={"Authorization": f"Bearer {self._token}"}, **kwargs)
        except httpx.TimeoutException as exc:
            raise ZoomUnavailable("Zoom did not answer in time") from exc
        except httpx.TransportError as exc:
            raise ZoomUnavailable(f"Zoom could not be reached ({type(exc).__name__})") from exc
        raise_for_zoom_error(response)
        return response

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError as exc:
            raise ZoomUnavailable("Zoom sent an unreadable answer", status=response.status_code) from exc
        if not isinstance(body, dict):
            raise ZoomUnavailable("Zoom sent an unexpected answer", status=response.status_code)
        return body

    async def get_me(self) -> ZoomUser:
        """GET /users/me (scope user:read:user)."""
        body = self._json(await self._call("GET", "/users/me"))
        return ZoomUser(id=str(body["id"]), account_id=str(body.get("account_id", "")),
                        timezone=str(body.get("timezone", "")), type=int(body.get("type") or 0))

    async def get_passcode_rules(self) -> PasscodeRules:
        """GET /users/me/settings -> schedule_meeting.meeting_password_requirement."""
        body = self._json(await self._call("GET", "/users/me/settings"))
        req = (body.get("schedule_meeting") or {}).get("meeting_password_requirement") or {}
        fields = PasscodeRules.__dataclass_fields__
        return PasscodeRules(**{k: v for k, v in req.items() if k in fields and v is not None})

    async def create_meeting(self, payload: dict[str, Any]) -> ZoomMeeting:
        """POST /users/me/meetings -> 201 with the meeting."""
        return _meeting(self._json(await self._call("POST", "/users/me/meetings", json=payload)))

    async def get_meeting(self, meeting_id: int) -> ZoomMeeting:
        """GET /meetings/{id}: also the way to a fresh start_url (they expire after ~2 hours)."""
        return _meeting(self._json(await self._call("GET", f"/meetings/{meeting_id}")))

    async def update_meeting(self, meeting_id: int, payload: dict[str, Any]) -> None:
        """PATCH /meetings/{id} -> 204; the join link stays the same."""
        await self._call("PATCH", f"/meetings/{meeting_id}", json=payload)

    async def delete_meeting(self, meeting_id: int) -> None:
        """DELETE /meetings/{id} -> 204; Zoom refuses (3002) while it is in progress."""
        await self._call("DELETE", f"/meetings/{meeting_id}",
                         params={"schedule_for_reminder": "false", "cancel_meeting_reminder": "false"})

    async def end_meeting(self, meeting_id: int) -> None:
        """PUT /meetings/{id}/status {"action": "end"} -> 204."""
        await self._call("PUT", f"/meetings/{meeting_id}/status", json={"action": "end"})

    async def list_meetings(self, kind: str = "upcoming") -> list[ZoomMeeting]:
        """GET /users/me/meetings, every page."""
        meetings: list[ZoomMeeting] = []
        params: dict[str, Any] = {"type": kind, "page_size": 300}
        while True:
            body = self._json(await self._call("GET", "/users/me/meetings", params=params))
            meetings.extend(_meeting({**m, "join_url": m.get("join_url", ""), "start_url": ""})
                            for m in body.get("meetings") or [])
            token = body.get("next_page_token")
            if not token:
                return meetings
            params = {**params, "next_page_token": token}


__all__ = ["PasscodeRules", "ZoomApi", "ZoomError", "ZoomMeeting", "ZoomUser", "raise_for_zoom_error"]
