"""Caught SMS (development only): what the signed-in staff member's practice would have texted."""

from __future__ import annotations

import asyncio
from datetime import datetime

import reflex as rx

from rxapp.services.notify.sms.caught import caught_sms_of_practice, reply_as_client
from rxapp.services.permissions import NotAllowed
from rxapp.services.phrases import count
from rxapp.services.practice import profiles
from rxapp.services.timezones import format_local
from rxapp.settings import get_settings
from rxapp.state.auth import AuthState
from rxapp.state.dev_mail import catcher_reader

QUICK_REPLIES = ("YES", "STOP", "START", "HELP")


class DevSmsState(AuthState):
    messages: list[dict[str, str]] = []
    replies: dict[str, str] = {}  # message id -> what the last reply did

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

    @rx.event
    async def reply(self, message_id: str, body: str):
        """Answer one caught SMS as its recipient, through the inbound code Twilio's webhook uses."""
        principal = await catcher_reader(self)
        if principal is None:
            return rx.toast.error("Caught SMS can be answered only in development, by the practice's staff.")
        try:
            answer = await asyncio.to_thread(reply_as_client, principal, get_settings().sms_catcher_dir,
                                             message_id, body)
        except ValueError as exc:
            return rx.toast.error(str(exc))
        except NotAllowed:
            return rx.toast.error("That message is not one of your practice's caught texts.")
        said = body.strip()[:40]
        self.replies = {**self.replies, message_id: f"Replied \u201c{said}\u201d. " + (
            f"The app answered: {answer}" if answer else
            "The app sent no answer (Twilio itself answers STOP, START and HELP).")}
        return None

    @rx.event
    async def reply_typed(self, form: dict[str, str]):
        return await self.reply(str(form.get("message_id", "")), str(form.get("body", "")))


def _when(iso: str, tz: str) -> str:
    try:
        return format_local(datetime.fromisoformat(iso), tz)
    except ValueError:
        return iso
