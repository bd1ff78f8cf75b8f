"""The owner's getting-started checklist (/welcome), where the first run lands."""

from __future__ import annotations

import asyncio

import reflex as rx

from rxapp.services.permissions import Action, NotAllowed
from rxapp.services.practice import setup
from rxapp.state.auth import AuthState


class WelcomeState(AuthState):
    steps: list[dict[str, str]] = []  # label, done ("1" or ""), href
    left: int = 0

    @rx.event
    async def load(self):
        try:
            principal = await self._require(Action.PRACTICE_SETTINGS)
        except NotAllowed:
            self.steps, self.left = [], 0
            return
        found = await asyncio.to_thread(setup.checklist, principal)
        self.steps = [{"label": s.label, "done": "1" if s.done else "", "href": s.href} for s in found]
        self.left = sum(1 for s in found if not s.done)
