"""The portal's "My practitioners" page: the signed-in client chooses whom they trust."""

from __future__ import annotations

import asyncio

import reflex as rx

from rxapp.services import trust
from rxapp.services.permissions import Action, NotAllowed
from rxapp.state.auth import AuthState


class PortalTrustState(AuthState):
    names: list[str] = []
    trusted: list[bool] = []
    problem: str = ""
    # Practitioner ids stay on the server; the page refers to rows by index.
    _practitioner_ids: list[int] = []

    def _show(self, choices: list[trust.PractitionerChoice]) -> None:
        self._practitioner_ids = [c.practitioner_id for c in choices]
        self.names = [c.name for c in choices]
        self.trusted = [c.trusted for c in choices]

    @rx.event
    async def load(self):
        self.problem = ""
        self._show([])
        try:
            principal = await self._require(Action.USE_PORTAL)
            choices = await asyncio.to_thread(trust.practitioner_choices, principal)
        except NotAllowed:
            return
        except trust.NoClientRecord as exc:
            self.problem = str(exc)
            return
        self._show(choices)

    @rx.event
    async def toggle_trust(self, index: int, on: bool):
        try:
            principal = await self._require(Action.USE_PORTAL)
        except NotAllowed:
            return rx.toast.error("Your session has ended. Sign in again to change your practitioners.")
        if not 0 <= index < len(self._practitioner_ids):
            return rx.toast.error("That practitioner is no longer listed. Reload the page.")
        try:
            choice = await asyncio.to_thread(trust.set_trusted, principal, self._practitioner_ids[index], bool(on))
        except (trust.NoClientRecord, trust.PractitionerUnavailable) as exc:
            await self.load()
            return rx.toast.error(str(exc))
        self.trusted[index] = choice.trusted
        if choice.trusted:
            return rx.toast.success(f"{choice.name} is now one of your practitioners.")
        return rx.toast.success(f"{choice.name} is no longer one of your practitioners.")
