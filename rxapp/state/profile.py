"""My profile: the Details tab (display name, credentials, default length) and the Meeting tab (Zoom
connection status and actions, default timezone), and the page Zoom's consent returns to."""

from __future__ import annotations

import asyncio

import reflex as rx

from rxapp.services.identity import mfa, sessions
from rxapp.services.permissions import Action, NotAllowed, Principal
from rxapp.services.phrases import count
from rxapp.services.practice import profiles
from rxapp.services.practice.profiles import CREDENTIALS_MAX as CREDENTIALS_MAX  # re-exported for the page
from rxapp.services.practice.profiles import MAX_LENGTH_MINUTES as MAX_LENGTH_MINUTES
from rxapp.services.practice.profiles import MIN_LENGTH_MINUTES as MIN_LENGTH_MINUTES
from rxapp.services.practice.profiles import NAME_MAX as NAME_MAX
from rxapp.services.scheduling import feeds
from rxapp.services.telehealth.zoom import connections
from rxapp.services.telehealth.zoom.errors import ZoomError, ZoomNeedsReconnect, ZoomNotConnected
from rxapp.services.telehealth.zoom.oauth import SCOPE_DESCRIPTIONS
from rxapp.services.timezones import all_timezones, format_local
from rxapp.state.auth import AuthState, sign_in_again
from rxapp.state.zoom_connect import start_zoom_connect


class ProfileDetailsState(AuthState):
    has_details: bool = False
    edit_display_name: str = ""
    edit_credentials: str = ""
    edit_length: str = ""
    edit_errors: dict[str, str] = {}

    @rx.event
    async def load(self):
        self.edit_errors = {}
        try:
            principal = await self._require(Action.OWN_PROFILE)
            details = await asyncio.to_thread(profiles.profile_details, principal, principal.user_id)
        except NotAllowed:  # not a practitioner: no profile fields to edit
            self.has_details = False
            return
        self.edit_display_name, self.edit_credentials = details.display_name, details.credentials
        self.edit_length = str(details.default_length_minutes)
        self.has_details = True

    @rx.event
    def set_edit(self, field: str, value: str):
        if field in ("display_name", "credentials", "length"):
            setattr(self, f"edit_{field}", value[:300])

    @rx.event
    async def save(self):
        principal = await self._require(Action.OWN_PROFILE)
        try:
            await asyncio.to_thread(
                profiles.update_profile, principal, principal.user_id, display_name=self.edit_display_name,
                credentials=self.edit_credentials, default_length_minutes=self.edit_length)
        except profiles.ProfileInvalid as exc:
            self.edit_errors = exc.errors
            return
        except NotAllowed:
            yield rx.toast.error("You have no practitioner profile.")
            return
        self.edit_errors = {}
        yield rx.toast.success("Your profile was saved.")


STATUS_LABELS = {"not_connected": "Not connected", "connected": "Connected", "needs_reconnect": "Needs reconnect"}


