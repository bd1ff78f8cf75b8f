"""Caught mail (development only): what clients and staff would have received."""

from __future__ import annotations

import asyncio
import dataclasses

import reflex as rx

from rxapp.services.mailbox import list_caught_mail
from rxapp.services.permissions import Action, NotAllowed
from rxapp.settings import get_settings
from rxapp.state.auth import AuthState


class DevMailState(AuthState):
    mails: list[dict[str, str]] = []
    available: bool = True

    @rx.event
    async def load(self):
        settings = get_settings()
        self.available = not settings.is_production
        try:
            await self._require(Action.VIEW_CAUGHT_MAIL)
        except NotAllowed:
            self.mails = []
            return
        if not self.available:
            self.mails = []
            return
        found = await asyncio.to_thread(list_caught_mail, settings.mail_catcher_dir)
        self.mails = [{k: (", ".join(v) if isinstance(v, tuple) else str(v)) for k, v in dataclasses.asdict(m).items()}
                      for m in found]
