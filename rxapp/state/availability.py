"""Availability page state: one practitioner's weekly blocks, date overrides and booking rules.

The editor keeps what was typed (nothing is lost on a refused save). Rows are named by a key
(`b12` for a stored block, `n3` for a new row), never by list position, and the page keys each row's
elements by it, so a row's inputs stay that row's whatever the order. Rows are sorted only by a load
or a save. Every save and load sends the
practitioner's id to the service, which re-checks that the signed-in user may edit them.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict

import reflex as rx

from rxapp.services.permissions import Action, NotAllowed
from rxapp.services.scheduling import availability_editor as svc
from rxapp.services.scheduling.availability_editor import WEEKDAYS as WEEKDAYS  # re-exported for the page
from rxapp.services.scheduling.slots import MODE_LABELS, SlotMode
from rxapp.state.auth import AuthState

WINDOW_FIELDS = {"start", "end", "mode"}
RULE_FIELDS = {"lengths", "interval_minutes", "buffer_before_minutes", "buffer_after_minutes", "min_notice_hours",
               "horizon_days", "max_per_day"}
NOT_YOURS = "You may not edit this practitioner's availability. Choose a practitioner from the list."


def _minutes(text: str) -> int:
    parsed = svc.parse_time(text)
    return 9 * 60 if parsed is None else parsed


class AvailabilityState(AuthState):
    practitioner_options: list[dict[str, str]] = []
    practitioner_id: int = 0
    practitioner_name: str = ""
    timezone: str = ""
    telehealth_note: str = ""
    blocks: list[dict[str, str]] = []
    overrides: list[dict[str, str]] = []
    lengths: str = ""
    interval_minutes: str = ""
    buffer_before_minutes: str = ""
    buffer_after_minutes: str = ""
    min_notice_hours: str = ""
    horizon_days: str = ""
    max_per_day: str = ""
    new_clients_may_self_book: bool = True
    errors: dict[str, str] = {}
    saved_message: str = ""
    load_error: str = ""
    _next_key: int = 0

    @rx.var
    def blocks_by_day(self) -> list[list[dict[str, str]]]:
        """Each day's blocks in the order of `blocks`: sorted by the server on load and save, a new
        block last; never re-sorted while someone types (the row would move under their cursor)."""
        days: list[list[dict[str, str]]] = [[] for _ in range(7)]
        for block in self.blocks:
            days[int(block["weekday"])].append(block)
        return days

    def _show(self, view: svc.AvailabilityView) -> None:
        self.practitioner_id, self.practitioner_name = view.practitioner_id, view.practitioner_name
        self.timezone, self.telehealth_note = view.timezone, view.telehealth_unavailable
        self.blocks = [{"key": b.key, "weekday": str(b.weekday), "start": b.start, "end": b.end, "mode": b.mode}
                       for b in view.blocks]
        self.overrides = [{"key": o.key, "date": o.on_date, "day_off": "1" if o.day_off else "", "start": o.start,
                           "end": o.end, "mode": o.mode} for o in view.overrides]
        for name, value in asdict(view.rules).items():
            setattr(self, name, value)

    def _new_key(self) -> str:
        self._next_key += 1
        return f"n{self._next_key}"

    @rx.event
    async def load(self):
        self.errors, self.saved_message, self.load_error = {}, "", ""
        try:
            principal = await self._require(Action.MANAGE_APPOINTMENTS)
            options = await asyncio.to_thread(svc.editable_practitioners, principal)
        except NotAllowed:
            return
        self.practitioner_options = [{"id": str(pid), "name": name} for pid, name in options]
        wanted = self.router.url.query_parameters.get("p", "")
        chosen = int(wanted) if wanted.isdigit() else (
            principal.user_id if any(pid == principal.user_id for pid, _ in options) else
            (options[0][0] if options else 0))
        if not chosen:
            self.practitioner_id, self.blocks, self.overrides = 0, [], []
            return
        try:
            view = await asyncio.to_thread(svc.availability_view, principal, chosen)
        except NotAllowed:
            self.practitioner_id, self.blocks, self.overrides = 0, [], []
            self.load_error = NOT_YOURS
            return None
        self._show(view)

    @rx.event
    def choose_practitioner(self, practitioner_id: str):
        if practitioner_id.isdigit():
            return rx.redirect(f"/availability?p={practitioner_id}")
        return None

    @rx.event
    def add_block(self, weekday: int):
        if not 0 <= int(weekday) <= 6:
            return
        same_day = [b for b in self.blocks if b["weekday"] == str(weekday)]
        start = max((_minutes(b["end"]) for b in same_day), default=9 * 60)
        start = min(start, 23 * 60)
        end = 17 * 60 if not same_day else min(start + 60, 24 * 60)
        self.blocks = [*self.blocks, {"key": self._new_key(), "weekday": str(weekday), "start": svc.hhmm(start),
                                      "end": svc.hhmm(end), "mode": SlotMode.IN_PERSON.value}]
        self.saved_message = ""

    @rx.event
    def remove_block(self, key: str):
        self.blocks = [b for b in self.blocks if b["key"] != key]
        self.errors = {k: v for k, v in self.errors.items() if not k.startswith(f"{key}.")}
        self.saved_message = ""

    @rx.event
    def set_block(self, key: str, field: str, value: str):
        if field in WINDOW_FIELDS:
            self.blocks = [{**b, field: value[:10]} if b["key"] == key else b for b in self.blocks]
            self.errors = {k: v for k, v in self.errors.items() if k != f"{key}.{field}"}
            self.saved_message = ""

    @rx.event
    def add_override(self):
        self.overrides = [*self.overrides, {"key": self._new_key(), "date": "", "day_off": "1", "start": "09:00",
                                            "end": "17:00", "mode": SlotMode.IN_PERSON.value}]
        self.saved_message = ""

    @rx.event
    def remove_override(self, key: str):
        self.overrides = [o for o in self.overrides if o["key"] != key]
        self.errors = {k: v for k, v in self.errors.items() if not k.startswith(f"{key}.")}
        self.saved_message = ""

    @rx.event
    def set_override(self, key: str, field: str, value: str | bool):
        if field == "day_off":
            value = "1" if value else ""
        elif field not in WINDOW_FIELDS | {"date"}:
            return
        self.overrides = [{**o, field: str(value)[:10]} if o["key"] == key else o for o in self.overrides]
        self.errors = {k: v for k, v in self.errors.items() if k != f"{key}.{field}"}
        self.saved_message = ""

    @rx.event
    def set_rule(self, field: str, value: str | bool):
        if field == "new_clients_may_self_book":
            self.new_clients_may_self_book = bool(value)
        elif field in RULE_FIELDS:
            setattr(self, field, str(value)[:60])
            self.errors = {k: v for k, v in self.errors.items() if k != field}
        else:
            return
        self.saved_message = ""

    @rx.event
    async def save(self):
        principal = await self._require(Action.MANAGE_APPOINTMENTS)
        blocks = [svc.BlockInput(b["key"], int(b["weekday"]), b["start"], b["end"], b["mode"]) for b in self.blocks]
        overrides = [svc.OverrideInput(o["key"], o["date"], o["day_off"] == "1", o["start"], o["end"], o["mode"])
                     for o in self.overrides]
        rules = svc.RulesInput(lengths=self.lengths, interval_minutes=self.interval_minutes,
                               buffer_before_minutes=self.buffer_before_minutes,
                               buffer_after_minutes=self.buffer_after_minutes, min_notice_hours=self.min_notice_hours,
                               horizon_days=self.horizon_days, max_per_day=self.max_per_day,
                               new_clients_may_self_book=self.new_clients_may_self_book)
        try:
            view = await asyncio.to_thread(svc.save_availability, principal, self.practitioner_id, blocks,
                                           overrides, rules)
        except svc.AvailabilityInvalid as exc:
            # The messages stand beside their fields and beside Save (a toast would vanish).
            self.errors, self.saved_message = exc.errors, ""
            return None
        except NotAllowed:
            return rx.toast.error(NOT_YOURS)
        self._show(view)
        self.errors = {}
        self.saved_message = f"Saved. Clients can book {self.practitioner_name} in these hours."
        return None


MODE_OPTIONS = [(m.value, MODE_LABELS[m]) for m in SlotMode]
