"""The client's own appointments in the portal: upcoming and past, in the client's timezone."""

from __future__ import annotations

import asyncio

import reflex as rx

from rxapp.services import client_history, profiles
from rxapp.services.permissions import Action, NotAllowed
from rxapp.state.auth import AuthState
from rxapp.state.client_record import visit_row


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
