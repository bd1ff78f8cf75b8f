"""Error bodies as Zoom answers them, and the bodies of injected faults.

Zoom's REST errors are `{"code": N, "message": "..."}`; its OAuth errors are
`{"reason": "...", "error": "..."}`; its gateways sometimes answer HTML or XML.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from starlette.responses import JSONResponse, Response

QPS_MESSAGE = "You have reached the maximum per-second rate limit for this API. Try again later."


def daily_message(limit: int) -> str:
    return (
        f"You have exceeded the daily rate limit ({limit}) of Meeting Create/Update API requests "
        "permitted for this particular user. You may resume these requests at GMT 00:00:00."
    )


def zoom_error(status: int, code: int, message: str, *, errors: list[dict[str, str]] | None = None,
               headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, headers=headers)


def oauth_error(status: int, reason: str, error: str) -> JSONResponse:
    return JSONResponse({"reason": reason, "error": error}, status_code=status)


@dataclass(frozen=True)
class RateLimits:
    """What a 429 of one operation reports: its documented category, the limits, the daily reset."""

    category: str  # X-RateLimit-Category as Zoom's document labels the operation: Light, Medium, ...
    qps: int
    daily_limit: int
    daily_reset: float  # epoch seconds of the next 00:00 UTC (sandbox clock)


def qps_limited(limits: RateLimits) -> JSONResponse:
    return zoom_error(429, 429, QPS_MESSAGE, headers={
        "Retry-After": "1", "X-RateLimit-Category": limits.category, "X-RateLimit-Type": "QPS",
        "X-RateLimit-Limit": str(limits.qps), "X-RateLimit-Remaining": "0",
    })


def daily_limited(limits: RateLimits) -> JSONResponse:
    """The daily create/update limit: Retry-After is the HTTP date of the next 00:00 UTC."""
    reset = datetime.fromtimestamp(limits.daily_reset, UTC)
    return zoom_error(429, 429, daily_message(limits.daily_limit), headers={
        "Retry-After": format_datetime(reset, usegmt=True), "X-RateLimit-Category": limits.category,
        "X-RateLimit-Type": "Daily-limit", "X-RateLimit-Limit": str(limits.daily_limit),
        "X-RateLimit-Remaining": "0",
    })


def fault_response(kind: str, status: int, limits: RateLimits) -> Response:
    """What an injected fault answers (the timeouts answer 504 after sleeping)."""
    if kind == "500":
        return zoom_error(500, 500, "Internal server error.")
    if kind == "502":
        return Response("<html><head><title>502 Bad Gateway</title></head><body><center>"
                        "<h1>502 Bad Gateway</h1></center></body></html>",
                        status_code=502, media_type="text/html")
    if kind == "429":
        return qps_limited(limits)
    if kind == "429-daily":
        return daily_limited(limits)
    if kind == "xml":
        xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
               f"<error><code>{status}</code><message>Internal Error</message></error>")
        return Response(xml, status_code=status, media_type="application/xml")
    return zoom_error(504, 504, "Gateway Timeout")
