"""HTTP routes beside Reflex's own (mounted through `api_transformer`): HTTP only, no business rules."""

from __future__ import annotations

import asyncio
import csv
import html
import io
import logging
import os
from collections.abc import Iterator
from urllib.parse import parse_qs, parse_qsl
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from rxapp.clock import now
from rxapp.services.audit import entries
from rxapp.services.identity import accounts, auth
from rxapp.services.identity.auth import safe_next
from rxapp.services.identity.passwords import MIN_PASSWORD_LENGTH
from rxapp.services.notify.reminders import answers
from rxapp.services.notify.sms import twilio_hooks
from rxapp.services.notify.sms.providers import INBOUND_PATH, STATUS_CALLBACK_PATH
from rxapp.services.permissions import Action, NotAllowed, can, home_path
from rxapp.services.practice import export, profiles, setup, signup
from rxapp.services.practice.settings import POS_CODES
from rxapp.services.scheduling import feeds, self_booking, waitlist
from rxapp.services.telehealth import portal
from rxapp.services.telehealth.meetings import actions
from rxapp.services.telehealth.meetings import events as meeting_events  # noqa: F401  (registers Zoom event handlers)
from rxapp.services.telehealth.zoom import connections, webhooks
from rxapp.services.telehealth.zoom.errors import ZoomError, ZoomNotConnected
from rxapp.services.timezones import all_timezones
from rxapp.settings import get_settings
from rxapp.web_security import SecurityHeaders, same_origin

log = logging.getLogger(__name__)


def _set_session_cookie(response: Response, token: str, max_age: int) -> None:
    settings = get_settings()
    response.set_cookie(settings.session_cookie_name, token, max_age=max_age, path="/", httponly=True,
                        samesite="lax", secure=settings.cookie_secure)


def _address(request: Request) -> str:
    """The client's address: behind N trusted proxies (`REFLEX_TRUSTED_PROXY_HOPS=N`, which Reflex reads
    for the websocket too) the Nth address from the right of X-Forwarded-For (the ones left of it are
    the client's to write); else the peer's."""
    raw = os.environ.get("REFLEX_TRUSTED_PROXY_HOPS", "").strip()
    hops = int(raw) if raw.isdigit() else 0
    forwarded = [part.strip() for part in request.headers.get("x-forwarded-for", "").split(",") if part.strip()]
    if hops > 0 and len(forwarded) >= hops:
        return forwarded[-hops][:64]
    return request.client.host if request.client else ""


def _cross_site() -> HTMLResponse:
    return _page("Request refused", "This request did not come from the app's own pages, so nothing was done. "
                 "Open the app and try again.", 403, back=("/login", "Go to sign-in"))


async def _form_field(request: Request, name: str) -> str:
    """One field of a urlencoded form body (what the browser's form POST sends)."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return ""
    body = (await request.body())[:8192].decode("utf-8", "replace")
    values = parse_qs(body).get(name)
    return values[0] if values else ""


async def start_session(request: Request) -> Response:
    """Exchange a sign-in ticket (a same-origin form POST) for the HttpOnly session cookie, then go to the app.

    A POST from another site is refused: it could sign the browser into someone else's account."""
    if not same_origin(request):
        return _cross_site()
    ticket = await _form_field(request, "ticket")
    new = await asyncio.to_thread(auth.redeem_ticket, ticket, request.headers.get("user-agent", ""),
                                  _address(request)) if ticket else None
    if new is None:
        return RedirectResponse("/login?error=expired", status_code=303)
    target = safe_next(await _form_field(request, "next"), home_path(new.principal))
    response = RedirectResponse(target, status_code=303)
    _set_session_cookie(response, new.token, get_settings().session_absolute_hours * 3600)
    return response


async def to_sign_in(_: Request) -> Response:
    """A GET of a route that acts only on a POST (a link or an image from anywhere): does nothing."""
    return RedirectResponse("/login", status_code=303)


async def signed_out(request: Request) -> Response:
    """Revoke the session (if the handler has not already) and clear the cookie; a same-origin POST only."""
    if not same_origin(request):
        return _cross_site()
    token = request.cookies.get(get_settings().session_cookie_name)
    await asyncio.to_thread(auth.sign_out, token)
    response = RedirectResponse("/login?signed_out=1", status_code=303)
    response.delete_cookie(get_settings().session_cookie_name, path="/")
    return response


