"""The base state of every signed-in page: the user is re-derived from the session cookie
on every page load and every handler, never kept as the only copy in Reflex state."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import quote

import reflex as rx
from reflex.app import default_backend_exception_handler
from reflex.event import Event, EventSpec
from reflex.middleware import Middleware

from rxapp.services.identity import auth
from rxapp.services.permissions import Action, NotAllowed, Principal, can, navigation_for, page_action


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


class NotSignedIn(Exception):
    """Nobody is signed in on this browser any more (signed out here or in another tab, or the
    session ended). Not a `NotAllowed`, so no page swallows it: `on_backend_error` sends the
    browser to the sign-in page."""

    def __init__(self, path: str) -> None:
        super().__init__("not signed in")
        self.path = path


def sign_in_again(path: str) -> EventSpec:
    """To the sign-in page, coming back to `path` afterwards."""
    return rx.redirect(f"/login?next={quote(path)}", replace=True)


def on_backend_error(exception: Exception) -> EventSpec:
    """The app's backend exception handler: a signed-out browser goes to sign-in, anything else
    gets Reflex's own handling (logged, and a generic error toast)."""
    if isinstance(exception, NotSignedIn):
        return sign_in_again(exception.path)
    return default_backend_exception_handler(exception)


def _app_states(parent: type[rx.State] = rx.State) -> list[type[rx.State]]:
    """Every state class of ours under `parent`, parents before children."""
    found: list[type[rx.State]] = []
    for cls in sorted(parent.get_substates(), key=lambda c: c.get_full_name()):
        if cls.__module__.startswith("rxapp."):
            found.append(cls)
        found.extend(_app_states(cls))
    return found


async def forget_browser_state(state: rx.State) -> None:
    """Reset every page's state of this browser session (the whole tree of `state`), so nothing
    one user saw can reach the next one. Loads each state first: with Redis they load lazily."""
    loaded = [await state.get_state(cls) for cls in _app_states()]
    for instance in loaded:
        instance.reset()


class AuthState(rx.State):
    user_name: str = ""
    user_role: str = ""
    nav: list[dict[str, str]] = []
    # The page path the server allowed or refused on the last load; the shell shows a page's
    # content only when its own path was allowed, so a stale answer never shows another page.
    allowed_path: str = ""
    denied_path: str = ""
    # The user this browser's state tree was filled for (0: nobody). A load that finds another
    # user, or none, forgets the whole tree first.
    _tree_user_id: int = 0

    def _session_token(self) -> str:
        return auth.session_token_from_cookie_header(self.router.headers.cookie) or ""

    async def _principal(self) -> Principal | None:
        return await asyncio.to_thread(auth.principal_for_token, self._session_token())

    async def _loaded_principal(self) -> Principal | None:
        """The signed-in user, for a page load or a (re)connect: the state tree of this browser
        is forgotten when it was filled for someone else (or for somebody, and now nobody)."""
        principal = await self._principal()
        user_id = principal.user_id if principal else 0
        if user_id != self._tree_user_id:
            await forget_browser_state(self)
            self._tree_user_id = user_id
        return principal

    def _path(self) -> str:
        return (self.router.url.path or "/").rstrip("/") or "/"

    async def _require(self, action: Action) -> Principal:
        """The signed-in user if they may do `action`; raises `NotSignedIn` when nobody is signed
        in (any more), `NotAllowed` when the user may not."""
        principal = await self._principal()
        if principal is None:
            raise NotSignedIn(self._path())
        if not can(principal, action):
            raise NotAllowed(action.value)
        return principal

    def _show_user(self, principal: Principal) -> None:
        self.user_name = principal.full_name
        self.user_role = principal.role.value.capitalize()
        self.nav = [{"label": i.label, "path": i.path} for i in navigation_for(principal)]

    @rx.event
    async def guard(self):
        """on_load of every app page: sign-in required, then the page's own permission."""
        path = self._path()
        principal = await self._loaded_principal()
        if principal is None:
            return sign_in_again(path)
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
        # Forget every page's data, and let the next page load start a new Reflex session
        # (a new client token) for whoever signs in next in this tab.
        await forget_browser_state(self)
        return [rx.remove_session_storage("token"), post_to_server("/auth/signed-out")]


class BrowserOwnerCheck(Middleware):
    """Every (re)connect sends the browser its whole state tree: first make sure the tree was
    filled for the user whose session cookie this connection carries, else forget it."""

    async def preprocess(self, app: rx.App, state: rx.State, event: Event) -> None:
        if event.name in {f"{rx.State.get_full_name()}.{name}" for name in ("hydrate", "hydrate_and_load")}:
            await (await state.get_state(AuthState))._loaded_principal()
