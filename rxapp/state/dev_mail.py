"""Caught mail (development only): what the signed-in staff member's practice would have sent."""

from __future__ import annotations

import asyncio
import dataclasses

import reflex as rx

from rxapp.services.mailbox import caught_mail_of_practice
from rxapp.services.permissions import Action, NotAllowed
from rxapp.settings import get_settings
from rxapp.state.auth import AuthState


class DevMailState(AuthState):
    mails: list[dict[str, str]] = []

    @rx.event
    async def load(self):
        settings = get_settings()
        self.mails = []
        if settings.app_env not in ("development", "test"):
            return
        try:
            principal = await self._require(Action.VIEW_CAUGHT_MAIL)
        except NotAllowed:
            return
        found = await asyncio.to_thread(caught_mail_of_practice, principal, settings.mail_catcher_dir)
        self.mails = [{k: (", ".join(v) if isinstance(v, tuple) else str(v)) for k, v in dataclasses.asdict(m).items()}
                      for m in found]