async def zoom_callback(request: Request) -> Response:
    """Zoom sends the browser back here after sign-in and consent (or Decline)."""
    params = request.query_params
    token = request.cookies.get(get_settings().session_cookie_name) or ""
    try:
        attempt_id = await connections.complete_connect(params.get("state", ""), params.get("code", ""),
                                                        params.get("error", ""), token)
    except connections.ConnectRefused as exc:
        return RedirectResponse(f"/profile/zoom-review?error={exc.reason}", status_code=303)
    return RedirectResponse(f"/profile/zoom-review?attempt={attempt_id}", status_code=303)


_processing: set[asyncio.Task] = set()  # strong references until each task finishes


class _TooLarge(Exception):
    pass


async def _read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused (`_TooLarge`) as soon as it is known to exceed `limit` bytes: by its
    Content-Length, or while it streams in (a chunked or lying sender)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def zoom_webhook(request: Request) -> Response:
    """Zoom's events: verified over the raw body, stored once, answered at once, processed after."""
    secret = get_settings().zoom_webhook_secret_token
    try:
        body = await _read_body(request, webhooks.MAX_BODY_BYTES)
    except _TooLarge:
        return JSONResponse({"error": "body too large"}, status_code=413)
    try:
        webhooks.verify(secret, request.headers.get("x-zm-request-timestamp"),
                        request.headers.get("x-zm-signature"), body)
        event = webhooks.parse_event(body)
    except webhooks.BadSignature as exc:
        log.warning("Zoom webhook refused: %s", exc)
        return JSONResponse({"error": "invalid signature"}, status_code=401)
    except webhooks.BadEvent as exc:
        log.warning("Zoom webhook refused: %s", exc)
        return JSONResponse({"error": f"invalid event: {exc}"}, status_code=400)
    if event["event"] == "endpoint.url_validation":
        return JSONResponse(webhooks.url_validation_answer(secret, event["payload"]["plainToken"]))
    event_id = await asyncio.to_thread(webhooks.store, event)
    if event_id is not None:
        task = asyncio.create_task(asyncio.to_thread(webhooks.process, event_id))
        _processing.add(task)
        task.add_done_callback(_processing.discard)
    return JSONResponse({"status": "received" if event_id else "duplicate"})


async def _twilio_params(request: Request) -> list[tuple[str, str]] | None:
    """The POST parameters of a Twilio request whose signature is valid, else None."""
    try:
        body = await _read_body(request, twilio_hooks.MAX_BODY_BYTES)
    except _TooLarge:
        return None
    params = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    url = twilio_hooks.signed_url(request.url.path, request.url.query)
    return params if twilio_hooks.valid_signature(url, params, request.headers.get("x-twilio-signature")) else None


async def twilio_status(request: Request) -> Response:
    """Twilio's delivery status callback for an SMS we sent."""
    params = await _twilio_params(request)
    if params is None:
        log.warning("Twilio status callback refused: bad signature")
        return Response("invalid signature", status_code=403)
    await asyncio.to_thread(twilio_hooks.record_status, dict(params))
    return Response(status_code=204)


async def twilio_inbound(request: Request) -> Response:
    """An SMS a client sent to our number: STOP/START, or a registered reply keyword; answers TwiML."""
    params = await _twilio_params(request)
    if params is None:
        log.warning("Twilio inbound SMS refused: bad signature")
        return Response("invalid signature", status_code=403)
    answer = await asyncio.to_thread(twilio_hooks.handle_inbound, dict(params))
    return Response(answer, media_type="application/xml")


# Answers about links that change meaning over time (used, ended, …): never from a cache.
_NO_STORE = {"Cache-Control": "no-store"}


# The app's look for the few pages served here (links opened from emails, refusals): the theme's
# indigo, system fonts, one card, a full-width button on a phone; a viewport so a phone does not zoom out.
_PAGE_STYLE = (
    "body{margin:0;background:#f9f9fb;color:#1c2024;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,"
    "sans-serif}main{box-sizing:border-box;max-width:34rem;margin:2rem auto;padding:0 1rem}"
    ".card{background:#fff;border:1px solid #e0e1e6;border-radius:12px;padding:1.5rem;overflow-wrap:anywhere}"
    "h1{font-size:1.5rem;line-height:1.25;margin:0 0 .75rem}p{margin:0 0 1rem}"
    "a{color:#3a5bc7}button{font:inherit;font-weight:600;color:#fff;background:#3e63dd;border:0;"
    "border-radius:8px;min-height:44px;padding:.6rem 1.25rem;cursor:pointer}button:hover{background:#3358d4}"
    "@media (max-width:600px){main{margin:1rem auto}button{width:100%}}")


