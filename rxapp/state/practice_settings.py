"""Practice settings: the main form (Zoom, telehealth, reminders, SMS), the practitioners' telehealth
switches, and the client self-booking section with its own Save."""

from __future__ import annotations

import asyncio

import reflex as rx

from rxapp.services.identity import auth
from rxapp.services.permissions import Action, NotAllowed
from rxapp.services.phrases import count
from rxapp.services.practice import settings as svc
from rxapp.services.practice.settings import POS_CODES as POS_CODES  # re-exported for the page
from rxapp.services.telehealth.zoom import connections
from rxapp.services.telehealth.zoom.errors import ZoomNotConnected
from rxapp.state.auth import AuthState
from rxapp.state.profile import STATUS_LABELS
from rxapp.state.zoom_connect import start_zoom_connect


class PracticeSettingsState(AuthState):
    allow_zoom: str = "no"  # "yes" | "no", for the radio group
    standard_reminder_days: str = "1"
    telehealth_reminder_minutes: str = "15"
    reminder_includes_link: bool = False
    location_name: str = ""
    location_address: str = ""
    pos_code: str = "10"
    notify_client_when_started: bool = True
    address: str = ""
    phone: str = ""
    ask_to_confirm: bool = False
    confirm_message: str = ""
    errors: dict[str, str] = {}
    saved_message: str = ""
    practitioners: list[dict[str, str]] = []
    export_href: str = ""  # the owner's download link (its token only this session can make)

    @rx.event
    async def load(self):
        try:
            principal = await self._require(Action.PRACTICE_SETTINGS)
        except NotAllowed:
            return
        values, _credits, rows = await asyncio.to_thread(svc.get_settings_view, principal)
        self.allow_zoom = "yes" if values.allow_zoom else "no"
        self.standard_reminder_days = str(values.standard_reminder_days)
        self.telehealth_reminder_minutes = str(values.telehealth_reminder_minutes)
        self.reminder_includes_link = values.telehealth_reminder_includes_link
        self.location_name, self.location_address = values.telehealth_location_name, values.telehealth_location_address
        self.pos_code, self.notify_client_when_started = values.default_pos_code, values.notify_client_when_started
        self.address, self.phone, self.errors, self.saved_message = values.address, values.phone, {}, ""
        self._show_practitioners(rows)
        self.export_href = f"/export.zip?t={auth.request_token(self._session_token(), 'export')}" \
            if principal.role == "owner" else ""
        self.ask_to_confirm = await asyncio.to_thread(svc.confirmations_asked, principal)
        self.confirm_message = ""

    def _show_practitioners(self, rows: list[svc.PractitionerRow]) -> None:
        self.practitioners = [{"id": str(r.user_id), "name": r.name, "email": r.email,
                               "telehealth": "1" if r.telehealth_enabled else "",
                               "zoom": STATUS_LABELS[r.zoom_status], "zoom_status": r.zoom_status} for r in rows]

    @rx.event
    async def set_ask_to_confirm(self, ask: bool):
        """The Confirmations section saves on its own, at once."""
        try:
            principal = await self._require(Action.PRACTICE_SETTINGS)
        except NotAllowed:
            return
        await asyncio.to_thread(svc.set_confirmations, principal, bool(ask))
        self.ask_to_confirm = bool(ask)
        self.confirm_message = ("Clients are asked to confirm." if ask else "Clients are no longer asked to confirm.")

    @rx.event
    def set_allow_zoom(self, value: str):
        self.allow_zoom, self.saved_message = value, ""

    @rx.event
    def set_field(self, name: str, value: str | bool):
        if name in {"standard_reminder_days", "telehealth_reminder_minutes", "location_name", "location_address",
                    "address", "phone", "pos_code", "reminder_includes_link", "notify_client_when_started"}:
            setattr(self, name, value)
            self.saved_message = ""

    @rx.event
    async def save(self):
        principal = await self._require(Action.PRACTICE_SETTINGS)
        try:
            values = svc.PracticeSettings(
                allow_zoom=self.allow_zoom == "yes",
                standard_reminder_days=int(self.standard_reminder_days),
                telehealth_reminder_minutes=int(self.telehealth_reminder_minutes),
                telehealth_reminder_includes_link=bool(self.reminder_includes_link),
                telehealth_location_name=self.location_name.strip(),
                telehealth_location_address=self.location_address.strip(),
                default_pos_code=self.pos_code,
                notify_client_when_started=bool(self.notify_client_when_started),
                address=self.address.strip(), phone=self.phone.strip())
            await asyncio.to_thread(svc.save_settings, principal, values)
        except ValueError:
            self.errors = {"form": "Some values are not numbers."}
            return rx.toast.error("Settings not saved: check the highlighted fields.")
        except svc.InvalidSettings as exc:
            self.errors = exc.errors
            return rx.toast.error("Settings not saved: check the highlighted fields.")
        self.errors = {}
        zoom = "allowed" if values.allow_zoom else "not allowed"
        self.saved_message = f"Saved. Zoom integration is {zoom}."
        return rx.toast.success("Practice settings saved.")

    async def _reload_practitioners(self) -> None:
        principal = await self._require(Action.PRACTICE_SETTINGS)
        _, _, rows = await asyncio.to_thread(svc.get_settings_view, principal)
        self._show_practitioners(rows)

    async def _not_here(self) -> rx.event.EventSpec:
        await self._reload_practitioners()
        return rx.toast.error("That practitioner is not in your practice's list any more. The list was reloaded.")

    # Row actions take the practitioner's id the browser showed; the services re-check that it is
    # a practitioner of the signed-in manager's practice, so a forged id changes nothing.

    @rx.event
    async def set_telehealth(self, practitioner_id: int, enabled: bool):
        principal = await self._require(Action.PRACTICE_SETTINGS)
        try:
            name = await asyncio.to_thread(svc.set_telehealth, principal, practitioner_id, bool(enabled))
        except NotAllowed:
            return await self._not_here()
        await self._reload_practitioners()
        return rx.toast.success(f"Telehealth {'enabled' if enabled else 'disabled'} for {name}.")

    @rx.event
    async def connect_for(self, practitioner_id: int):
        principal = await self._require(Action.MANAGE_PRACTITIONER_ZOOM)
        try:
            view = await asyncio.to_thread(connections.connection_view, principal, practitioner_id)
        except NotAllowed:
            return await self._not_here()
        if view.status == "connected":
            await self._reload_practitioners()
            return rx.toast.info(f"Zoom is already connected for {view.practitioner_name}.")
        return await start_zoom_connect(self, principal, practitioner_id)

    @rx.event
    async def disconnect_for(self, practitioner_id: int):
        principal = await self._require(Action.MANAGE_PRACTITIONER_ZOOM)
        try:
            result = await connections.disconnect(principal, practitioner_id)
        except NotAllowed:
            return await self._not_here()
        except ZoomNotConnected:
            await self._reload_practitioners()
            return rx.toast.info("Zoom was not connected.")
        await self._reload_practitioners()
        attention = len(result.meetings_needing_attention)
        note = f" {count(attention, 'upcoming meeting')} {'needs' if attention == 1 else 'need'} attention." \
            if attention else ""
        return rx.toast.success(f"Zoom disconnected.{note}")


