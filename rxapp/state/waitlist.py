"""The waitlist's wishes where they are kept: a client's own (My sessions), one client's (their record,
for the front desk) and the practice's (/waitlist). Every handler re-checks on the server
(services.scheduling.waitlist); a row's id is checked against the wishes this page was given."""

from __future__ import annotations

import asyncio

import reflex as rx

from rxapp.services.permissions import Action, NotAllowed, Principal, can
from rxapp.services.practice import profiles
from rxapp.services.scheduling import waitlist
from rxapp.services.timezones import format_local
from rxapp.state.auth import AuthState

DAY_OPTIONS = [(str(i), name) for i, name in enumerate(waitlist.WEEKDAY_NAMES)]
MODES = waitlist.MODES  # for the page's select


class WaitlistState(AuthState):
    rows: list[dict[str, str]] = []  # id, client, client_id, practitioner, mode, days, dates, added, offer
    practitioner_options: list[dict[str, str]] = []
    staff: bool = False  # the front desk's view (client names, Offer now)
    form_open: bool = False
    errors: dict[str, str] = {}
    w_practitioner: str = "any"
    w_mode: str = "either"
    w_days: list[str] = ["0", "1", "2", "3", "4"]
    w_from: str = "09:00"
    w_to: str = "17:00"
    w_first: str = ""
    w_last: str = ""
    _client_id: int = 0  # the client record's client (0: the practice's, or the client's own)
    _ids: list[int] = []

    def _context(self) -> tuple[Action, int | None]:
        path = self._path()
        if path.startswith("/clients/"):
            last = path.rsplit("/", 1)[-1]
            return Action.MANAGE_APPOINTMENTS, int(last) if last.isdigit() else 0
        if path.startswith("/portal"):
            return Action.USE_PORTAL, None
        return Action.MANAGE_APPOINTMENTS, None

    async def _who(self) -> Principal:
        action, client_id = self._context()
        principal = await self._require(action)
        self._client_id = client_id or 0
        return principal

    @rx.event
    async def load(self):
        """on_load of My sessions, a client's record and /waitlist: the wishes there and the form's choices."""
        self.form_open, self.errors = False, {}
        try:
            principal = await self._who()
        except NotAllowed:
            self.rows, self._ids, self.practitioner_options = [], [], []
            return
        await self._reload(principal)
        choices = await asyncio.to_thread(waitlist.practitioner_choices, principal)
        self.practitioner_options = [{"value": str(i), "label": name} for i, name in choices]

    async def _reload(self, principal: Principal) -> None:
        self.staff = not can(principal, Action.USE_PORTAL)
        try:
            found = await asyncio.to_thread(waitlist.wishes, principal, self._client_id or None)
        except NotAllowed:
            found = []
        tz = await asyncio.to_thread(profiles.viewer_timezone, principal)
        self._ids = [w.id for w in found]
        self.rows = [{"id": str(w.id), "client": w.client_name, "client_id": str(w.client_id),
                      "practitioner": w.practitioner_name, "mode": w.mode, "days": w.days, "dates": w.dates,
                      "added": format_local(w.added, tz, "%-d %b %Y"), "offer": w.offer} for w in found]

    @rx.event
    def open_form(self):
        self.form_open, self.errors = True, {}

    @rx.event
    def close_form(self):
        self.form_open = False

    @rx.event
    def toggle_day(self, day: str):
        self.w_days = [d for d in self.w_days if d != day] if day in self.w_days else sorted([*self.w_days, day])

    @rx.event
    def set_field(self, field: str, value: str):
        if field in ("w_practitioner", "w_mode", "w_from", "w_to", "w_first", "w_last"):
            setattr(self, field, value[:40])

    @rx.event
    async def add(self):
        """Join the waitlist with the form's wish (kept as typed when it has problems)."""
        principal = await self._who()
        form = waitlist.WishForm(practitioner_id="" if self.w_practitioner == "any" else self.w_practitioner,
                                 mode=self.w_mode, weekdays=tuple(int(d) for d in self.w_days if d.isdigit()),
                                 earliest=self.w_from, latest=self.w_to, first_date=self.w_first,
                                 last_date=self.w_last)
        try:
            await asyncio.to_thread(waitlist.add_wish, principal, form, self._client_id or None)
        except waitlist.WishInvalid as exc:
            self.errors = exc.errors
            return None
        except NotAllowed:
            return rx.toast.error("You are not allowed to do that.")
        self.form_open, self.errors = False, {}
        await self._reload(principal)
        return rx.toast.success("Added to the waitlist: a matching time that opens will be offered by email and "
                                "SMS.")

    @rx.event
    async def remove(self, wish_id: str):
        principal = await self._who()
        target = int(wish_id) if wish_id.isdigit() else 0
        if target not in self._ids:
            return rx.toast.error("That wish is no longer on the list.")
        try:
            await asyncio.to_thread(waitlist.remove_wish, principal, target)
        except NotAllowed:
            return rx.toast.error("You are not allowed to do that.")
        await self._reload(principal)
        return rx.toast.success("Removed from the waitlist.")

    @rx.event
    async def offer(self, wish_id: str):
        """The front desk offers this wish its earliest matching open time now."""
        principal = await self._who()
        target = int(wish_id) if wish_id.isdigit() else 0
        if target not in self._ids:
            return rx.toast.error("That wish is no longer on the list.")
        try:
            message = await asyncio.to_thread(waitlist.offer_now, principal, target)
        except NotAllowed:
            return rx.toast.error("You are not allowed to do that.")
        await self._reload(principal)
        return rx.toast.info(message)
