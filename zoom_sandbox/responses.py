"""Error bodies as Zoom answers them, and the bodies of injected faults.

Zoom's REST errors are `{"code": N, "message": "..."}`; its OAuth errors are
`{"reason": "...", "error": "..."}`; its gateways sometimes answer HTML or XML.
"""

from __future__ import annotations

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


def qps_limited() -> JSONResponse:
    return zoom_error(429, 429, QPS_MESSAGE, headers={"Retry-After": "1", "X-RateLimit-Type": "QPS"})


def daily_limited(limit: int) -> JSONResponse:
    return zoom_error(429, 429, daily_message(limit), headers={
        "X-RateLimit-Type": "Daily-limit", "X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": "0",
    })


def fault_response(kind: str, status: int, daily_limit: int) -> Response:
    """What an injected fault answers (the timeouts answer 504 after sleeping)."""
    if kind == "500":
        return zoom_error(500, 500, "Internal server error.")
    if kind == "502":
        return Response("<html><head><title>502 Bad Gateway</title></head><body><center>"
                        "<h1>502 Bad Gateway</h1></center></body></html>",
                        status_code=502, media_type="text/html")
    if kind == "429":
        return qps_limited()
    if kind == "429-daily":
        return daily_limited(daily_limit)
    if kind == "xml":
        xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
               f"<error><code>{status}</code><message>Internal Error</message></error>")
        return Response(xml, status_code=status, media_type="application/xml")
    return zoom_error(504, 504, "Gateway Timeout")