class ZoomTabState(AuthState):
    has_profile: bool = False
    status: str = "not_connected"
    connected_since: str = ""
    scopes: list[str] = []
    last_error: str = ""
    notice: str = ""
    allow_zoom: bool = False
    telehealth_enabled: bool = False
    timezone: str = ""
    needing_attention: list[str] = []
    busy: bool = False

    @rx.var
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @rx.var(cache=True)
    def timezone_options(self) -> list[str]:
        return list(all_timezones())

    @rx.event
    async def load(self):
        try:
            principal = await self._require(Action.CONNECT_OWN_ZOOM)
        except NotAllowed:
            return
        await self._refresh_view(principal.user_id)

    async def _refresh_view(self, practitioner_id: int) -> None:
        principal = await self._require(Action.CONNECT_OWN_ZOOM)
        try:
            view = await asyncio.to_thread(connections.connection_view, principal, practitioner_id)
        except NotAllowed:
            self.has_profile = False
            return
        tz = await asyncio.to_thread(profiles.viewer_timezone, principal)
        self.has_profile, self.status, self.timezone = True, view.status, tz
        self.connected_since = format_local(view.connected_at, tz) if view.status != "not_connected" else ""
        self.scopes = [SCOPE_DESCRIPTIONS.get(s, s) for s in view.scopes]
        self.last_error, self.notice = view.last_error, view.notice
        self.allow_zoom, self.telehealth_enabled = view.allow_zoom, view.telehealth_enabled

    @rx.event
    async def connect(self):
        """Connect to Zoom (also Reconnect): off to Zoom's sign-in and consent pages."""
        principal = await self._require(Action.CONNECT_OWN_ZOOM)
        return await start_zoom_connect(self, principal, principal.user_id)

    @rx.event
    async def disconnect(self):
        principal = await self._require(Action.CONNECT_OWN_ZOOM)
        self.busy = True
        yield
        try:
            result = await connections.disconnect(principal, principal.user_id)
        except ZoomNotConnected:
            self.busy = False
            yield rx.toast.info("Zoom was not connected.")
            return
        self.needing_attention = result.meetings_needing_attention
        await self._refresh_view(principal.user_id)
        self.busy = False
        if result.revoked_at_zoom:
            yield rx.toast.success("Zoom disconnected. The app's access was revoked at Zoom.")
        else:
            yield rx.toast.warning("Zoom disconnected here, but Zoom could not confirm the revocation. "
                                   "Remove the app in your Zoom account to be sure.")

    @rx.event
    async def check_now(self):
        """The Refresh control: ask Zoom now (refreshing the token if due)."""
        principal = await self._require(Action.CONNECT_OWN_ZOOM)
        self.busy = True
        yield
        try:
            message = await connections.check(principal, principal.user_id)
            toast = rx.toast.success(message)
        except ZoomNeedsReconnect:
            toast = rx.toast.error("Error refreshing access token: reconnect Zoom.")
        except ZoomNotConnected as exc:
            toast = rx.toast.error(str(exc))
        except ZoomError as exc:
            toast = rx.toast.error(f"Zoom could not be reached: {exc.message}. Try again in a moment.")
        await self._refresh_view(principal.user_id)
        self.busy = False
        yield toast

    @rx.event
    async def dismiss_notice(self):
        principal = await self._require(Action.CONNECT_OWN_ZOOM)
        await asyncio.to_thread(connections.acknowledge_notice, principal, principal.user_id)
        self.notice = ""

    @rx.event
    async def save_timezone(self, timezone: str):
        principal = await self._require(Action.CONNECT_OWN_ZOOM)
        try:
            await asyncio.to_thread(profiles.set_own_timezone, principal, timezone)
        except (profiles.InvalidTimezone, LookupError) as exc:
            return rx.toast.error(str(exc))
        self.timezone = timezone
        await self._refresh_view(principal.user_id)
        return rx.toast.success(f"Default timezone set to {timezone}.")


class ZoomReviewState(AuthState):
    """The page Zoom's callback lands on: what was granted, or why nothing was."""

    title: str = ""
    granted: list[str] = []
    error: str = ""
    declined: bool = False
    back_to: str = "/profile"

    @rx.event
    async def load(self):
        principal = await self._loaded_principal()
        if principal is None:
            return sign_in_again(self._path())
        params = self.router.url.query_parameters
        self.granted, self.declined, self.error = [], False, ""
        self.back_to = "/profile" if principal.role == "practitioner" else "/settings"
        if params.get("error"):
            self.title = "Zoom was not connected"
            self.error = connections.REFUSAL_MESSAGES.get(params["error"], connections.REFUSAL_MESSAGES["zoom_failed"])
            return None
        try:
            attempt = int(params.get("attempt", "0"))
        except ValueError:
            attempt = 0
        outcome = await asyncio.to_thread(connections.review, principal, attempt)
        if outcome is None:
            self.title, self.error = "Nothing to review", "This connection result is not available any more."
            return None
        self.back_to = "/profile" if outcome.practitioner_id == principal.user_id else "/settings"
        if outcome.declined:
            self.title, self.declined = "Zoom was not connected", True
            self.error = "Access was declined at Zoom, so nothing was connected. You can try again at any time."
            return None
        if outcome.refused:  # the Zoom account is held by another practitioner
            self.title, self.error = "Zoom was not connected", outcome.refused
            return None
        self.title = f"Zoom connected for {outcome.practitioner_name}"
        self.granted = [SCOPE_DESCRIPTIONS.get(s, s) for s in outcome.scopes]
        return None