def _page(title: str, message: str, status: int,
          back: tuple[str, str] | None = ("/meetings", "Back to meetings"), button: str = "") -> HTMLResponse:
    """A server-rendered page in the app's look; `button` adds a form posting back to this URL."""
    e = html.escape
    form = f"<form method=post><button type=submit>{e(button)}</button></form>" if button else ""
    link = f"<p><a href='{e(back[0])}'>{e(back[1])}</a></p>" if back else ""
    return _document(title, f"<p>{e(message)}</p>{form}{link}", status)


def _document(title: str, inner: str, status: int, style: str = "") -> HTMLResponse:
    """A whole server-rendered page: the app's look, a viewport for phones, one card holding
    `inner` (HTML, already escaped) under the title."""
    e = html.escape
    body = ("<!doctype html><html lang=en><head><meta charset=utf-8>"
            "<meta name=viewport content='width=device-width, initial-scale=1'>"
            f"<title>{e(title)} · Telehealth</title><link rel=icon href='/favicon.svg' type='image/svg+xml'>"
            f"<style>{_PAGE_STYLE}{style}</style></head><body><main><div class=card><h1>{e(title)}</h1>"
            f"{inner}</div></main></body></html>")
    return HTMLResponse(body, status_code=status, headers=_NO_STORE)


async def start_meeting(request: Request) -> Response:
    """The host's Start meeting link: a fresh Zoom start_url, straight to Zoom, never stored."""
    token = request.cookies.get(get_settings().session_cookie_name) or ""
    meeting_id = request.path_params["meeting_id"]
    if not auth.check_request_token(token, f"start:{meeting_id}", request.query_params.get("t", "")):
        return _page("Link not valid", "Open the meeting from your Meetings page and press Start meeting.", 403)
    principal = await asyncio.to_thread(auth.principal_for_token, token)
    if principal is None:
        return RedirectResponse("/login?next=/meetings", status_code=303)
    try:
        url = await actions.start_url(principal, meeting_id)
    except NotAllowed:
        return _page("Not allowed", "Only the host of this meeting can start it.", 403)
    except actions.MeetingActionRefused as exc:
        return _page("Cannot start the meeting", str(exc), 409)
    except ZoomNotConnected as exc:
        return _page("Cannot start the meeting", f"{exc} Reconnect Zoom on the Meeting tab of your profile.", 409)
    except ZoomError as exc:
        return _page("Cannot start the meeting", f"Zoom could not be reached ({exc.message}). Close this tab and "
                     "try again in a moment.", 502)
    return RedirectResponse(url, status_code=303, headers=_NO_STORE)


async def join(request: Request) -> Response:
    """A client's one-time join link: to Zoom's join_url for that client and session only."""
    token = request.cookies.get(get_settings().session_cookie_name) or ""
    principal = await asyncio.to_thread(auth.principal_for_token, token)
    if principal is None:
        return RedirectResponse("/login?next=/portal", status_code=303)
    try:
        url = await asyncio.to_thread(portal.redeem_join_link, request.path_params["token"], principal)
    except portal.JoinRefused as exc:
        return _page("Cannot join", str(exc), 410, back=("/portal", "Back to My sessions"))
    return RedirectResponse(url, status_code=303, headers=_NO_STORE)


