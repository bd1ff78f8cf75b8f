"""The SMS credits section of practice settings: balance, history, add credits, threshold."""

from __future__ import annotations

import asyncio

import reflex as rx

from rxapp.services.notify.sms import account
from rxapp.services.permissions import Action, NotAllowed
from rxapp.services.phrases import count
from rxapp.services.practice import profiles
from rxapp.services.timezones import format_local
from rxapp.state.auth import AuthState

KIND_LABELS = {"grant": "Added", "charge": "SMS sent", "refund": "Refund"}


class SmsCreditsState(AuthState):
    balance: int = 0
    threshold: str = "20"
    low: bool = False
    can_manage: bool = False
    history: list[dict[str, str]] = []
    amount: str = ""
    note: str = ""
    errors: dict[str, str] = {}

    @rx.event
    async def load(self):
        try:
            principal = await self._require(Action.PRACTICE_SETTINGS)
        except NotAllowed:
            return
        view = await asyncio.to_thread(account.credits_view, principal)
        tz = await asyncio.to_thread(profiles.viewer_timezone, principal)
        self.balance, self.threshold, self.low = view.balance, str(view.threshold), view.low
        self.can_manage = view.can_manage
        self.history = [{"id": str(h.id), "when": format_local(h.at, tz), "kind": KIND_LABELS.get(h.kind, h.kind),
                         "amount": f"{h.amount:+,}", "note": h.note} for h in view.history]

    @rx.event
    def set_field(self, name: str, value: str):
        if name in {"amount", "note", "threshold"}:
            setattr(self, name, value)
            self.errors = {k: v for k, v in self.errors.items() if k != name}

    @rx.event
    async def add_credits(self):
        try:
            principal = await self._require(Action.MANAGE_SMS_CREDITS)
            balance = await asyncio.to_thread(account.add_credits, principal, self.amount, self.note)
        except NotAllowed:
            return rx.toast.error("Only the practice owner can add SMS credits.")
        except account.InvalidCredits as exc:
            self.errors = exc.errors
            return rx.toast.error("Credits not added: check the highlighted field.")
        added = self.amount.strip()
        self.amount, self.note, self.errors = "", "", {}
        await self.load()
        return rx.toast.success(f"Added {added} credits. The balance is {count(balance, 'credit')}.")

    @rx.event
    async def save_threshold(self):
        try:
            principal = await self._require(Action.MANAGE_SMS_CREDITS)
            value = await asyncio.to_thread(account.set_threshold, principal, self.threshold)
        except NotAllowed:
            return rx.toast.error("Only the practice owner can set the low-balance warning.")
        except account.InvalidCredits as exc:
            self.errors = exc.errors
            return rx.toast.error("Threshold not saved: check the highlighted field.")
        self.errors = {}
        await self.load()
        return rx.toast.success(f"You will be warned below {count(value, 'credit')}.")
