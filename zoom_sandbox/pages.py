"""HTML pages a person sees: Zoom sign-in, consent, host and participant pages, admin.

Plain, accessible HTML (labels on inputs, real buttons, no external assets) so
that the app's browser tests can drive them by their visible names.
"""

from __future__ import annotations

import secrets
from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from zoom_sandbox import oauth
from zoom_sandbox.core import Sandbox
from zoom_sandbox.meetings import fmt
from zoom_sandbox.state import Meeting
from zoom_sandbox.users import DEMO_PASSWORD, DEMO_USERS, check_password, find_user

OAUTH_FIELDS = ("response_type", "client_id", "redirect_uri", "state", "scope",
                "code_challenge", "code_challenge_method")
SCOPE_TEXT = {
    "user:read:user": "View your Zoom profile (name, e-mail, time zone)",
    "user:read:settings": "View your meeting settings (passcode rules)",
    "user:read": "View your Zoom profile and settings",
    "meeting:read:meeting": "View your meetings",
    "meeting:read:list_meetings": "List your meetings",
    "meeting:read": "View and list your meetings",
    "meeting:write:meeting": "Schedule meetings for you",
    "meeting:update:meeting": "Change your meetings",
    "meeting:delete:meeting": "Delete your meetings",
    "meeting:update:status": "End your meetings",
    "meeting:write": "Schedule, change, end and delete your meetings",
}


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222}}
header{{color:#0b5cff;font-weight:700;font-size:1.4rem;margin-bottom:1rem}}
label{{display:block;margin:.6rem 0 .2rem}} input{{padding:.4rem;width:100%;max-width:22rem}}
button{{padding:.5rem 1.2rem;margin:.6rem .4rem 0 0;font-size:1rem;cursor:pointer}}
.error{{color:#b00020;font-weight:600}} table{{border-collapse:collapse;width:100%}}
td,th{{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}}
</style></head><body><header>zoom <small>(sandbox)</small></header>
<main><h1>{escape(title)}</h1>{body}</main></body></html>"""
    return HTMLResponse(html, status_code=status)


def _hidden(params: dict[str, str]) -> str:
    return "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
                   for k, v in params.items() if v)


def _sign_in_form(params: dict[str, str], error: str = "", email: str = "") -> HTMLResponse:
    users = "".join(f"<li><code>{escape(u.email)}</code> ({'licensed' if u.licensed else 'basic'})</li>"
                    for u in DEMO_USERS)
    err = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    return page("Sign In", f"""{err}
<form method="post" action="/oauth/signin">{_hidden(params)}
<label for="email">Email</label><input id="email" name="email" type="email" value="{escape(email)}" required>
<label for="password">Password</label><input id="password" name="password" type="password" required>
<div><button type="submit">Sign In</button></div></form>
<section><h2>Demo Zoom users</h2><ul>{users}</ul><p>Password for all: <code>{DEMO_PASSWORD}</code></p></section>""",
                status=400 if error else 200)


async def authorize(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    params = {k: request.query_params.get(k, "") for k in OAUTH_FIELDS}
    sandbox.store.stats["authorize"] += 1
    try:
        oauth.check_authorize(sandbox, params)
    except oauth.AuthorizeError as exc:
        return page("Something went wrong", f'<p class="error" role="alert">{escape(str(exc))}</p>', 400)
    return _sign_in_form(params)


async def sign_in(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    form = await request.form()
    params = {k: str(form.get(k, "")) for k in OAUTH_FIELDS}
    email, password = str(form.get("email", "")), str(form.get("password", ""))
    try:
        scopes = oauth.check_authorize(sandbox, params)
    except oauth.AuthorizeError as exc:
        return page("Something went wrong", f'<p class="error" role="alert">{escape(str(exc))}</p>', 400)
    user = check_password(email, password)
    if user is None:
        return _sign_in_form(params, "Incorrect email or password.", email)
    ticket = secrets.token_urlsafe(24)
    request.app.state.tickets[ticket] = (user.email, sandbox.store.now() + 600)
    items = "".join(f"<li>{escape(SCOPE_TEXT.get(s, s))} <small>(<code>{escape(s)}</code>)</small></li>"
                    for s in scopes)
    return page("Allow this app to use your Zoom account?", f"""
<p>Signed in as <strong>{escape(user.email)}</strong>. The app <code>{escape(params['client_id'])}</code>
would like to:</p><ul>{items}</ul>
<form method="post" action="/oauth/consent">{_hidden(params)}<input type="hidden" name="ticket" value="{ticket}">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="decline">Decline</button></form>""")


async def consent(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    form = await request.form()
    params = {k: str(form.get(k, "")) for k in OAUTH_FIELDS}
    entry = request.app.state.tickets.pop(str(form.get("ticket", "")), None)
    if entry is None or entry[1] < sandbox.store.now():
        return page("Session expired", '<p class="error" role="alert">Please sign in again.</p>', 400)
    try:
        oauth.check_authorize(sandbox, params)
    except oauth.AuthorizeError as exc:
        return page("Something went wrong", f'<p class="error" role="alert">{escape(str(exc))}</p>', 400)
    if form.get("decision") != "allow":
        location = oauth.redirect_location(params["redirect_uri"],
                                           {"error": "access_denied", "state": params.get("state", "")})
        return RedirectResponse(location, status_code=302)
    user = find_user(entry[0])
    assert user is not None
    _code, location = oauth.issue_code(sandbox, user, params)
    return RedirectResponse(location, status_code=302)


def _meeting(sandbox: Sandbox, raw: str) -> Meeting | None:
    try:
        return sandbox.store.meetings.get(int(raw))
    except ValueError:
        return None


async def host_page(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    m = _meeting(sandbox, request.path_params["meeting_id"])
    zak = request.query_params.get("zak", "")
    if m is None or m.status == "deleted":
        return page("Meeting not found", "<p>This meeting does not exist or has been deleted.</p>", 404)
    verdict = sandbox.check_zak(m.id, zak)
    if verdict == "expired":
        return page("This link has expired", "<p>This start link has expired. Ask the app for a fresh "
                    "start link (it fetches one with GET /meetings/{id}).</p>", 410)
    if verdict != "ok":
        return page("Invalid link", "<p>This start link is not valid.</p>", 403)
    sandbox.start_meeting(m)
    return _host_view(m, zak)


def _host_view(m: Meeting, zak: str) -> HTMLResponse:
    people = "".join(f"<li>{escape(p['name'])} — {escape(p['state'])}</li>" for p in m.participants)
    return page("Meeting in progress", f"""<p><strong>{escape(m.topic)}</strong> (ID {m.id})</p>
<p>Started at {fmt(m.started_at)}. You are the host.</p><h2>Participants</h2><ul>{people or '<li>none yet</li>'}</ul>
<form method="post" action="/s/{m.id}/end"><input type="hidden" name="zak" value="{escape(zak)}">
<button type="submit">End Meeting</button></form>""")


async def host_end(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    m = _meeting(sandbox, request.path_params["meeting_id"])
    form = await request.form()
    if m is None or sandbox.check_zak(m.id, str(form.get("zak", "")), ignore_expiry=True) != "ok":
        return page("Invalid link", "<p>This start link is not valid.</p>", 403)
    sandbox.end_meeting(m)
    return page("Meeting ended", f"<p>The meeting <strong>{escape(m.topic)}</strong> has ended.</p>")


async def join_page(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    m = _meeting(sandbox, request.path_params["meeting_id"])
    if m is None or m.status == "deleted":
        return page("Meeting not found", "<p>This meeting does not exist or has been deleted.</p>", 404)
    if m.encrypted_password and request.query_params.get("pwd", "") != m.encrypted_password:
        return page("Wrong meeting passcode", '<p class="error" role="alert">The passcode in this link '
                    "is not correct. Ask the host for a new invitation.</p>", 403)
    name = request.query_params.get("uname") or request.query_params.get("name") or "Guest"
    state = sandbox.join_meeting(m, name, request.query_params.get("email", ""))
    if state == "waiting":
        text = "You are in the waiting room"
        detail = "Please wait, the meeting host will let you in soon."
    else:
        text = "You have joined the meeting"
        detail = "The host is here."
    leave = (f'<form method="post" action="/j/{m.id}/leave"><input type="hidden" name="participant_uuid" '
             f'value="{escape(m.participants[-1]["participant_uuid"])}"><button type="submit">Leave meeting</button>'
             "</form>")
    return page(text, f"<p><strong>{escape(m.topic)}</strong></p><p>{detail}</p>{leave}")


async def leave_page(request: Request) -> Response:
    """The participant's Leave button (in the meeting or its waiting room)."""
    sandbox: Sandbox = request.app.state.sandbox
    m = _meeting(sandbox, request.path_params["meeting_id"])
    form = await request.form()
    if m is None or not sandbox.leave_meeting(m, str(form.get("participant_uuid", ""))):
        return page("Not in this meeting", "<p>You are not in this meeting.</p>", 404)
    return page("You left the meeting", f"<p><strong>{escape(m.topic)}</strong></p>")


async def index(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    control = "enabled" if sandbox.config.enable_control else "disabled"
    return page("Zoom sandbox", f"""<p>Imitates Zoom OAuth (<code>/oauth/*</code>), the Meetings API
(<code>/v2</code>) and webhooks. Control API: {control}.</p><p><a href="/_sandbox/admin">Admin page</a></p>""")


def routes() -> list[Route]:
    return [
        Route("/", index, methods=["GET"]),
        Route("/oauth/authorize", authorize, methods=["GET"]),
        Route("/oauth/signin", sign_in, methods=["POST"]),
        Route("/oauth/consent", consent, methods=["POST"]),
        Route("/s/{meeting_id}", host_page, methods=["GET"]),
        Route("/s/{meeting_id}/end", host_end, methods=["POST"]),
        Route("/j/{meeting_id}", join_page, methods=["GET"]),
        Route("/j/{meeting_id}/leave", leave_page, methods=["POST"]),
    ]
