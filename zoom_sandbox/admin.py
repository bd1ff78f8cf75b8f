"""Admin page for a person evaluating the app: connections, meetings, webhooks.

Available whenever the sandbox runs (the sandbox is only ever run locally), even
with the control API off, because a human needs to see what the app did.
"""

from __future__ import annotations

import json
from html import escape

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from zoom_sandbox.core import Sandbox
from zoom_sandbox.meetings import fmt
from zoom_sandbox.pages import page
from zoom_sandbox.users import DEMO_USERS, find_user


def _connections(sandbox: Sandbox) -> str:
    rows = []
    for user in DEMO_USERS:
        grant = sandbox.store.active_grant(user.email, sandbox.config.client_id)
        if grant is None:
            cell = "<td>not connected</td><td></td>"
        else:
            cell = (f"<td>{escape(grant.client_id)} since {fmt(grant.created_at)}<br>"
                    f"<small>{escape(' '.join(grant.scopes))}</small></td>"
                    f'<td><form method="post" action="/_sandbox/admin/remove-app">'
                    f'<input type="hidden" name="email" value="{escape(user.email)}">'
                    f'<button type="submit" aria-label="Remove app for {escape(user.email)}">Remove app'
                    "</button></form></td>")
        kind = "licensed" if user.licensed else "basic"
        rows.append(f"<tr><td>{escape(user.email)} ({kind})<br><small>{user.id}</small></td>{cell}</tr>")
    return ("<table><thead><tr><th>Zoom user</th><th>Connected app</th><th>Action</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def _meetings(sandbox: Sandbox) -> str:
    rows = [
        f"<tr><td>{m.id}</td><td>{escape(m.topic)}</td><td>{escape(m.host_email)}</td>"
        f"<td>{fmt(m.start_time)} ({m.duration} min, {escape(m.timezone)})</td><td>{m.status}</td>"
        f"<td>{len(m.participants)}</td></tr>"
        for m in sorted(sandbox.store.meetings.values(), key=lambda m: m.created_at, reverse=True)
    ]
    return ("<table><thead><tr><th>ID</th><th>Topic</th><th>Host</th><th>Start</th><th>State</th>"
            f"<th>Participants</th></tr></thead><tbody>{''.join(rows) or '<tr><td colspan=6>none</td></tr>'}"
            "</tbody></table>")


def _deliveries(sandbox: Sandbox) -> str:
    rows = []
    for d in reversed(sandbox.webhooks.deliveries[-200:]):
        answers = "<br>".join(
            escape(f"{a.status} {a.answer[:80]}" if a.status is not None else a.error) for a in d.attempts)
        dup = f" (duplicate of #{d.duplicate_of})" if d.duplicate_of else ""
        body = escape(json.dumps(json.loads(d.body))[:300])
        rows.append(f"<tr><td>#{d.id}{dup}</td><td>{escape(d.event)}</td><td>{d.state}</td>"
                    f"<td>{answers or 'none yet'}</td><td><small>{body}</small></td></tr>")
    return ("<table><thead><tr><th>Delivery</th><th>Event</th><th>State</th><th>Answers</th><th>Body</th>"
            f"</tr></thead><tbody>{''.join(rows) or '<tr><td colspan=5>none</td></tr>'}</tbody></table>")


async def admin(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    target = escape(sandbox.config.webhook_url or "(none: webhooks are not delivered)")
    return page("Zoom sandbox admin", f"""<p>Sandbox clock: {fmt(sandbox.store.now())}.
Webhook URL: <code>{target}</code>.</p>
<h2>Connected apps</h2>{_connections(sandbox)}
<h2>Meetings</h2>{_meetings(sandbox)}
<h2>Webhook deliveries</h2>{_deliveries(sandbox)}""")


async def remove_app(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    form = await request.form()
    user = find_user(str(form.get("email", "")))
    if user is not None:
        grant = sandbox.store.active_grant(user.email, sandbox.config.client_id)
        if grant is not None:
            sandbox.deauthorize(grant, "removed on the admin page")
    return RedirectResponse("/_sandbox/admin", status_code=303)


def routes() -> list[Route]:
    return [
        Route("/_sandbox/admin", admin, methods=["GET"]),
        Route("/_sandbox/admin/remove-app", remove_app, methods=["POST"]),
    ]
