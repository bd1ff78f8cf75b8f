"""Browser-facing protections of every HTTP response and of the routes that change state.

`SecurityHeaders` wraps the whole app (Reflex's event socket, our routes and, under
`reflex run --env prod --single-port`, the compiled frontend too). The Content-Security-Policy
allows the inline scripts a page actually carries by their hashes (the prerendered pages hold
React Router's bootstrap scripts), so an injected inline script does not run. It still needs
`'unsafe-eval'`: Reflex runs `rx.call_script` with `eval`. Styles need `'unsafe-inline'`
(Emotion and Radix write style elements at run time).

`same_origin` is the CSRF check of the routes that act on a POST: the browser says where the
request comes from (`Origin`, or `Sec-Fetch-Site` when it sends no Origin).
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import re
import zlib
from pathlib import Path
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rxapp.settings import get_settings

_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)

_POLICY = ("default-src 'self'; script-src 'self' 'unsafe-eval'{hashes}; style-src 'self' 'unsafe-inline'; "
           "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
           "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def app_origin() -> str:
    """scheme://host[:port] of APP_URL, the one origin allowed to post to us."""
    parts = urlsplit(get_settings().app_url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def same_origin(request: Request) -> bool:
    """True when the browser says the request comes from a page of the app itself."""
    origin = request.headers.get("origin")
    if origin is not None:
        return origin.lower() == app_origin()
    return request.headers.get("sec-fetch-site") == "same-origin"


def content_security_policy(html: bytes = b"") -> str:
    """The policy for a response; for an HTML page, its own inline scripts are allowed by hash."""
    hashes = sorted({"'sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode() + "'"
                     for body in _INLINE_SCRIPT.findall(html)})
    return _POLICY.format(hashes="".join(" " + h for h in hashes))


def _plain(body: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    return body


def _with_policy(start: Message, body: bytes) -> Message:
    headers = MutableHeaders(scope=start)
    try:
        plain = _plain(body, headers.get("content-encoding", "identity"))
    except (OSError, zlib.error):
        plain = b""
    headers["Content-Security-Policy"] = content_security_policy(plain)
    return start


class SecurityHeaders:
    """Pure ASGI middleware (websockets pass through untouched) adding the security headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        https = get_settings().app_url.startswith("https://")
        if https and scope["type"] in ("http", "websocket"):
            # Behind the HTTPS proxy the app hears plain http; its public origin (APP_URL) is https, so
            # every URL the server builds (the frontend's trailing-slash redirects) must say https too:
            # an http:// redirect after a form POST breaks the page's `form-action 'self'`.
            scope = {**scope, "scheme": "https" if scope["type"] == "http" else "wss"}
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Frame-Options"] = "DENY"
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
                if https:
                    headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
                if message["status"] == 304:
                    # A 304 updates the cached page's headers: a policy without its hashes would break it.
                    await send(message)
                elif headers.get("content-type", "").startswith("text/html"):
                    held.append(message)  # the policy depends on the page's scripts: wait for the body
                else:
                    headers["Content-Security-Policy"] = content_security_policy()
                    await send(message)
                return
            if held and message["type"] == "http.response.pathsend":
                # A file the server sends itself (granian's pathsend): read it to hash its scripts.
                start = held.pop()
                body = await asyncio.to_thread(Path(message["path"]).read_bytes)
                await send(_with_policy(start, body))
                await send(message)
                return
            if held and message["type"] == "http.response.body":
                held.append(message)
                if message.get("more_body", False):
                    return
                start, body = held[0], b"".join(m.get("body", b"") for m in held[1:])
                held.clear()
                await send(_with_policy(start, body))
                await send({"type": "http.response.body", "body": body, "more_body": False})
                return
            await send(message)

        await self.app(scope, receive, send_with_headers)
