"""The owner's getting-started checklist (/welcome), where the first run lands."""

from __future__ import annotations

import asyncio

import reflex as rx

from rxapp.services.permissions import Action, NotAllowed
from rxapp.services.practice import setup, signup
from rxapp.state.auth import AuthState


class WelcomeState(AuthState):
    steps: list[dict[str, str]] = []  # label, done ("1" or ""), href
    left: int = 0
    # A practice made at /signup until its owner confirms their email (nothing goes to clients before).
    unconfirmed: bool = False
    confirm_to: str = ""
    waiting: int = 0
    resend_note: str = ""

    @rx.event
    async def load(self):
        try:
            principal = await self._require(Action.PRACTICE_SETTINGS)
        except NotAllowed:
            self.steps, self.left = [], 0
            return
        found = await asyncio.to_thread(setup.checklist, principal)
        state = await asyncio.to_thread(signup.confirmation, principal)
        self.unconfirmed, self.confirm_to, self.waiting = not state.confirmed, state.email, state.waiting
        self.resend_note = ""
        self.steps = [{"label": s.label, "done": "1" if s.done else "", "href": s.href} for s in found]
        self.left = sum(1 for s in found if not s.done)

    @rx.event
    async def resend(self):
        """Another confirmation link to the owner (at most once a minute)."""
        principal = await self._require(Action.PRACTICE_SETTINGS)
        try:
            sent_to = await asyncio.to_thread(signup.resend_confirmation, principal)
        except signup.ResendRefused as exc:
            self.resend_note = str(exc)
            return
        self.resend_note = f"We sent a new link to {sent_to}. It works once, for 24 hours."
