"""Client portal: My sessions (upcoming, cancelled and past visits) and the live waiting room."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import reflex as rx

from rxapp import live
from rxapp.clock import now
from rxapp.services.changes import AppointmentChanged
from rxapp.services.clients import history as client_history
from rxapp.services.identity import auth
from rxapp.services.permissions import Action, NotAllowed, Principal, can
from rxapp.services.practice import profiles
from rxapp.services.telehealth import portal
from rxapp.services.timezones import format_local
from rxapp.state.auth import AuthState
from rxapp.state.client_record import visit_row

log = logging.getLogger(__name__)

# Changes reach an open page by push; while its socket is up the page sends nothing on its own,
# except this keep-alive, well inside Reflex's state expiry (3600 s) and the live watch (live.py):
# without it an idle room left open for hours would be forgotten by the server.
KEEP_ALIVE_MS = 20 * 60 * 1000
# When push is unavailable (the socket is down, or the watch could not be registered): look again
# this often.
SAFETY_POLL_MS = 30 * 1000

# A telehealth visit's state as the client reads it (a booked one waiting for its start says "Booked").
STATUS_TEXT = {portal.SessionStatus.WAITING: "Booked", portal.SessionStatus.LIVE: "Your provider has started",
               portal.SessionStatus.SETTING_UP: "Being set up: your practice has been told",
               portal.SessionStatus.ENDED: "Ended", portal.SessionStatus.CANCELLED: "Cancelled"}


async def _watch(topic: str, client_token: str) -> bool:
    """Register for pushes; False when push is unavailable (the page then polls slowly)."""
    try:
        await live.watch(topic, client_token)
    except Exception:
        log.exception("live updates unavailable; the page falls back to polling")
        return False
    return True


def _upcoming_row(v: client_history.Visit, session: portal.SessionView | None, timezone: str) -> dict[str, str]:
    """One upcoming visit with its actions: the waiting room (Launch within the window) for
    telehealth; Reschedule and Cancel while it is booked and not started."""
    row = visit_row(v, timezone, for_client=True)
    live = session is not None and session.status == portal.SessionStatus.LIVE
    row.update(change="1" if v.status == "booked" and not live else "",
               launch="1" if session is not None and session.can_launch else "",
               href=f"/portal/waiting?meeting={v.appointment_id}" if session is not None else "")
    if session is not None:
        row["status"] = STATUS_TEXT[session.status]
    return row


class PortalState(AuthState):
    """My sessions: one list of upcoming visits (each once, with its actions), cancelled future
    visits under their own heading, then past visits; kept current by push."""

    upcoming: list[dict[str, str]] = []
    cancelled: list[dict[str, str]] = []
    past: list[dict[str, str]] = []
    timezone: str = ""
    push_ready: bool = False
    # When the list changes by the clock alone (a launch window opens, a session ends), in ms.
    next_change_ms: int = KEEP_ALIVE_MS
    _client_id: int = 0

    @rx.event
    async def load(self):
        try:
            principal = await self._require(Action.USE_PORTAL)
        except NotAllowed:
            self._clear()
            return
        await self._show(principal)
        # This browser left any waiting room: pushes about that meeting need no work there any more.
        (await self.get_state(WaitingRoomState))._meeting_id = 0
        self._client_id = await asyncio.to_thread(portal.client_id, principal)
        self.push_ready = await _watch(f"client:{self._client_id}", self.router.session.client_token)

    def _clear(self) -> None:
        self.upcoming, self.cancelled, self.past = [], [], []

    async def _show(self, principal: Principal) -> None:
        history, views, tz = await asyncio.gather(asyncio.to_thread(client_history.my_history, principal),
                                                  asyncio.to_thread(portal.my_sessions, principal),
                                                  asyncio.to_thread(profiles.viewer_timezone, principal))
        self.timezone = tz
        by_id = {v.meeting_id: v for v in views}
        self.upcoming = [_upcoming_row(v, by_id.get(v.appointment_id), tz) for v in history.upcoming]
        self.cancelled = [visit_row(v, tz, for_client=True) for v in history.cancelled]
        self.past = [visit_row(v, tz, for_client=True) for v in history.past]
        at = now()
        moments = [t for v in views for t in (v.start_at - portal.LAUNCH_WINDOW,
                                              v.start_at + timedelta(minutes=v.duration_minutes)) if t > at]
        self.next_change_ms = min([KEEP_ALIVE_MS, *(int((t - at).total_seconds() * 1000) + 1000 for t in moments)])

    @rx.event
    async def refresh(self):
        """Pushed changes; and the clock (a launch window opens, a session ends), which also renews the watch."""
        try:
            await self._show(await self._require(Action.USE_PORTAL))
        except NotAllowed:
            self._clear()
            return
        if self._client_id:
            self.push_ready = await _watch(f"client:{self._client_id}", self.router.session.client_token)

    async def _changed(self, change: AppointmentChanged) -> None:
        if not self._client_id:  # this browser shows another page now (see WaitingRoomState.load)
            return
        try:
            await self._show(await self._require(Action.USE_PORTAL))
        except NotAllowed:
            self._clear()


class WaitingRoomState(AuthState):
    status: str = "loading"  # loading | missing | a portal.SessionStatus
    topic: str = ""
    practitioner: str = ""
    when: str = ""
    join_href: str = ""
    late: str = ""  # the provider's "running late" notice, while waiting
    push_ready: bool = False
    _meeting_id: int = 0
    _timezone: str = "UTC"

    @rx.event
    async def load(self):
        """Open the waiting room of one of the client's own sessions (any other id: not found)."""
        self.status, self.join_href = "loading", ""
        try:
            principal = await self._require(Action.USE_PORTAL)
            meeting_id = int(self.router.url.query_parameters.get("meeting", "0"))
            view = await asyncio.to_thread(portal.enter_waiting_room, principal, meeting_id)
        except (NotAllowed, ValueError):
            self.status, self._meeting_id = "missing", 0
            return
        self._meeting_id = meeting_id
        # This browser left My sessions: pushes about the client's other meetings need no work here.
        (await self.get_state(PortalState))._client_id = 0
        self.push_ready = await _watch(f"meeting:{meeting_id}", self.router.session.client_token)
        self._timezone = await asyncio.to_thread(profiles.viewer_timezone, principal)
        link = await asyncio.to_thread(portal.issue_join_link, principal, meeting_id) if view.status == "live" else ""
        self._show(view, link)

    def _show(self, view: portal.SessionView, link: str | None) -> None:
        shown = {"topic": view.topic, "practitioner": view.practitioner_name,
                 "when": format_local(view.start_at, self._timezone), "status": view.status, "late": view.late}
        if view.status != "live":
            shown["join_href"] = ""
        elif not self.join_href:
            shown["join_href"] = link or ""
        for name, value in shown.items():
            if getattr(self, name) != value:  # unchanged values send nothing
                setattr(self, name, value)

    @staticmethod
    def _read(session_token: str, meeting_id: int, with_link: bool) -> tuple[portal.SessionView, str | None]:
        """The room as it is now, and a join link once live (one worker-thread hop per push)."""
        principal = auth.principal_for_token(session_token)
        if principal is None or not can(principal, Action.USE_PORTAL):
            raise NotAllowed(Action.USE_PORTAL.value)
        view = portal.waiting_room(principal, meeting_id)
        link = portal.issue_join_link(principal, meeting_id) if with_link and view.status == "live" else None
        return view, link

    async def _refresh(self) -> None:
        if not self._meeting_id:
            return
        try:
            view, link = await asyncio.to_thread(self._read, self._session_token(), self._meeting_id,
                                                 not self.join_href)
        except NotAllowed:
            self.status = "missing"
            return
        self._show(view, link)

    @rx.event
    async def poll(self):
        """The safety poll, only while push is unavailable: look again, and ask for pushes again (a
        restarted worker without Redis has forgotten every watch)."""
        await self.keep_alive()
        await self._refresh()

    @rx.event
    async def keep_alive(self):
        """While connected: keep this state and its live watch from expiring; reads nothing."""
        if self._meeting_id:
            self.push_ready = await _watch(f"meeting:{self._meeting_id}", self.router.session.client_token)

    async def _changed(self, change: AppointmentChanged) -> None:
        if change.appointment_id == self._meeting_id:
            await self._refresh()


live.on_change("client", PortalState, lambda state, change: state._changed(change))
live.on_change("meeting", WaitingRoomState, lambda state, change: state._changed(change))
