"""The Zoom REST API subset under /v2 (users, settings, meetings).

Every operation goes through `_operation`, which applies, in Zoom's order as far
as it can be observed: injected faults, the access token (401/124), the scopes
(4711), the per-second limit and, for create/update, the daily limit.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from zoom_sandbox import meetings as mt
from zoom_sandbox import scopes as sc
from zoom_sandbox.core import Sandbox
from zoom_sandbox.responses import daily_limited, fault_response, qps_limited, zoom_error
from zoom_sandbox.state import Meeting
from zoom_sandbox.users import USERS_BY_EMAIL, DemoUser

Handler = Callable[[Request, Sandbox, DemoUser], Awaitable[Response]]
LIMITED_DAILY = {"meetings.create", "meetings.update"}


def _operation(name: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        sandbox: Sandbox = request.app.state.sandbox
        sandbox.store.stats[name] += 1
        fault = sandbox.take_fault(name)
        after = 0.0
        if fault is not None:
            if fault.kind == "timeout-after":
                after = fault.delay
            else:
                if fault.kind == "timeout":
                    await sandbox.sleep(fault.delay)
                return fault_response(fault.kind, fault.status, sandbox.rate_limits(name))
        response = await _guarded(request, sandbox, name, handler)
        if after:
            await sandbox.sleep(after)
        return response

    return endpoint


async def _guarded(request: Request, sandbox: Sandbox, name: str, handler: Handler) -> Response:
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    grant, problem = sandbox.store.grant_for_access(token)
    if grant is None:
        message = "Access token is expired." if problem == "expired" else "Invalid access token."
        return zoom_error(401, 124, message)
    if sc.NEEDED[name] not in sc.effective(grant.scopes):
        return zoom_error(400, 4711, sc.missing_message(name) or "")
    user = USERS_BY_EMAIL[grant.email]
    if sandbox.qps_exceeded(user.email):
        return qps_limited(sandbox.rate_limits(name))
    if name in LIMITED_DAILY and sandbox.daily_exceeded(user.email):
        return daily_limited(sandbox.rate_limits(name))
    response = await handler(request, sandbox, user)
    if name in LIMITED_DAILY and response.status_code < 300:
        sandbox.count_daily(user.email)
    return response


def _same_user(user_id: str, user: DemoUser) -> bool:
    return user_id in ("me", user.id, user.email)


def _user_missing(user_id: str) -> Response:
    return zoom_error(404, 1001, f"User does not exist: {user_id}.")


def _meeting_of(request: Request, sandbox: Sandbox, user: DemoUser) -> Meeting | Response:
    raw = request.path_params["meeting_id"]
    try:
        meeting_id = int(raw)
    except ValueError:
        return zoom_error(404, 3001, f"Meeting does not exist: {raw}.")
    m = sandbox.store.meetings.get(meeting_id)
    if m is None or m.status == "deleted" or m.host_email != user.email:
        return zoom_error(404, 3001, f"Meeting does not exist: {meeting_id}.")
    return m


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _validation_failed(errors: list[dict[str, str]]) -> Response:
    if len(errors) == 1 and errors[0]["field"] == "body":
        return zoom_error(400, 300, errors[0]["message"])
    return zoom_error(400, 300, "Validation Failed.", errors=errors)


# -- users ----------------------------------------------------------------------
async def users_me(request: Request, sandbox: Sandbox, user: DemoUser) -> Response:
    return JSONResponse(user.profile())


async def users_get(request: Request, sandbox: Sandbox, user: DemoUser) -> Response:
    user_id = request.path_params["user_id"]
    if not _same_user(user_id, user):
        return _user_missing(user_id)
    return JSONResponse(user.profile())


async def users_settings(request: Request, sandbox: Sandbox, user: DemoUser) -> Response:
    user_id = request.path_params["user_id"]
    if not _same_user(user_id, user):
        return _user_missing(user_id)
    return JSONResponse({
        "schedule_meeting": {
            "host_video": False,
            "participants_video": False,
            "join_before_host": False,
            "require_password_for_scheduling_new_meetings": user.rules.require_password,
            "require_password_for_scheduled_meetings": user.rules.require_password,
            "require_password_for_instant_meetings": user.rules.require_password,
            "require_password_for_pmi_meetings": "all",
            "use_pmi_for_scheduled_meetings": False,
            "use_pmi_for_instant_meetings": False,
            "meeting_password_requirement": user.rules.as_setting(),
            "default_password_for_scheduled_meetings": "",
            "mute_upon_entry": False,
        },
        "in_meeting": {"waiting_room": not user.licensed, "e2e_encryption": False},
        "feature": {"meeting_capacity": 300 if user.licensed else 100, "concurrent_meeting": "None"},
    })


# -- meetings ---------------------------------------------------------------------
async def meetings_create(request: Request, sandbox: Sandbox, user: DemoUser) -> Response:
    user_id = request.path_params["user_id"]
    if not _same_user(user_id, user):
        return _user_missing(user_id)
    body = await _json_body(request)
    store = sandbox.store
    now = store.now()
    changes, errors = mt.validate(body, user, None, now)
    if errors:
        return _validation_failed(errors)
    if changes.get("type") == 1:
        changes["start_time"] = now  # an instant meeting starts now; Zoom ignores a given start_time
    m = Meeting(
        id=store.new_meeting_id(), uuid=mt.new_uuid(), host_email=user.email,
        topic=changes.get("topic", "Zoom meeting"), type=changes.get("type", 2),
        duration=changes.get("duration", 60), timezone=changes.get("timezone", user.timezone),
        created_at=now, start_time=changes.get("start_time", now), agenda=changes.get("agenda", ""),
        settings=changes.get("settings", dict(mt.DEFAULT_SETTINGS)),
    )
    _set_password(m, changes.get("password", ""))
    store.meetings[m.id] = m
    store.save()
    sandbox.emit("meeting.created", {
        "account_id": user.account_id, "operator": user.email, "operator_id": user.id,
        "object": _created_object(m, user, sandbox.config.base_url),
    })
    return JSONResponse(mt.meeting_view(m, user, sandbox.start_url(m), sandbox.config.base_url),
                        status_code=201)


def _set_password(m: Meeting, password: str) -> None:
    m.password = password
    m.encrypted_password = mt.encrypt_password(m.id, password) if password else ""


def _created_object(m: Meeting, user: DemoUser, base_url: str) -> dict[str, Any]:
    obj = mt.event_object(m, user, id_as_string=False)
    obj.update({"join_url": mt.join_url(m, base_url), "password": m.password, "settings": {
        "use_pmi": bool(m.settings.get("use_pmi", False)),
        "alternative_hosts": str(m.settings.get("alternative_hosts", "")),
        "join_before_host": bool(m.settings.get("join_before_host", False)),
        "jbh_time": m.settings.get("jbh_time", 0),
    }})
    return obj


async def meetings_get(request: Request, sandbox: Sandbox, user: DemoUser) -> Response:
    m = _meeting_of(request, sandbox, user)
    if not isinstance(m, Meeting):
        return m
    return JSONResponse(mt.meeting_view(m, user, sandbox.start_url(m), sandbox.config.base_url))


async def meetings_update(request: Request, sandbox: Sandbox, user: DemoUser) -> Response:
    m = _meeting_of(request, sandbox, user)
    if not isinstance(m, Meeting):
        return m
    changes, errors = mt.validate(await _json_body(request), user, m, sandbox.store.now())
    if errors:
        return _validation_failed(errors)
    names = [k for k in ("topic", "agenda", "type", "duration", "timezone", "start_time", "password",
                         "settings") if k in changes and changes[k] != getattr(m, k)]
    old = mt.webhook_fields(m, names)
    if "settings" in names:
        # Like Zoom, meeting.updated shows only the settings that changed.
        changed = {k: v for k, v in changes["settings"].items() if m.settings.get(k) != v}
        old["settings"] = {k: m.settings.get(k) for k in changed}
    for name in names:
        if name == "password":
            _set_password(m, changes[name])
        else:
            setattr(m, name, changes[name])
    sandbox.store.save()
    now_ms = sandbox.event_ts()
    sandbox.emit("meeting.updated", {
        "account_id": user.account_id, "operator": user.email, "operator_id": user.id,
        "object": {"id": m.id, "uuid": m.uuid, **mt.webhook_fields(m, names),
                   **({"settings": changed} if "settings" in names else {})},
        "old_object": {"id": m.id, "uuid": m.uuid, **old},
        "time_stamp": now_ms,
    })
    return Response(status_code=204)


async def meetings_delete(request: Request, sandbox: Sandbox, user: DemoUser) -> Response:
    m = _meeting_of(request, sandbox, user)
    if not isinstance(m, Meeting):
        return m
    if m.status == "started":
        return zoom_error(400, 3002, "Sorry, you cannot delete this meeting since it is in progress.")
    sandbox.delete_meeting(m, user)
    return Response(status_code=204)


async def meetings_status(request: Request, sandbox: Sandbox, user: DemoUser) -> Response:
    m = _meeting_of(request, sandbox, user)
    if not isinstance(m, Meeting):
        return m
    body = await _json_body(request)
    action = body.get("action") if isinstance(body, dict) else None
    if action not in ("end", "recover"):
        return zoom_error(400, 300, "Validation Failed.",
                          errors=[{"field": "action", "message": "Invalid field."}])
    if action == "end":
        if m.status != "started":
            return zoom_error(400, 3000, f"Meeting {m.id} is not in progress.")
        sandbox.end_meeting(m)
    return Response(status_code=204)


LIST_TYPES = ("scheduled", "live", "upcoming", "upcoming_meetings", "previous_meetings")


async def meetings_list(request: Request, sandbox: Sandbox, user: DemoUser) -> Response:
    user_id = request.path_params["user_id"]
    if not _same_user(user_id, user):
        return _user_missing(user_id)
    q = request.query_params
    kind = q.get("type", "scheduled")
    if kind not in LIST_TYPES:
        return zoom_error(400, 300, f"Invalid meeting type: {kind}.")
    try:
        page_size = min(max(int(q.get("page_size", "30")), 1), 300)
    except ValueError:
        return zoom_error(400, 300, "Invalid field: page_size.")
    store = sandbox.store
    now = store.now()
    offset = 0
    token = q.get("next_page_token", "")
    if token:
        entry = store.page_tokens.get(token)
        if entry is None or entry[1] != user.email or entry[2] < now:
            return zoom_error(400, 300, "The next page token is invalid or expired.")
        offset = int(entry[0])
    chosen = sorted((m for m in store.meetings.values()
                     if m.host_email == user.email and _in_list(m, kind, now)),
                    key=lambda m: (m.start_time or 0, m.id))
    page = chosen[offset:offset + page_size]
    next_token = ""
    if offset + page_size < len(chosen):
        next_token = secrets.token_urlsafe(24)
        store.page_tokens[next_token] = [offset + page_size, user.email, now + 900]
    return JSONResponse({
        "page_size": page_size,
        "total_records": len(chosen),
        "next_page_token": next_token,
        "meetings": [mt.list_item(m, user, sandbox.config.base_url) for m in page],
    })


def _in_list(m: Meeting, kind: str, now: float) -> bool:
    if m.status == "deleted":
        return False
    over = (m.start_time or 0) + m.duration * 60 < now and m.status != "started"
    if kind == "live":
        return m.status == "started"
    if kind in ("upcoming", "upcoming_meetings"):
        return not over
    if kind == "previous_meetings":
        return over or m.status == "ended"
    return True


def routes() -> list[Route]:
    return [
        Route("/v2/users/me", _operation("users.me", users_me), methods=["GET"]),
        Route("/v2/users/{user_id}", _operation("users.get", users_get), methods=["GET"]),
        Route("/v2/users/{user_id}/settings", _operation("users.settings", users_settings), methods=["GET"]),
        Route("/v2/users/{user_id}/meetings", _operation("meetings.create", meetings_create), methods=["POST"]),
        Route("/v2/users/{user_id}/meetings", _operation("meetings.list", meetings_list), methods=["GET"]),
        Route("/v2/meetings/{meeting_id}", _operation("meetings.get", meetings_get), methods=["GET"]),
        Route("/v2/meetings/{meeting_id}", _operation("meetings.update", meetings_update), methods=["PATCH"]),
        Route("/v2/meetings/{meeting_id}", _operation("meetings.delete", meetings_delete), methods=["DELETE"]),
        Route("/v2/meetings/{meeting_id}/status", _operation("meetings.status", meetings_status),
              methods=["PUT"]),
    ]