class SecurityState(AuthState):
    """My profile's Security tab: two-step sign-in (staff) and the signed-in sessions (everyone)."""

    mfa_available: bool = False  # staff only: clients are never asked for it
    mfa_enabled: bool = False
    mfa_required: bool = False
    codes_left: int = 0
    enrolling: bool = False
    qr: str = ""
    secret: str = ""
    recovery_codes: list[str] = []  # shown once, right after turning it on
    error: str = ""
    sessions: list[dict[str, str]] = []
    _secret: str = ""

    @rx.event
    async def load(self):
        principal = await self._principal()
        if principal is None:
            return
        self.enrolling, self.qr, self.secret, self._secret, self.error = False, "", "", "", ""
        await self._show(principal)

    async def _show(self, principal: Principal) -> None:
        try:
            status = await asyncio.to_thread(mfa.status, principal)
            self.mfa_available, self.mfa_enabled, self.mfa_required = True, status.enabled, status.required
            self.codes_left = status.recovery_codes_left
        except NotAllowed:
            self.mfa_available = False
        found = await asyncio.to_thread(sessions.my_sessions, principal, self._session_token())
        tz = await asyncio.to_thread(profiles.viewer_timezone, principal)
        self.sessions = [{"id": str(s.id), "what": f"{s.browser} on {s.device}", "place": s.place,
                          "since": format_local(s.signed_in_at, tz), "active": format_local(s.last_active_at, tz),
                          "current": "1" if s.current else ""} for s in found]

    @rx.event
    async def begin_mfa(self):
        principal = await self._require(Action.OWN_PROFILE)
        try:
            enrolment = await asyncio.to_thread(mfa.begin, principal)
        except NotAllowed:
            return rx.toast.error("Two-step sign-in is for the practice's team.")
        self._secret, self.secret, self.qr, self.enrolling, self.error = (enrolment.secret, enrolment.secret,
                                                                          enrolment.qr, True, "")
        return None

    @rx.event
    async def confirm_mfa(self, form: dict[str, str]):
        principal = await self._require(Action.OWN_PROFILE)
        try:
            codes = await asyncio.to_thread(mfa.enable, principal, self._secret, (form.get("code") or "").strip())
        except mfa.CodeRejected as exc:
            self.error = str(exc)
            return None
        except NotAllowed:
            return rx.toast.error("Two-step sign-in is for the practice's team.")
        self.recovery_codes, self.enrolling, self.qr, self.secret, self._secret, self.error = codes, False, "", "", \
            "", ""
        await self._show(principal)
        return rx.toast.success("Two-step sign-in is on.")

    @rx.event
    async def disable_mfa(self, form: dict[str, str]):
        principal = await self._require(Action.OWN_PROFILE)
        try:
            await asyncio.to_thread(mfa.disable, principal, form.get("password") or "")
        except mfa.CodeRejected as exc:
            self.error = str(exc)
            return None
        except NotAllowed as exc:
            self.error = str(exc) if "requires" in str(exc) else "Two-step sign-in is for the practice's team."
            return None
        self.error = ""
        await self._show(principal)
        return rx.toast.success("Two-step sign-in is off.")

    @rx.event
    def dismiss_codes(self):
        self.recovery_codes = []

    @rx.event
    async def end_session(self, session_id: int):
        """Sign out one of my sessions (the server checks it is mine)."""
        principal = await self._require(Action.OWN_PROFILE)
        try:
            await asyncio.to_thread(sessions.end_session, principal, int(session_id))
        except (NotAllowed, ValueError):
            await self._show(principal)
            return rx.toast.error("That session is not one of yours (or has ended already).")
        await self._show(principal)
        return rx.toast.success("That session is signed out.")

    @rx.event
    async def end_others(self):
        principal = await self._require(Action.OWN_PROFILE)
        ended = await asyncio.to_thread(sessions.end_other_sessions, principal, self._session_token())
        await self._show(principal)
        return rx.toast.success(f"Signed out of {count(ended, 'other session')}.")


class FeedState(AuthState):
    """My profile → Calendar feed: a private subscription URL of one's appointments (and, for the
    owner, of everyone's). The URL is shown once, when made: only its hash is kept."""

    may_have_own: bool = False
    may_have_everyone: bool = False
    own: bool = False
    everyone: bool = False
    full_names: bool = False
    url: str = ""  # the link just made (shown once)
    webcal: str = ""

    @rx.event
    async def load(self):
        principal = await self._principal()
        if principal is None:
            return
        self.url = self.webcal = ""
        await self._show(principal)

    async def _show(self, principal: Principal) -> None:
        found = await asyncio.to_thread(feeds.status, principal)
        self.may_have_own, self.may_have_everyone = found.may_have_own, found.may_have_everyone
        self.own, self.everyone, self.full_names = found.own, found.everyone, found.full_names

    @rx.event
    async def make(self, everyone: bool):
        principal = await self._require(Action.OWN_PROFILE)
        try:
            url = await asyncio.to_thread(feeds.new_feed, principal, bool(everyone))
        except NotAllowed as exc:
            return rx.toast.error(str(exc).capitalize() + ".")
        self.url, self.webcal = url, "webcal://" + url.split("://", 1)[1]
        await self._show(principal)
        return rx.toast.success("A new calendar link: the old one (if any) no longer works.")

    @rx.event
    async def stop(self, everyone: bool):
        principal = await self._require(Action.OWN_PROFILE)
        await asyncio.to_thread(feeds.stop_feed, principal, bool(everyone))
        self.url = self.webcal = ""
        await self._show(principal)
        return rx.toast.success("The calendar link no longer works.")

    @rx.event
    async def set_full_names(self, full: bool):
        principal = await self._require(Action.OWN_PROFILE)
        try:
            await asyncio.to_thread(feeds.set_full_names, principal, bool(full))
        except NotAllowed:
            return rx.toast.error("Only the owner decides how feeds name clients.")
        await self._show(principal)
        return None
