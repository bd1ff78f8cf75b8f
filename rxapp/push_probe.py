"""The push-to-render floor for `make bench` (development and test only; never mounted in production).

`POST /dev/push-probe?meeting=<id>&stamp=<n>` pushes the number to the signed-in client's own open
waiting rooms of that meeting through the same registry and `app.modify_state` as a real push, but
changes only a tiny state of its own (no database work beyond the permission check), so the time
from this request to the number in the page is the least any push can take on this machine. The
benchmark reads every waiting-room latency against it.
"""

from __future__ import annotations

import asyncio

import reflex as rx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from rxapp import live
from rxapp.services.identity import auth
from rxapp.services.permissions import NotAllowed
from rxapp.services.telehealth import portal
from rxapp.settings import get_settings


class PushProbeState(rx.State):
    stamp: int = 0


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
    from rxapp.rxapp import app  # the running app (imported lazily: it imports this module's routes)

    pushed = 0
    for client_token in await live.registry().watchers(f"meeting:{meeting_id}"):
        async with app.modify_state(rx.BaseStateToken(ident=client_token, cls=PushProbeState)) as root:
            (await root.get_state(PushProbeState)).stamp = stamp
        pushed += 1
    return JSONResponse({"pushed": pushed})
