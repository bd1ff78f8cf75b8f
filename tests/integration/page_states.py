"""Page states as a browser's websocket drives them: a real state tree whose router carries a
real session cookie, so handlers re-derive the user exactly as they do in the app."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar
from urllib.parse import urlencode

import reflex as rx
from reflex.event import EventSpec

import rxapp.rxapp  # noqa: F401  (registers every page state, as the running app does)
from rxapp.settings import get_settings
from tests.integration.zoom_helpers import sign_in

S = TypeVar("S", bound=rx.State)


def page_state(cls: type[S], path: str, email: str | None = None, root: rx.State | None = None,
               query: dict[str, str] | None = None) -> S:
    """`cls` of a browser tab on `path` (with `query`), signed in as `email` (or signed out), in a new
    state tree unless `root` is given (the same browser tab moving on)."""
    cookie = f"{get_settings().session_cookie_name}={sign_in(email).token}" if email else ""
    root = root or rx.State(_reflex_internal_init=True)
    tab = root.router_data.get("token") if root.router_data else None
    root.router_data = root._update_router_vars(
        {"headers": {"cookie": cookie} if cookie else {}, "pathname": path,
         "asPath": f"{path}?{urlencode(query, safe=',')}" if query else path, "query": query or {},
         "token": tab or str(uuid.uuid4())},  # the tab's Reflex client token
        root.router_data or {})
    return run(root.get_state(cls))


def run(step: Awaitable[Any] | AsyncIterator[Any]) -> Any:
    """Run a handler call to the end: a coroutine's result, or everything a generator yields."""
    if isinstance(step, AsyncIterator):
        async def drain() -> list[Any]:
            return [item async for item in step]
        return asyncio.run(drain())
    return asyncio.run(step)  # type: ignore[arg-type]


def _specs(events: Any) -> list[EventSpec]:
    found = events if isinstance(events, list) else [events]
    return [e for e in found if isinstance(e, EventSpec)]


def toasts(events: Any) -> list[tuple[str, str]]:
    """(level, message) of each toast among what a handler returned or yielded."""
    found = []
    for spec in _specs(events):
        script = " ".join(getattr(value, "_js_expr", "") for _, value in spec.args)
        if match := re.search(r"""__toast'\]\?\.\["(\w+)"\]\(("(?:[^"\\]|\\.)*")""", script):
            found.append((match.group(1), json.loads(match.group(2))))
    return found


def redirects(events: Any) -> list[str]:
    """The paths of the (client-side) redirects among what a handler returned or yielded."""
    paths = []
    for spec in _specs(events):
        args = {name._js_expr: value for name, value in spec.args}
        if "path" in args and "external" in args:
            paths.append(str(args["path"]._var_value))
    return paths
