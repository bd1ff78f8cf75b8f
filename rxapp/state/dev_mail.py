"""Caught mail (development only): what the signed-in staff member's practice would have sent."""

from __future__ import annotations

import asyncio
import dataclasses

import reflex as rx

from rxapp.services.notify.mailbox import caught_mail_of_practice
from rxapp.services.permissions import Action, NotAllowed, Principal
from rxapp.settings import get_settings
from rxapp.state.auth import AuthState


async def catcher_reader(state: AuthState) -> Principal | None:
    """The signed-in staff member, when they may read the local catchers (mail, SMS): in
    development and tests only; None otherwise."""
    if get_settings().app_env not in ("development", "test"):
        return None
    try:
        return await state._require(Action.VIEW_CAUGHT_MAIL)
    except NotAllowed:
        return None


class DevMailState(AuthState):
    mails: list[dict[str, str]] = []

    @rx.event
    async def load(self):
        settings = get_settings()
        self.mails = []
        principal = await catcher_reader(self)
        if principal is None:
            return
        found = await asyncio.to_thread(caught_mail_of_practice, principal, settings.mail_catcher_dir)
        self.mails = [{k: (", ".join(v) if isinstance(v, tuple) else str(v)) for k, v in dataclasses.asdict(m).items()}
                      for m in found]
