"""Portal: Book a session (and move one), and the Reschedule / Cancel buttons on My sessions.

The page shows what services.scheduling.self_booking offers; a chosen slot travels as its own key (start,
length, mode) and the service re-checks all of it on confirm. Appointment ids come from the page's
rows; the service accepts only the signed-in client's own booked appointments.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import reflex as rx

from rxapp.clock import now
from rxapp.services.permissions import Action, NotAllowed
from rxapp.services.practice import profiles
from rxapp.services.scheduling import self_booking
from rxapp.services.scheduling.slots import MODE_LABELS, Slot, SlotMode
from rxapp.services.timezones import format_local
from rxapp.state.auth import AuthState

# Text labels beside the colours (never colour alone).
SLOT_LABELS = {SlotMode.TELEHEALTH: "Telehealth", SlotMode.IN_PERSON: "In person", SlotMode.BOTH: "Either"}


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _time(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return local.strftime("%I:%M %p").lstrip("0")


def _slot_key(slot: Slot) -> str:
    return f"{slot.start_at.isoformat()}|{slot.length_minutes}|{slot.mode.value}"


class PortalBookingState(AuthState):
    practitioners: list[dict[str, str]] = []  # id, name
    practitioner_id: str = ""
    lengths: list[str] = []
    length: str = ""
    week_label: str = ""
    days: list[dict[str, str]] = []  # label, count
    day_slots: list[list[dict[str, str]]] = []  # per day: key, time, mode, label, day
    has_earlier: bool = False
    has_later: bool = False
    telehealth_note: str = ""
    timezone: str = ""
    moving_label: str = ""  # "" when booking; what is being moved otherwise
    chosen_key: str = ""
    chosen_label: str = ""
    chosen_both: bool = False
    chosen_mode: str = ""  # in_person | telehealth, the client's choice for a Both slot
    problem: str = ""  # a refusal, shown above the (fresh) slots
    unavailable: str = ""  # why this client cannot book at all
    loaded: bool = False
    saving: bool = False
    _first_day: str = ""
    _moving_id: int = 0

    @rx.event
    async def load(self):
        """/portal/book, or /portal/book?move=<id> to move one of the client's own appointments."""
        self.loaded, self.problem, self.unavailable, self.moving_label = False, "", "", ""
        self._clear_choice()
        try:
            principal = await self._require(Action.USE_PORTAL)
        except NotAllowed:
            return
        try:
            self._moving_id = int(self.router.url.query_parameters.get("move", "0") or 0)
        except ValueError:
            self._moving_id = 0
        self.timezone = await asyncio.to_thread(profiles.viewer_timezone, principal)
        zone = ZoneInfo(self.timezone)
        try:
            choices = await asyncio.to_thread(self_booking.bookable_practitioners, principal)
            if self._moving_id:
                moving = await asyncio.to_thread(self_booking.may_change, principal, self._moving_id)
                self.moving_label = (f"{format_local(moving.start_at, self.timezone)} · {moving.duration_minutes} min"
                                     f" · {'Telehealth' if moving.telehealth else 'In person'}")
                choices = [c for c in choices if c.practitioner_id == moving.practitioner_id]
                self.length = str(moving.duration_minutes)
        except self_booking.SelfBookingRefused as exc:
            self.unavailable, self.loaded = str(exc), True
            return
        self.practitioners = [{"id": str(c.practitioner_id), "name": c.name} for c in choices]
        self.practitioner_id = self.practitioners[0]["id"] if self.practitioners else ""
        self._first_day = _monday(now().astimezone(zone).date()).isoformat()
        await self._show_week(first_open=True)
        self.loaded = True

    async def _show_week(self, *, first_open: bool = False) -> None:
        """The chosen week's slots; with `first_open`, the first week from it with an open slot."""
        if not self.practitioner_id:
            self.days, self.day_slots = [], []
            return
        principal = await self._require(Action.USE_PORTAL)
        try:
            week = await asyncio.to_thread(
                self_booking.week_of_slots, principal, int(self.practitioner_id), date.fromisoformat(self._first_day),
                int(self.length) if self.length.isdigit() else None, moving_appointment_id=self._moving_id or None,
                first_open=first_open)
        except self_booking.SelfBookingRefused as exc:
            self.problem, self.days, self.day_slots = str(exc), [], []
            return
        zone = ZoneInfo(week.timezone)
        self.timezone, self._first_day = week.timezone, week.first_day.isoformat()
        self.lengths, self.length = [str(n) for n in week.lengths], str(week.length_minutes)
        last = week.first_day + timedelta(days=6)
        self.week_label = f"{week.first_day.strftime('%a %d %b')} to {last.strftime('%a %d %b %Y')}"
        self.days = [{"label": day.strftime("%A %d %B"), "count": str(len(slots))} for day, slots in week.days]
        self.day_slots = [[{"key": _slot_key(s), "time": _time(s.start_at, zone), "mode": s.mode.value,
                            "label": SLOT_LABELS[s.mode],
                            "day": day.strftime("%A %d %B")}
                           for s in slots] for day, slots in week.days]
        self.has_earlier, self.has_later = week.has_earlier, week.has_later
        self.telehealth_note = f"No telehealth times right now: {week.telehealth_unavailable}." \
            if week.telehealth_unavailable else ""

    def _clear_choice(self) -> None:
        self.chosen_key, self.chosen_label, self.chosen_both, self.chosen_mode = "", "", False, ""

    @rx.event
    async def choose_practitioner(self, practitioner_id: str):
        if practitioner_id in {p["id"] for p in self.practitioners}:
            self.practitioner_id, self.problem = practitioner_id, ""
            self._clear_choice()
            self._first_day = _monday(now().astimezone(ZoneInfo(self.timezone or "UTC")).date()).isoformat()
            await self._show_week(first_open=True)

    @rx.event
    async def choose_length(self, length: str):
        if length in self.lengths:
            self.length, self.problem = length, ""
            self._clear_choice()
            await self._show_week()

    @rx.event
    async def other_week(self, weeks: int):
        """The previous (-1) or next (+1) week."""
        if (weeks < 0 and not self.has_earlier) or (weeks > 0 and not self.has_later) or not self._first_day:
            return
        self._first_day = (date.fromisoformat(self._first_day) + timedelta(weeks=1 if weeks > 0 else -1)).isoformat()
        self.problem = ""
        self._clear_choice()
        await self._show_week()

    @rx.event
    def choose_slot(self, key: str):
        """The key the page showed; confirm sends it to the service, which checks it again."""
        try:
            start_text, length, mode = key.split("|")
            start, slot_mode = datetime.fromisoformat(start_text), SlotMode(mode)
        except ValueError:
            return
        self.chosen_key, self.problem = key, ""
        self.chosen_label = f"{format_local(start, self.timezone)} · {length} min"
        self.chosen_both = slot_mode == SlotMode.BOTH
        self.chosen_mode = "" if self.chosen_both else slot_mode.value

    @rx.event
    def choose_mode(self, mode: str):
        if mode in (SlotMode.IN_PERSON.value, SlotMode.TELEHEALTH.value):
            self.chosen_mode = mode

    @rx.event
    def clear_choice(self):
        self._clear_choice()

    @rx.event
    async def confirm(self):
        if self.saving:
            return
        principal = await self._require(Action.USE_PORTAL)
        try:
            start_text, length, _ = self.chosen_key.split("|")
            start = datetime.fromisoformat(start_text)
        except ValueError:
            self.problem = "Choose a time first."
            return
        if not self.chosen_mode:
            self.problem = "Choose in person or telehealth for this time."
            return
        self.saving = True
        yield  # the button shows it is working
        try:
            if self._moving_id:
                await asyncio.to_thread(self_booking.reschedule_own, principal, self._moving_id, start, int(length),
                                        self.chosen_mode)
            else:
                await asyncio.to_thread(self_booking.book_slot, principal, int(self.practitioner_id), start,
                                        int(length), self.chosen_mode)
        except (self_booking.SlotTaken, self_booking.SelfBookingRefused) as exc:
            self.problem = str(exc)
            self._clear_choice()
            await self._show_week()  # fresh slots beside the message
            yield rx.toast.error(str(exc))
            return
        finally:
            self.saving = False
        what = "moved" if self._moving_id else "booked"
        mode = MODE_LABELS[SlotMode(self.chosen_mode)].lower()
        self._clear_choice()
        yield rx.toast.success(f"Your {mode} session is {what}. We emailed you the details.")
        yield rx.redirect("/portal")


