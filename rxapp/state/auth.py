"""The base state of every signed-in page: the user is re-derived from the session cookie
on every page load and every handler, never kept as the only copy in Reflex state."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import quote

import reflex as rx

from rxapp.services import auth
from rxapp.services.permissions import Action, NotAllowed, Principal, can, navigation_for, page_action


def navigate_to_server(path: str) -> rx.event.EventSpec:
    """A full page load of an HTTP route of ours (`rx.redirect` would route on the client)."""
    return rx.call_script(f"window.location.assign({json.dumps(path)})")


def post_to_server(path: str, fields: dict[str, str] | None = None) -> rx.event.EventSpec:
    """Submit a form POST to an HTTP route of ours that changes state (those refuse GETs and
    other sites' POSTs, so that a link or an image elsewhere cannot act for the user)."""
    return rx.call_script(
        "(() => { const form = document.createElement('form'); form.method = 'POST'; "
        f"form.action = {json.dumps(path)}; "
        f"for (const [name, value] of Object.entries({json.dumps(fields or {})})) {{ "
        "const input = document.createElement('input'); input.type = 'hidden'; input.name = name; "
        "input.value = value; form.appendChild(input); } "
        "document.body.appendChild(form); form.submit(); })()")


class AuthState(rx.State):
    user_name: str = ""
    user_role: str = ""
    nav: list[dict[str, str]] = []
    # The page path the server allowed or refused on the last load; the shell shows a page's
    # content only when its own path was allowed, so a stale answer never shows another page.
    allowed_path: str = ""
    denied_path: str = ""

    def _session_token(self) -> str:
        return auth.session_token_from_cookie_header(self.router.headers.cookie) or ""

    async def _principal(self) -> Principal | None:
        return await asyncio.to_thread(auth.principal_for_token, self._session_token())

    async def _require(self, action: Action) -> Principal:
        """The signed-in user if they may do `action`; raises `NotAllowed` otherwise."""
        principal = await self._principal()
        if principal is None or not can(principal, action):
            raise NotAllowed(action.value)
        return principal

    def _show_user(self, principal: Principal) -> None:
        self.user_name = principal.full_name
        self.user_role = principal.role.value.capitalize()
        self.nav = [{"label": i.label, "path": i.path} for i in navigation_for(principal)]

    @rx.event
    async def guard(self):
        """on_load of every app page: sign-in required, then the page's own permission."""
        path = (self.router.url.path or "/").rstrip("/") or "/"
        principal = await self._principal()
        if principal is None:
            self.allowed_path = self.denied_path = ""
            return rx.redirect(f"/login?next={quote(path)}", replace=True)
        self._show_user(principal)
        action = page_action(path)
        if action is not None and can(principal, action):
            self.allowed_path, self.denied_path = path, ""
        else:
            self.allowed_path, self.denied_path = "", path
        return None

    @rx.event
    async def sign_out(self):
        await asyncio.to_thread(auth.sign_out, self._session_token())
        self.user_name = self.user_role = self.allowed_path = self.denied_path = ""
        self.nav = []
        return post_to_server("/auth/signed-out")
