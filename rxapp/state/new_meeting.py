"""The New meeting modal: form, inline errors, the overlap warning, then Zoom in the background."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from zoneinfo import ZoneInfo

import reflex as rx

from rxapp.clock import now
from rxapp.services.permissions import Action, NotAllowed
from rxapp.services.practice import profiles
from rxapp.services.telehealth.meetings import schedule, sync
from rxapp.services.timezones import all_timezones
from rxapp.state.auth import AuthState
from rxapp.state.meetings import MeetingsState

FIELDS = ("topic", "description", "date", "hour", "timezone", "patient", "duration")
# The limits the server enforces (schedule.validate), stated under the fields and checked as the user types.
LIMITS = {"topic": schedule.TOPIC_MAX, "description": schedule.DESCRIPTION_MAX}


class NewMeetingState(AuthState):
    open: bool = False
    topic: str = ""
    description: str = ""
    date: str = ""
    hour: str = ""
    timezone: str = ""
    patient: str = ""
    duration: str = "50"
    patients: list[dict[str, str]] = []
    errors: dict[str, str] = {}
    overlaps: list[str] = []
    saving: bool = False
    _created: list[int] = []  # saved here, synced by create_at_zoom; never a browser-chosen id

    @rx.var(cache=True)
    def timezone_options(self) -> list[str]:
        return list(all_timezones())

    @rx.var
    def topic_count(self) -> str:
        return f"{len(self.topic.strip()):,} / {schedule.TOPIC_MAX:,} characters"

    @rx.var
    def description_count(self) -> str:
        return f"{len(self.description.strip()):,} / {schedule.DESCRIPTION_MAX:,} characters"

    @rx.var
    def durations(self) -> list[str]:
        return [str(d) for d in schedule.DURATIONS]

    @rx.event
    async def open_form(self):
        try:
            principal = await self._require(Action.HOST_MEETINGS)
        except NotAllowed:
            return rx.toast.error("Only practitioners schedule meetings.")
        tz = await asyncio.to_thread(profiles.practitioner_timezone, principal.user_id)
        if tz is None:
            return rx.toast.error("Only practitioners schedule meetings.")
        patients = await asyncio.to_thread(schedule.trusted_patients, principal)
        tomorrow = (now() + timedelta(days=1)).astimezone(ZoneInfo(tz))
        self.topic = self.description = self.patient = ""
        self.date, self.hour, self.timezone, self.duration = tomorrow.date().isoformat(), "09:00", tz, "50"
        self.patients = [{"value": str(i), "label": n} for i, n in patients]
        self.errors, self.overlaps, self.open = {}, [], True
        problem = await asyncio.to_thread(schedule.zoom_problem, principal)
        if problem:
            self.errors = {"zoom": problem}
        return None

    @rx.event
    def close(self):
        self.open = False

    @rx.event
    def set_open(self, value: bool):
        self.open = value

    @rx.event
    def edit(self, field: str, value: str):
        """Any field of the form, kept whole (nothing is cut); too long is flagged at once, the
        rest is validated on save."""
        if field in FIELDS:
            setattr(self, field, value)
            self.errors = {k: v for k, v in self.errors.items() if k not in (field, "form")}
            limit, length = LIMITS.get(field), len(value.strip())
            if limit is not None and length > limit:
                self.errors = {**self.errors, field: schedule.too_long(limit, length)}
            self.overlaps = []

    def _draft(self) -> schedule.MeetingDraft:
        try:
            duration = int(self.duration)
        except ValueError:
            duration = 0
        return schedule.MeetingDraft(topic=self.topic, description=self.description, date=self.date,
                                     hour=self.hour, timezone=self.timezone,
                                     client_id=int(self.patient) if self.patient.isdigit() else None,
                                     duration_minutes=duration)

    @rx.event
    async def save(self):
        """Save; with overlaps, warn first and save on the second press ("Save anyway")."""
        principal = await self._require(Action.HOST_MEETINGS)
        self.saving = True
        yield
        try:
            result = await asyncio.to_thread(schedule.schedule_meeting, principal, self._draft(),
                                             overlap_confirmed=bool(self.overlaps))
        except schedule.MeetingInvalid as exc:
            self.errors, self.saving = exc.errors, False
            yield rx.toast.error("The meeting was not saved: check the highlighted fields.")
            return
        except NotAllowed:
            self.saving = False
            yield rx.toast.error("Only practitioners schedule meetings.")
            return
        self.saving = False
        if result.meeting_id is None:
            self.overlaps = result.overlaps
            return
        self.open, self.overlaps = False, []
        yield rx.toast.success("Meeting saved. Creating the Zoom meeting…")
        yield MeetingsState.refresh
        self._created = [*self._created, result.meeting_id]
        yield NewMeetingState.create_at_zoom

    @rx.event(background=True)
    async def create_at_zoom(self):
        """Create the Zoom meetings just saved; on failure the retry job keeps trying, and the row says so."""
        async with self:
            ids, self._created = self._created, []
        results = [await sync.sync_meeting(meeting_id) for meeting_id in ids]
        if not results:
            return
        yield MeetingsState.refresh
        if all(results):
            yield rx.toast.success("Zoom meeting created; the patient was emailed.")
        else:
            yield rx.toast.warning("Zoom could not create the meeting yet. It is saved as Pending sync and "
                                   "will be retried automatically; the patient was emailed.")
