"""Practice settings, the client self-booking section: on/off, which practitioners, the
cancellation window and the message clients see inside it."""

from __future__ import annotations

import asyncio

import reflex as rx

from rxapp.services.permissions import Action, NotAllowed
from rxapp.services.practice import settings as svc
from rxapp.state.auth import AuthState

FIELDS = {"enabled", "who", "window_hours", "message"}


class SelfBookingSettingsState(AuthState):
    enabled: bool = True
    who: str = "trusted"  # "trusted" | "any", for the radio group
    window_hours: str = "24"
    message: str = ""
    errors: dict[str, str] = {}
    saved_message: str = ""

    @rx.event
    async def load(self):
        try:
            principal = await self._require(Action.PRACTICE_SETTINGS)
        except NotAllowed:
            return
        values = await asyncio.to_thread(svc.get_self_booking, principal)
        self.enabled = values.self_booking_enabled
        self.who = "any" if values.self_booking_any_practitioner else "trusted"
        self.window_hours, self.message = str(values.cancellation_window_hours), values.cancellation_message
        self.errors, self.saved_message = {}, ""

    @rx.event
    def set_value(self, name: str, value: str | bool):
        if name in FIELDS:
            setattr(self, name, value)
            self.saved_message = ""

    @rx.event
    async def save(self):
        principal = await self._require(Action.PRACTICE_SETTINGS)
        try:
            hours = int(str(self.window_hours).strip())
        except ValueError:
            self.errors = {"cancellation_window_hours": "Enter whole hours, e.g. 24."}
            return rx.toast.error("Self-booking settings not saved: check the highlighted fields.")
        values = svc.SelfBookingSettings(self_booking_enabled=bool(self.enabled),
                                         self_booking_any_practitioner=self.who == "any",
                                         cancellation_window_hours=hours, cancellation_message=self.message)
        try:
            await asyncio.to_thread(svc.save_self_booking, principal, values)
        except svc.InvalidSettings as exc:
            self.errors = exc.errors
            return rx.toast.error("Self-booking settings not saved: check the highlighted fields.")
        self.errors = {}
        self.saved_message = "Saved. Clients can book in the portal." if values.self_booking_enabled else \
            "Saved. Clients cannot book in the portal."
        return rx.toast.success("Self-booking settings saved.")
