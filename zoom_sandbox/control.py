"""Control API under /_sandbox for tests and demos (off unless enabled).

Lets a test do in one call what would otherwise need a browser or hours of
waiting: authorize a demo user, inject faults, expire or revoke tokens, move the
sandbox clock, drive a meeting's life, and inspect or re-send webhooks.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from zoom_sandbox import oauth
from zoom_sandbox.core import FAULT_KINDS, OPERATIONS, Sandbox
from zoom_sandbox.meetings import fmt
from zoom_sandbox.state import Meeting
from zoom_sandbox.users import DEMO_USERS, DemoUser, find_user

Endpoint = Callable[[Request], Awaitable[Response]]


def _err(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("JSON object expected")
    return data


def guarded(handler: Callable[[Request, Sandbox], Awaitable[Response]]) -> Endpoint:
    """404 unless the control API is enabled; 400 on a malformed JSON body."""
    async def endpoint(request: Request) -> Response:
        sandbox: Sandbox = request.app.state.sandbox
        if not sandbox.config.enable_control:
            return _err(404, "The sandbox control API is disabled (enable with --enable-control).")
        try:
            return await handler(request, sandbox)
        except (ValueError, TypeError, KeyError) as exc:
            return _err(400, f"{type(exc).__name__}: {exc}")
    return endpoint


def _user(request: Request) -> DemoUser | None:
    return find_user(request.path_params["email"])


async def authorize(request: Request, sandbox: Sandbox) -> Response:
    body = await _body(request)
    user = find_user(str(body.get("email", "")))
    if user is None:
        return _err(404, f"No demo user {body.get('email')!r}.")
    params = {k: str(v) for k, v in body.items() if k != "email" and v is not None}
    params.setdefault("response_type", "code")
    sandbox.store.stats["authorize"] += 1
    try:
        code, location = oauth.issue_code(sandbox, user, params)
    except oauth.AuthorizeError as exc:
        return _err(400, str(exc))
    return JSONResponse({"code": code, "location": location})


async def add_fault(request: Request, sandbox: Sandbox) -> Response:
    body = await _body(request)
    operation, kind = body.get("operation"), str(body.get("kind", ""))
    if operation not in OPERATIONS:
        return _err(400, f"Unknown operation {operation!r}; one of {', '.join(OPERATIONS)}.")
    if kind not in FAULT_KINDS:
        return _err(400, f"Unknown kind {kind!r}; one of {', '.join(FAULT_KINDS)}.")
    delay = body.get("delay")
    sandbox.add_fault(operation, kind, int(body.get("count", 1)),
                      None if delay is None else float(delay), int(body.get("status", 500)))
    return _faults_view(sandbox)


def _faults_view(sandbox: Sandbox) -> JSONResponse:
    return JSONResponse({"faults": {op: [{"kind": f.kind, "remaining": f.remaining, "delay": f.delay}
                                         for f in queue] for op, queue in sandbox.faults.items() if queue}})


async def list_faults(request: Request, sandbox: Sandbox) -> Response:
    return _faults_view(sandbox)


async def clear_faults(request: Request, sandbox: Sandbox) -> Response:
    sandbox.faults.clear()
    return _faults_view(sandbox)


async def expire_tokens(request: Request, sandbox: Sandbox) -> Response:
    user = _user(request)
    if user is None:
        return _err(404, "No such demo user.")
    store, count = sandbox.store, 0
    for entry in store.access_tokens.values():
        grant = store.grants.get(entry.grant_id)
        if grant is not None and grant.email == user.email:
            entry.expires_at = min(entry.expires_at, store.now() - 1)
            count += 1
    store.save()
    return JSONResponse({"expired": count})


async def revoke_user(request: Request, sandbox: Sandbox) -> Response:
    user = _user(request)
    if user is None:
        return _err(404, "No such demo user.")
    grant = sandbox.store.active_grant(user.email, sandbox.config.client_id)
    if grant is not None:
        sandbox.deauthorize(grant, "revoked by the control API")
    return JSONResponse({"revoked": grant is not None})


async def reset_daily(request: Request, sandbox: Sandbox) -> Response:
    user = _user(request)
    if user is None:
        return _err(404, "No such demo user.")
    sandbox.store.daily.pop(user.email, None)
    sandbox.store.save()
    return JSONResponse({"reset": True})


async def advance_clock(request: Request, sandbox: Sandbox) -> Response:
    body = await _body(request)
    sandbox.store.clock_offset += float(body["seconds"])
    sandbox.store.save()
    return await clock(request, sandbox)


async def clock(request: Request, sandbox: Sandbox) -> Response:
    return JSONResponse({"now": fmt(sandbox.store.now()), "offset_seconds": sandbox.store.clock_offset})


async def stats(request: Request, sandbox: Sandbox) -> Response:
    return JSONResponse({"calls": dict(sandbox.store.stats)})


async def users(request: Request, sandbox: Sandbox) -> Response:
    return JSONResponse({"users": [
        {"email": u.email, "id": u.id, "account_id": u.account_id, "type": u.type,
         "timezone": u.timezone, "connected": sandbox.store.active_grant(u.email, sandbox.config.client_id)
         is not None} for u in DEMO_USERS]})


def _meeting_summary(m: Meeting) -> dict[str, Any]:
    return {"id": m.id, "uuid": m.uuid, "topic": m.topic, "host_email": m.host_email,
            "status": m.status, "deleted": m.status == "deleted", "start_time": fmt(m.start_time),
            "duration": m.duration, "timezone": m.timezone, "password": m.password,
            "participants": m.participants}


async def meetings(request: Request, sandbox: Sandbox) -> Response:
    return JSONResponse({"meetings": [_meeting_summary(m) for m in sandbox.store.meetings.values()]})


def _meeting(request: Request, sandbox: Sandbox) -> Meeting | None:
    m = sandbox.store.meetings.get(int(request.path_params["meeting_id"]))
    return None if m is None or m.status == "deleted" else m


async def meeting_start(request: Request, sandbox: Sandbox) -> Response:
    m = _meeting(request, sandbox)
    if m is None:
        return _err(404, "No such meeting.")
    changed = sandbox.start_meeting(m)
    return JSONResponse({"changed": changed, **_meeting_summary(m)})


async def meeting_end(request: Request, sandbox: Sandbox) -> Response:
    m = _meeting(request, sandbox)
    if m is None:
        return _err(404, "No such meeting.")
    changed = sandbox.end_meeting(m)
    return JSONResponse({"changed": changed, **_meeting_summary(m)})


async def meeting_join(request: Request, sandbox: Sandbox) -> Response:
    m = _meeting(request, sandbox)
    if m is None:
        return _err(404, "No such meeting.")
    body = await _body(request)
    state = sandbox.join_meeting(m, str(body.get("name", "Guest")), str(body.get("email", "")))
    return JSONResponse({"state": state, "participant_uuid": m.participants[-1]["participant_uuid"]})


async def meeting_leave(request: Request, sandbox: Sandbox) -> Response:
    m = _meeting(request, sandbox)
    if m is None:
        return _err(404, "No such meeting.")
    body = await _body(request)
    state = sandbox.leave_meeting(m, str(body.get("participant_uuid", "")))
    return JSONResponse({"state": state}) if state else _err(404, "No such participant in this meeting.")


async def deliveries(request: Request, sandbox: Sandbox) -> Response:
    return JSONResponse({"deliveries": [d.summary() for d in sandbox.webhooks.deliveries]})


async def resend(request: Request, sandbox: Sandbox) -> Response:
    original = sandbox.webhooks.get(int(request.path_params["delivery_id"]))
    if original is None:
        return _err(404, "No such delivery.")
    return JSONResponse(sandbox.webhooks.resend(original).summary())


async def send_event(request: Request, sandbox: Sandbox) -> Response:
    body = await _body(request)
    event, payload = str(body["event"]), body.get("payload", {})
    if not isinstance(payload, dict):
        return _err(400, "payload must be an object")
    delivery = sandbox.webhooks.send(event, payload, int(body.get("event_ts", sandbox.event_ts())))
    return JSONResponse(delivery.summary())


async def validate_endpoint(request: Request, sandbox: Sandbox) -> Response:
    if not sandbox.config.webhook_url:
        return _err(400, "No webhook URL configured.")
    return JSONResponse(await sandbox.webhooks.validate_endpoint())


async def reset(request: Request, sandbox: Sandbox) -> Response:
    sandbox.reset()
    return JSONResponse({"reset": True})


def routes() -> list[Route]:
    p = "/_sandbox"
    table: list[tuple[str, Callable[[Request, Sandbox], Awaitable[Response]], str]] = [
        ("/authorize", authorize, "POST"),
        ("/faults", add_fault, "POST"),
        ("/faults", list_faults, "GET"),
        ("/faults", clear_faults, "DELETE"),
        ("/users", users, "GET"),
        ("/users/{email}/expire-access-tokens", expire_tokens, "POST"),
        ("/users/{email}/revoke", revoke_user, "POST"),
        ("/users/{email}/reset-daily-limit", reset_daily, "POST"),
        ("/clock", clock, "GET"),
        ("/clock/advance", advance_clock, "POST"),
        ("/stats", stats, "GET"),
        ("/meetings", meetings, "GET"),
        ("/meetings/{meeting_id:int}/start", meeting_start, "POST"),
        ("/meetings/{meeting_id:int}/end", meeting_end, "POST"),
        ("/meetings/{meeting_id:int}/join", meeting_join, "POST"),
        ("/meetings/{meeting_id:int}/leave", meeting_leave, "POST"),
        ("/deliveries", deliveries, "GET"),
        ("/deliveries/{delivery_id:int}/resend", resend, "POST"),
        ("/webhooks/send", send_event, "POST"),
        ("/webhooks/validate", validate_endpoint, "POST"),
        ("/reset", reset, "POST"),
    ]
    return [Route(p + path, guarded(handler), methods=[method]) for path, handler, method in table]
