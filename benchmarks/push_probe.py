"""The push-to-render floor for `make bench`: a development plugin, never part of the product.

`bench_waiting_room.py` starts the app with `DEV_PLUGINS=benchmarks.push_probe` (refused in
production, see `rxapp.settings.production_problems`); the app then calls `install`, which adds:

- `POST /dev/push-probe?meeting=<id>&stamp=<n>`: pushes the number to the signed-in client's own
  open waiting rooms of that meeting through the same registry and `app.modify_state` as a real
  push, but changes only a tiny state of its own (no database work beyond the permission check);
- a hidden `#push-probe` element on the waiting room page showing that number;
- `GET /dev/worker`: which worker answered (its process id and the instance id under which Reflex
  records that worker's sockets in Redis), so that with several workers the benchmark can tell
  which one holds a page's socket.

So the time from this request to the number in the page is the least any push can take on this
machine. The benchmark reads every waiting-room latency against it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable

import reflex as rx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from rxapp import live
from rxapp.services.identity import auth
from rxapp.services.permissions import NotAllowed
from rxapp.services.telehealth import portal
from rxapp.settings import get_settings

PATH = "/dev/push-probe"
WORKER_PATH = "/dev/worker"
WAITING_ROOM = "/portal/waiting"


class PushProbeState(rx.State):
    stamp: int = 0


def endpoint(app: rx.App | None) -> Callable[[Request], Awaitable[Response]]:
    """The probe's route handler, pushing through `app` (the running Reflex app)."""

    async def push_probe(request: Request) -> Response:
        token = request.cookies.get(get_settings().session_cookie_name) or ""
        try:
            meeting_id, stamp = int(request.query_params["meeting"]), int(request.query_params["stamp"])
        except (KeyError, ValueError):
            return JSONResponse({"error": "meeting and stamp must be numbers"}, status_code=400)
        principal = await asyncio.to_thread(auth.principal_for_token, token)
        try:
            if principal is None:
                raise NotAllowed("not signed in")
            await asyncio.to_thread(portal.waiting_room, principal, meeting_id)
        except NotAllowed:
            return JSONResponse({"error": "not your waiting room"}, status_code=403)
        if app is None:
            return JSONResponse({"error": "no app to push through"}, status_code=503)
        pushed = 0
        for client_token in await live.registry().watchers(f"meeting:{meeting_id}"):
            async with app.modify_state(rx.BaseStateToken(ident=client_token, cls=PushProbeState)) as root:
                (await root.get_state(PushProbeState)).stamp = stamp
            pushed += 1
        return JSONResponse({"pushed": pushed, **_worker(app)})

    return push_probe


def _worker(app: rx.App) -> dict[str, object]:
    """This worker's process id and Reflex instance id (the owner named in Redis socket records)."""
    manager = getattr(getattr(app, "event_namespace", None), "_token_manager", None)
    return {"worker": os.getpid(), "instance": getattr(manager, "instance_id", "")}


def worker_endpoint(app: rx.App) -> Callable[[Request], Awaitable[Response]]:
    async def worker(_request: Request) -> Response:
        return JSONResponse(_worker(app))

    return worker


def _with_probe(render: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
    def page() -> rx.Component:
        return rx.fragment(render(), rx.el.span(PushProbeState.stamp, id="push-probe", hidden=True))

    page.__name__ = render.__name__
    return page


def install(app: rx.App, http: Starlette) -> None:
    """Mount the route (before Reflex's own, which take every other path) and add the hidden number
    to the waiting room page (its decorated page, before the app compiles)."""
    http.router.routes.insert(0, Route(PATH, endpoint(app), methods=["POST"]))
    http.router.routes.insert(0, Route(WORKER_PATH, worker_endpoint(app), methods=["GET"]))
    pages = app._registration_context.decorated_pages
    for index, (render, kwargs) in enumerate(pages):
        if kwargs.get("route") == WAITING_ROOM:
            pages[index] = (_with_probe(render), kwargs)
            return
    raise RuntimeError(f"no page at {WAITING_ROOM} to add the push probe to")