class PortalChangeState(AuthState):
    """The Reschedule and Cancel buttons of the client's upcoming appointments on My sessions."""

    problem: str = ""
    cancel_reason: str = ""  # optional, typed in the Cancel dialog

    @rx.event
    def clear(self):
        self.problem = ""

    @rx.event
    def set_cancel_reason(self, value: str):
        self.cancel_reason = value[:self_booking.CLIENT_REASON_MAX]

    @rx.event
    async def reschedule(self, appointment_id: int):
        principal = await self._require(Action.USE_PORTAL)
        try:
            await asyncio.to_thread(self_booking.may_change, principal, int(appointment_id))
        except self_booking.SelfBookingRefused as exc:
            self.problem = str(exc)
            return rx.toast.error(str(exc))
        self.problem = ""
        return rx.redirect(f"/portal/book?move={int(appointment_id)}")

    @rx.event
    async def cancel(self, appointment_id: int):
        principal = await self._require(Action.USE_PORTAL)
        try:
            await asyncio.to_thread(self_booking.cancel_own, principal, int(appointment_id), self.cancel_reason)
        except self_booking.SelfBookingRefused as exc:
            self.problem = str(exc)
            return rx.toast.error(str(exc))
        self.problem = self.cancel_reason = ""
        return rx.toast.success("Your appointment is cancelled. We emailed you a confirmation.")