async def audit_export(request: Request) -> Response:
    """The audit page's CSV: the session and the role are checked again here, not trusted from the page."""
    token = request.cookies.get(get_settings().session_cookie_name) or ""
    principal = await asyncio.to_thread(auth.principal_for_token, token)
    if principal is None:
        return RedirectResponse("/login?next=/audit", status_code=303)
    if not can(principal, Action.VIEW_AUDIT):
        return _page("Not allowed", "Only owners and managers can export the audit trail.", 403)
    timezone = await asyncio.to_thread(profiles.viewer_timezone, principal)
    try:
        filters = entries.parse_filters(dict(request.query_params), timezone)
        rows = await asyncio.to_thread(entries.export_rows, principal, filters)
    except entries.InvalidAuditFilter as exc:
        return _page("Cannot export", str(exc), 400, back=("/audit", "Back to the audit page"))

    def lines() -> Iterator[str]:  # a sync iterator: Starlette reads it in a worker thread
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in rows:
            writer.writerow(row)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    name = f"audit-{now().astimezone(ZoneInfo(timezone)).date().isoformat()}.csv"
    return StreamingResponse(lines(), media_type="text/csv; charset=utf-8",
                             headers={**_NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'})


def _answer_page(answer: answers.Answer) -> HTMLResponse:
    return _page(answer.title, answer.message, 200 if answer.ok else 410, back=("/portal", "Open your client portal"))


async def reminder_link(request: Request) -> Response:
    """A reminder email's Confirm or Stop email reminders link. The GET shows one button (mail
    scanners that open links act on nothing); its same-origin POST acts, idempotently."""
    purpose, token = request.path_params["purpose"], request.path_params["token"]
    if purpose not in ("confirm", "stop-email"):
        return _page("Not found", "This page does not exist.", 404, back=("/portal", "Open your client portal"))
    act = answers.confirm if purpose == "confirm" else answers.stop_email
    if request.method == "POST":
        if not same_origin(request):
            return _cross_site()
        return _answer_page(await asyncio.to_thread(act, token))
    found = await asyncio.to_thread(answers.check, purpose, token)
    if not found.pending:  # not valid, already confirmed or already stopped: it says so, nothing to press
        return _answer_page(found)
    label = "Confirm" if purpose == "confirm" else "Stop email reminders"
    return _page(found.title, found.message, 200, back=None, button=label)


_SETUP_FIELDS = (("code", "Setup code", "text", "The code `python -m rxapp.manage setup-code` printed (or the app "
                                               "logged at start)."),
                 ("practice_name", "Practice name", "text", ""), ("timezone", "Timezone", "select", ""),
                 ("country", "Country (phone numbers without a country code are its)", "select", ""),
                 ("address", "Address (where in-person visits take place)", "text", ""),
                 ("pos_code", "Telehealth place of service", "select", ""),
                 ("owner_name", "Your name (the owner)", "text", ""), ("owner_email", "Your email", "email", ""),
                 ("password", "Password", "password", f"At least {MIN_PASSWORD_LENGTH} characters."),
                 ("password_again", "Password again", "password", ""))


def _setup_form(values: dict[str, str], errors: dict[str, str], status: int = 200, *,
                signup: bool = False) -> HTMLResponse:
    """The first run's form, or (`signup`) the form of a new practice at /signup; server-rendered
    (it must work before anyone can sign in)."""
    e = html.escape
    options = {"timezone": [(z, z) for z in all_timezones()], "country": [(c, c) for c in setup.countries()],
               "pos_code": list(POS_CODES.items())}
    defaults = {"timezone": "America/New_York", "country": "US", "pos_code": "10"}
    rows = []
    for name, label, kind, hint in _SETUP_FIELDS[1:] if signup else _SETUP_FIELDS:
        value = values.get(name, defaults.get(name, "")) if kind != "password" else ""
        if kind == "select":
            choices = "".join(f"<option value='{e(v)}'{' selected' if v == value else ''}>{e(t)}</option>"
                              for v, t in options[name])
            control = f"<select id={name} name={name}>{choices}</select>"
        else:
            auto = {"password": "new-password", "owner_email": "email", "code": "off"}.get(name, "on")
            control = (f"<input id={name} name={name} type={kind} value='{e(value)}' autocomplete={auto} "
                       f"{'required' if name not in ('address',) else ''}>")
        problem = f"<p class=error role=alert id={name}-error>{e(errors[name])}</p>" if name in errors else ""
        tip = f"<small>{e(hint)}</small>" if hint else ""
        rows.append(f"<label for={name}>{e(label)}</label>{control}{tip}{problem}")
    form_error = f"<p class=error role=alert>{e(errors['form'])}</p>" if "form" in errors else ""
    if signup:
        return _document("Create your practice",
                         "<p>Your practice's details and your account as its owner. We will email you a link to "
                         "confirm your email: until you open it, nothing is sent to your clients or team.</p>"
                         f"{form_error}<form method=post>{''.join(rows)}<button type=submit>Create the practice"
                         "</button></form><p><a href='/login'>I already have an account</a></p>", status, _FORM_STYLE)
    return _document("Set up your practice",
                     "<p>This installation has no practice yet. Enter the setup code, your practice's details and "
                     f"the owner's account.</p>{form_error}<form method=post>{''.join(rows)}"
                     "<button type=submit>Set up the practice</button></form>", status, _FORM_STYLE)


_FORM_STYLE = ("label{display:block;font-weight:600;margin:.9rem 0 .25rem}input,select{box-sizing:border-box;"
               "width:100%;font:inherit;padding:.5rem;border:1px solid #cdced6;border-radius:8px}"
               "small{color:#60646c}.error{color:#ce2c31;margin:.25rem 0 0}form button{margin-top:1.25rem}")


def _not_found() -> HTMLResponse:
    return _page("Page not found", "There is no such page.", 404, back=("/login", "Go to sign-in"))


async def _practice_form(request: Request, signup: bool) -> tuple[dict[str, str], setup.PracticeForm] | Response:
    """The POSTed setup or signup form (same-origin, urlencoded), or the answer refusing it."""
    if not same_origin(request):
        return _cross_site()
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return _setup_form({}, {"form": "Send the form from this page."}, 400, signup=signup)
    values = {k: v for k, v in parse_qsl((await request.body())[:16384].decode("utf-8", "replace"))}
    return values, setup.PracticeForm(**{f: values.get(f, "") for f in (
        "practice_name", "timezone", "country", "address", "pos_code", "owner_name", "owner_email", "password",
        "password_again")})


async def _signed_in_at_welcome(request: Request, ticket: str) -> Response:
    """The new owner, signed in (the HttpOnly session cookie), on Getting started."""
    new = await asyncio.to_thread(auth.redeem_ticket, ticket, request.headers.get("user-agent", ""),
                                  _address(request))
    if new is None:
        return RedirectResponse("/login", status_code=303)
    response = RedirectResponse("/welcome", status_code=303)
    _set_session_cookie(response, new.token, get_settings().session_absolute_hours * 3600)
    return response


async def setup_page(request: Request) -> Response:
    """The first run (only while no practice exists; a 404 afterwards): the form, and its POST."""
    if not await asyncio.to_thread(setup.needs_setup):
        return _not_found()
    if request.method == "GET":
        return _setup_form({}, {})
    posted = await _practice_form(request, signup=False)
    if isinstance(posted, Response):
        return posted
    values, form = posted
    try:
        ticket = await asyncio.to_thread(setup.set_up, values.get("code", ""), form)
    except setup.SetupInvalid as exc:
        return _setup_form(values, exc.errors, 422)
    except setup.SetupRefused as exc:
        return _setup_form(values, {"code": str(exc)}, 403)
    return await _signed_in_at_welcome(request, ticket)


# New practices from one address, per hour and per worker (a script filling the database with practices).
_SIGNUPS_PER_HOUR = 5
_recent_signups: dict[str, list[float]] = {}


def _signup_allowed(address: str) -> bool:
    """Whether `address` made fewer than `_SIGNUPS_PER_HOUR` practices within the hour."""
    at = now().timestamp()
    _recent_signups[address] = [t for t in _recent_signups.get(address, []) if t > at - 3600]
    return len(_recent_signups[address]) < _SIGNUPS_PER_HOUR


async def signup_page(request: Request) -> Response:
    """A new practice and its owner (`PRACTICE_SIGNUP=open`; a 404 when closed): the form, and its POST."""
    if not signup.signup_open():
        return _not_found()
    if request.method == "GET":
        return _setup_form({}, {}, signup=True)
    posted = await _practice_form(request, signup=True)
    if isinstance(posted, Response):
        return posted
    values, form = posted
    if not _signup_allowed(_address(request)):
        return _setup_form(values, {"form": "Too many practices were created from your network in the last hour. "
                                            "Try again later."}, 429, signup=True)
    try:
        ticket = await asyncio.to_thread(signup.sign_up, form)
    except setup.SetupInvalid as exc:
        return _setup_form(values, exc.errors, 422, signup=True)
    except signup.SignupClosed:
        return _not_found()
    _recent_signups[_address(request)].append(now().timestamp())
    return await _signed_in_at_welcome(request, ticket)


async def confirm_email(request: Request) -> Response:
    """The owner's email confirmation link. The GET shows one button (mail scanners that open links
    confirm nothing); its same-origin POST confirms, once."""
    token = request.path_params["token"]
    back = ("/welcome", "Go to Getting started")
    try:
        if request.method == "POST":
            if not same_origin(request):
                return _cross_site()
            info = await asyncio.to_thread(accounts.confirm_email, token)
            return _page("Email confirmed", f"Thank you: {info.email} is confirmed, so {info.practice_name} now "
                         "sends its reminders and invites.", 200, back=back)
        info = await asyncio.to_thread(accounts.check_email_confirmation, token)
    except accounts.LinkUnusable as exc:
        return _page("Cannot confirm", str(exc), 410, back=back)
    return _page("Confirm your email", f"Confirm {info.email} for {info.practice_name}.", 200, back=None,
                 button="Confirm my email")


async def practice_export(request: Request) -> Response:
    """The owner's ZIP of the practice's data, streamed; the link carries a token only the owner's page
    could make (a link from another site exports nothing)."""
    token = request.cookies.get(get_settings().session_cookie_name) or ""
    principal = await asyncio.to_thread(auth.principal_for_token, token)
    if principal is None:
        return RedirectResponse("/login?next=/settings", status_code=303)
    if not auth.check_request_token(token, "export", request.query_params.get("t", "")):
        return _page("Link not valid", "Open Practice settings and press Download the practice's data.", 403,
                     back=("/settings", "Practice settings"))
    try:
        chunks = await asyncio.to_thread(export.export_archive, principal)
    except NotAllowed:
        return _page("Not allowed", "Only the practice's owner can export its data.", 403,
                     back=("/settings", "Practice settings"))
    name = f"practice-export-{now().date().isoformat()}.zip"
    return StreamingResponse(chunks, media_type="application/zip",
                             headers={"Content-Disposition": f'attachment; filename="{name}"', **_NO_STORE})


async def calendar_feed(request: Request) -> Response:
    """A private calendar subscription (the token is the URL's secret); 404 for any other token."""
    body = await asyncio.to_thread(feeds.feed_ics, request.path_params["token"])
    if body is None:
        return Response("Not found", status_code=404, media_type="text/plain", headers=_NO_STORE)
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={"Cache-Control": "private, no-cache",
                             "Content-Disposition": 'inline; filename="calendar.ics"'})


async def health(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def waitlist_offer(request: Request) -> Response:
    """A waitlist offer's link. The GET shows the time and one button (mail scanners that open links book
    nothing); its same-origin POST books it for the first to press (services.scheduling.waitlist)."""
    token = request.path_params["token"]
    back = ("/portal", "Open your client portal")
    if request.method == "POST":
        if not same_origin(request):
            return _cross_site()
        try:
            message = await asyncio.to_thread(waitlist.claim, token, self_booking.book_waitlist_offer)
        except waitlist.OfferUnusable as exc:
            return _page("Cannot book this time", str(exc), 410, back=back)
        booked = message.startswith("Booked")
        return _page("Booked" if booked else "That time has gone", message, 200 if booked else 409, back=back)
    view = await asyncio.to_thread(waitlist.offer_view, token)
    if view.refusal:
        title = "That time has gone" if view.state == waitlist.GONE else "Cannot book this time"
        return _page(title, view.refusal, 410, back=back)
    return _page(f"A time with {view.practitioner_name}",
                 f"{view.when}, {view.how.lower()}, at {view.practice_name}. The first person to book it gets it.",
                 200, back=None, button="Book this time")


def build() -> Starlette:
    """Our routes; the middleware also covers everything Reflex mounts inside (events, the frontend)."""
    return Starlette(middleware=[Middleware(SecurityHeaders)], routes=[
        Route("/auth/session", start_session, methods=["POST"]),
        Route("/auth/session", to_sign_in, methods=["GET"]),
        Route("/auth/signed-out", signed_out, methods=["POST"]),
        Route("/auth/signed-out", to_sign_in, methods=["GET"]),
        Route("/auth/zoom/callback", zoom_callback, methods=["GET"]),
        Route("/api/zoom/webhook", zoom_webhook, methods=["POST"]),
        Route(STATUS_CALLBACK_PATH, twilio_status, methods=["POST"]),
        Route(INBOUND_PATH, twilio_inbound, methods=["POST"]),
        Route("/meetings/{meeting_id:int}/start", start_meeting, methods=["GET"]),
        Route("/join/{token}", join, methods=["GET"]),
        Route("/audit/export.csv", audit_export, methods=["GET"]),
        Route("/api/health", health, methods=["GET"]),
        Route("/setup", setup_page, methods=["GET", "POST"]),
        Route("/signup", signup_page, methods=["GET", "POST"]),
        Route("/confirm-email/{token:str}", confirm_email, methods=["GET", "POST"]),
        Route("/w/{token:str}", waitlist_offer, methods=["GET", "POST"]),
        Route("/export.zip", practice_export, methods=["GET"]),
        Route("/feeds/{token:str}.ics", calendar_feed, methods=["GET"]),
        Route("/r/{purpose:str}/{token:str}", reminder_link, methods=["GET", "POST"]),
    ])
