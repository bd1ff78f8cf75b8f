"""Client portal: My sessions and the live waiting room."""

from __future__ import annotations

import asyncio

import reflex as rx

from rxapp import live
from rxapp.services import portal, profiles
from rxapp.services.changes import MeetingChanged
from rxapp.services.permissions import Action, NotAllowed, Principal
from rxapp.services.timezones import format_local
from rxapp.state.auth import AuthState

STATUS_TEXT = {portal.SessionStatus.WAITING: "Scheduled", portal.SessionStatus.LIVE: "Your provider has started",
               portal.SessionStatus.SETTING_UP: "Being set up: your practice has been told",
               portal.SessionStatus.ENDED: "Ended", portal.SessionStatus.CANCELLED: "Cancelled"}


class PortalState(AuthState):
    sessions: list[dict[str, str]] = []
    timezone: str = ""

    @rx.event
    async def load(self):
        try:
            principal = await self._require(Action.USE_PORTAL)
        except NotAllowed:
            self.sessions = []
            return
        await self._show(principal)
        await live.watch(f"client:{await asyncio.to_thread(portal.client_id, principal)}",
                         self.router.session.client_token)

    async def _show(self, principal: Principal) -> None:
        views, tz = await asyncio.gather(asyncio.to_thread(portal.my_sessions, principal),
                                         asyncio.to_thread(profiles.viewer_timezone, principal))
        self.timezone = tz
        self.sessions = [{"when": format_local(v.start_at, tz), "practitioner": v.practitioner_name,
                          "topic": v.topic, "status": STATUS_TEXT[v.status], "launch": "1" if v.can_launch else "",
                          "href": f"/portal/waiting?meeting={v.meeting_id}"} for v in views]

    @rx.event
    async def refresh(self):
        try:
            await self._show(await self._require(Action.USE_PORTAL))
        except NotAllowed:
            self.sessions = []

    async def _changed(self, change: MeetingChanged) -> None:
        await self.refresh()


class WaitingRoomState(AuthState):
    status: str = "loading"  # loading | missing | a portal.SessionStatus
    topic: str = ""
    practitioner: str = ""
    when: str = ""
    join_href: str = ""
    _meeting_id: int = 0

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
        await live.watch(f"meeting:{meeting_id}", self.router.session.client_token)
        await self._show(principal, view)

    async def _show(self, principal: Principal, view: portal.SessionView) -> None:
        tz = await asyncio.to_thread(profiles.viewer_timezone, principal)
        shown = {"topic": view.topic, "practitioner": view.practitioner_name, "when": format_local(view.start_at, tz),
                 "status": view.status}
        if view.status != "live":
            shown["join_href"] = ""
        elif not self.join_href:
            shown["join_href"] = await asyncio.to_thread(portal.issue_join_link, principal, view.meeting_id) or ""
        for name, value in shown.items():
            if getattr(self, name) != value:  # unchanged values send nothing: polls stay cheap
                setattr(self, name, value)

    async def _refresh(self) -> None:
        if not self._meeting_id:
            return
        try:
            principal = await self._require(Action.USE_PORTAL)
            view = await asyncio.to_thread(portal.waiting_room, principal, self._meeting_id)
        except NotAllowed:
            self.status = "missing"
            return
        await self._show(principal, view)

    @rx.event
    async def poll(self):
        """The fallback when a push is lost: look again every few seconds."""
        await self._refresh()

    async def _changed(self, change: MeetingChanged) -> None:
        if change.meeting_id == self._meeting_id:
            await self._refresh()


live.on_change("client", PortalState, lambda state, change: state._changed(change))
live.on_change("meeting", WaitingRoomState, lambda state, change: state._changed(change))
