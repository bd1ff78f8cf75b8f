"""Caught SMS (development only): what the signed-in staff member's practice would have texted."""

from __future__ import annotations

import asyncio
from datetime import datetime

import reflex as rx

from rxapp.services.notify.sms.caught import caught_sms_of_practice
from rxapp.services.phrases import count
from rxapp.services.practice import profiles
from rxapp.services.timezones import format_local
from rxapp.settings import get_settings
from rxapp.state.auth import AuthState
from rxapp.state.dev_mail import catcher_reader


class DevSmsState(AuthState):
    messages: list[dict[str, str]] = []

    @rx.event
    async def load(self):
        settings = get_settings()
        self.messages = []
        principal = await catcher_reader(self)
        if principal is None:
            return
        found = await asyncio.to_thread(caught_sms_of_practice, principal, settings.sms_catcher_dir)
        tz = await asyncio.to_thread(profiles.viewer_timezone, principal)
        self.messages = [{"id": m.message_id, "to": m.to, "body": m.body, "encoding": m.encoding,
                          "segments": count(m.segments, "segment"), "credits": count(m.credits, "credit"),
                          "caught_at": _when(m.caught_at, tz)} for m in found]


def _when(iso: str, tz: str) -> str:
    try:
        return format_local(datetime.fromisoformat(iso), tz)
    except ValueError:
        return iso