FIELDS = {"enabled", "who", "window_hours", "message", "max_per_day", "max_upcoming"}


class SelfBookingSettingsState(AuthState):
    enabled: bool = True
    who: str = "trusted"  # "trusted" | "any", for the radio group
    window_hours: str = "24"
    message: str = ""
    max_per_day: str = "1"
    max_upcoming: str = "4"
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
        self.max_per_day = str(values.self_booking_max_per_day)
        self.max_upcoming = str(values.self_booking_max_upcoming)
        self.errors, self.saved_message = {}, ""

    @rx.event
    def set_value(self, name: str, value: str | bool):
        if name in FIELDS:
            setattr(self, name, value)
            self.saved_message = ""

    @rx.event
    async def save(self):
        principal = await self._require(Action.PRACTICE_SETTINGS)
        numbers: dict[str, int] = {}
        errors = {}
        typed_numbers = (("cancellation_window_hours", self.window_hours, "Enter whole hours, e.g. 24."),
                         ("self_booking_max_per_day", self.max_per_day, "Enter a whole number, e.g. 1."),
                         ("self_booking_max_upcoming", self.max_upcoming, "Enter a whole number, e.g. 4."))
        for field, typed, problem in typed_numbers:
            try:
                numbers[field] = int(str(typed).strip())
            except ValueError:
                errors[field] = problem
        if errors:
            self.errors = errors
            return rx.toast.error("Self-booking settings not saved: check the highlighted fields.")
        values = svc.SelfBookingSettings(self_booking_enabled=bool(self.enabled),
                                         self_booking_any_practitioner=self.who == "any",
                                         cancellation_message=self.message, **numbers)
        try:
            await asyncio.to_thread(svc.save_self_booking, principal, values)
        except svc.InvalidSettings as exc:
            self.errors = exc.errors
            return rx.toast.error("Self-booking settings not saved: check the highlighted fields.")
        self.errors = {}
        self.saved_message = "Saved. Clients can book in the portal." if values.self_booking_enabled else \
            "Saved. Clients cannot book in the portal."
        return rx.toast.success("Self-booking settings saved.")
