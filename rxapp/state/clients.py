"""Clients page state."""

from __future__ import annotations

import asyncio
import dataclasses

import reflex as rx

from rxapp.services import clients
from rxapp.services.permissions import Action, NotAllowed
from rxapp.state.auth import AuthState


class ClientsState(AuthState):
    rows: list[dict[str, str]] = []
    search: str = ""

    @rx.event
    async def load(self):
        try:
            principal = await self._require(Action.VIEW_CLIENTS)
        except NotAllowed:
            self.rows = []
            return
        found = await asyncio.to_thread(clients.list_clients, principal, self.search)
        self.rows = [{k: str(v) for k, v in dataclasses.asdict(r).items()} for r in found]

    @rx.event
    async def set_search(self, value: str):
        self.search = value[:100]
        await self.load()
