"""The portal's "My practitioners" page: the signed-in client chooses whom they trust."""

from __future__ import annotations

import asyncio

import reflex as rx

from rxapp.services.permissions import Action, NotAllowed
from rxapp.services.practice import trust
from rxapp.state.auth import AuthState


class PortalTrustState(AuthState):
    # One row per practitioner: id (sent back by the switch), name, trusted ("1" or "").
    choices: list[dict[str, str]] = []
    problem: str = ""

    def _show(self, choices: list[trust.PractitionerChoice]) -> None:
        self.choices = [{"id": str(c.practitioner_id), "name": c.name, "trusted": "1" if c.trusted else ""}
                        for c in choices]

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
    async def toggle_trust(self, practitioner_id: int, on: bool):
        """The switch sends its practitioner's id; the service accepts only a telehealth
        practitioner of the client's own practice."""
        try:
            principal = await self._require(Action.USE_PORTAL)
        except NotAllowed:
            return rx.toast.error("Only clients choose their practitioners.")
        try:
            choice = await asyncio.to_thread(trust.set_trusted, principal, practitioner_id, bool(on))
        except (trust.NoClientRecord, trust.PractitionerUnavailable) as exc:
            await self.load()
            return rx.toast.error(str(exc))
        self.choices = [{**row, "trusted": "1" if choice.trusted else ""} if row["id"] == str(practitioner_id)
                        else row for row in self.choices]
        if choice.trusted:
            return rx.toast.success(f"{choice.name} is now one of your practitioners.")
        return rx.toast.success(f"{choice.name} is no longer one of your practitioners.")
