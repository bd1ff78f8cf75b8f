"""My profile, Details tab: the practitioner's own display name, credentials and default length
(the timezone is on the Meeting tab)."""

from __future__ import annotations

import asyncio

import reflex as rx

from rxapp.services.permissions import Action, NotAllowed
from rxapp.services.practice import profiles
from rxapp.state.auth import AuthState


class ProfileDetailsState(AuthState):
    has_details: bool = False
    edit_display_name: str = ""
    edit_credentials: str = ""
    edit_length: str = ""
    edit_errors: dict[str, str] = {}

    @rx.event
    async def load(self):
        self.edit_errors = {}
        try:
            principal = await self._require(Action.OWN_PROFILE)
            details = await asyncio.to_thread(profiles.profile_details, principal, principal.user_id)
        except NotAllowed:  # not a practitioner: no profile fields to edit
            self.has_details = False
            return
        self.edit_display_name, self.edit_credentials = details.display_name, details.credentials
        self.edit_length = str(details.default_length_minutes)
        self.has_details = True

    @rx.event
    def set_edit(self, field: str, value: str):
        if field in ("display_name", "credentials", "length"):
            setattr(self, f"edit_{field}", value[:300])

    @rx.event
    async def save(self):
        principal = await self._require(Action.OWN_PROFILE)
        try:
            await asyncio.to_thread(
                profiles.update_profile, principal, principal.user_id, display_name=self.edit_display_name,
                credentials=self.edit_credentials, default_length_minutes=self.edit_length)
        except profiles.ProfileInvalid as exc:
            self.edit_errors = exc.errors
            return
        except NotAllowed:
            yield rx.toast.error("You have no practitioner profile.")
            return
        self.edit_errors = {}
        yield rx.toast.success("Your profile was saved.")
