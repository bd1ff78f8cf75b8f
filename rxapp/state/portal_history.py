"""The client's own appointments in the portal: upcoming and past, in the client's timezone."""

from __future__ import annotations

import asyncio

import reflex as rx

from rxapp import live
from rxapp.services.clients import history as client_history
from rxapp.services.permissions import Action, NotAllowed
from rxapp.services.practice import profiles
from rxapp.state.auth import AuthState
from rxapp.state.client_record import visit_row
from rxapp.state.portal import PortalState


class PortalHistoryState(AuthState):
    upcoming_visits: list[dict[str, str]] = []
    past_visits: list[dict[str, str]] = []

    @rx.event
    async def load(self):
        try:
            principal = await self._require(Action.USE_PORTAL)
        except NotAllowed:
            self.upcoming_visits, self.past_visits = [], []
            return
        history, tz = await asyncio.gather(asyncio.to_thread(client_history.my_history, principal),
                                           asyncio.to_thread(profiles.viewer_timezone, principal))
        self.upcoming_visits = [visit_row(v, tz) for v in history.upcoming]
        self.past_visits = [visit_row(v, tz) for v in history.past]

    async def _changed(self) -> None:
        """A pushed change of this client's visits, while this browser shows My sessions (the portal
        page's own watch: PortalState)."""
        if (await self.get_state(PortalState))._client_id:
            await self.load()


live.on_change("client", PortalHistoryState, lambda state, change: state._changed())
