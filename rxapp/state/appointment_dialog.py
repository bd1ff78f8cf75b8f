"""The New appointment / edit dialog of the Calendar page. Typed input is kept through every error;
the server (services.scheduling.appointments) decides, this state only shows what it says."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import reflex as rx

from rxapp import live
from rxapp.clock import now
from rxapp.models.types import AppointmentStatus, Role
from rxapp.services.clients import directory
from rxapp.services.permissions import Action, NotAllowed, Principal
from rxapp.services.practice import profiles
from rxapp.services.scheduling import appointments as book
from rxapp.services.scheduling import calendar
from rxapp.services.telehealth import lateness
from rxapp.services.telehealth.meetings import attendance
from rxapp.state.auth import AuthState
from rxapp.state.calendar import CalendarState, _int, zoom_note

FIELDS = ("client", "practitioner", "date", "start", "length", "mode", "notes", "repeat", "repeat_end",
          "occurrences", "until", "scope")
DEFAULT_LENGTH = 50
LENGTHS = ("15", "20", "30", "45", "50", "60", "75", "90", "120")
CLIENT_RESULTS = 8
PAST_MESSAGE = book.PastTimeWarning.MESSAGE  # shown by the dialog when the server says the time has passed


class AppointmentDialogState(AuthState):
    open: bool = False
    editing: bool = False  # False: New appointment
    title: str = "New appointment"
    client: str = ""  # the chosen client's id
    client_name: str = ""
    client_query: str = ""
    client_results: list[dict[str, str]] = []
    practitioner: str = ""
    practitioner_options: list[dict[str, str]] = []
    practitioner_fixed: bool = False  # a practitioner books only for themself
    reassigning: bool = False
    date: str = ""
    start: str = ""
    length: str = str(DEFAULT_LENGTH)
    mode: str = "in_person"  # "in_person" | "telehealth"
    notes: str = ""
    repeat: str = "none"  # "none" | "weekly" | "biweekly"
    repeat_end: str = "count"  # "count" | "until"
    occurrences: str = "6"
    until: str = ""
    scope: str = "this"  # for a series: "this" | "following"
    in_series: bool = False
    status: str = ""
    is_past: bool = False
    meeting_note: str = ""
    attended: str = ""  # "Client joined 10:02, left 10:51 (49 min)" (telehealth, from Zoom)
    offer: str = ""  # the outcome an ended session's attendance suggests: completed | no_show | ""
    can_run_late: bool = False  # a telehealth session not started yet: "Running 5 / 10 / 15 min late"
    timezone: str = "UTC"
    errors: dict[str, str] = {}
    overlap: str = ""  # the server's overlap warning; the next Save books anyway
    past: bool = False  # the server said the time has passed; the next Save records a past visit
    saving: bool = False
    cancel_open: bool = False
    cancel_reason: str = ""
    cancel_scope: str = "this"
    cancel_error: str = ""
    _appointment_id: int = 0  # the appointment being edited, chosen by the server on open
    _saved_ids: list[int] = []  # saved here, pushed to Zoom by push_to_zoom; never a browser-chosen id
    _undo: dict[str, str] = {}  # the last drag's appointment and where it was (Undo puts it back)

    @rx.var
    def lengths(self) -> list[str]:
        return list(dict.fromkeys([*LENGTHS, self.length])) if self.length.isdigit() else list(LENGTHS)

    @rx.var
    def save_label(self) -> str:
        if self.past and not self.overlap:
            return "Record past visit"
        if self.overlap:
            return "Book anyway"
        return "Save changes" if self.editing else "Book appointment"

    async def _context(self) -> tuple[Principal, list[calendar.CalendarPractitioner], str]:
        principal = await self._require(Action.MANAGE_APPOINTMENTS)
        options = await asyncio.to_thread(calendar.practitioners, principal)
        tz = await asyncio.to_thread(profiles.viewer_timezone, principal)
        return principal, options, tz

    def _reset_form(self, principal: Principal, options: list[calendar.CalendarPractitioner], tz: str) -> None:
        self.timezone = tz
        self.practitioner_fixed = Role(principal.role) == Role.PRACTITIONER
        mine = [p for p in options if p.id == principal.user_id]
        shown = mine if self.practitioner_fixed else options
        self.practitioner_options = [{"value": str(p.id), "label": p.name} for p in shown]
        self.client = self.client_name = self.client_query = self.notes = self.overlap = self.meeting_note = ""
        self.client_results, self.errors, self.past = [], {}, False
        self.repeat, self.repeat_end, self.occurrences, self.until, self.scope = "none", "count", "6", "", "this"
        self.mode, self.reassigning, self.in_series, self.status, self.is_past = "in_person", False, False, "", False
        self.attended = self.offer = ""
        self.can_run_late = False
        self.cancel_open, self.cancel_reason, self.cancel_error, self.cancel_scope = False, "", "", "this"
        self.saving, self._appointment_id = False, 0

    @rx.event
    async def open_new(self, practitioner_id: str, day: str, start: str):
        """An empty slot (or New appointment) was pressed: the form, prefilled with that slot."""
        problem = await self._open_new(practitioner_id, day, start)
        return rx.toast.error(problem) if problem else None

    async def _open_new(self, practitioner_id: str, day: str, start: str) -> str:
        """Open the New appointment form; what stopped it ("" when it opened)."""
        try:
            principal, options, tz = await self._context()
        except NotAllowed:
            return "You are not allowed to book appointments."
        self._reset_form(principal, options, tz)
        if self.practitioner_fixed:
            practitioner_id = str(principal.user_id)
        elif practitioner_id not in {o["value"] for o in self.practitioner_options}:
            practitioner_id = self.practitioner_options[0]["value"] if self.practitioner_options else ""
        if not practitioner_id:
            return "The practice has no practitioner to book with yet."
        local_now = now().astimezone(ZoneInfo(tz))
        try:
            self.date = date.fromisoformat(day).isoformat()
        except ValueError:
            self.date = local_now.date().isoformat()
        self.start = start if len(start) == 5 and start[2] == ":" else f"{(local_now.hour + 1) % 24:02d}:00"
        self.practitioner = practitioner_id
        self.length = str(await asyncio.to_thread(profiles.default_length, int(practitioner_id)))
        self.editing, self.title, self.open = False, "New appointment", True
        return ""

    @rx.event
    def open_from_url(self):
        """on_load: `/calendar?appointment=<id>` opens that appointment, `?new=1` the New appointment
        form (the Meetings page's New appointment button), `?new=1&client=<id>` with that client
        chosen (the client page's Book appointment button)."""
        params = self.router.url.query_parameters
        if _int(params.get("appointment", "")):
            return AppointmentDialogState.open_edit(params["appointment"])
        if params.get("new") == "1":
            return AppointmentDialogState.open_new_for(params.get("client", ""))
        return None

    @rx.event
    async def open_new_for(self, client_id: str):
        """The New appointment form with this client chosen, when the signed-in person may book
        them (the server decides, as the picker does; any other id leaves the client empty)."""
        problem = await self._open_new("", "", "")
        wanted = _int(client_id)
        if problem or not wanted:
            return rx.toast.error(problem) if problem else None
        try:
            principal = await self._require(Action.MANAGE_APPOINTMENTS)
            found = await asyncio.to_thread(directory.pickable_client, principal, wanted)
        except NotAllowed:
            found = None
        if found is None:
            return rx.toast.error("That client cannot be booked from here: choose one in the form.")
        self.client, self.client_name = str(found.id), found.name
        return None

    @rx.event
    async def open_edit(self, appointment_id: str):
        """An appointment was pressed: its edit dialog (the server re-reads it for this id)."""
        problem = await self._load_edit(_int(appointment_id) or 0)
        if problem:
            return rx.toast.error(problem)
        self.open = True
        return None

    async def _load_edit(self, appointment_id: int) -> str:
        """The form filled with this appointment (re-read for the signed-in person, not yet shown);
        what stopped it ("" when filled)."""
        try:
            principal, options, tz = await self._context()
            detail = await asyncio.to_thread(calendar.appointment_detail, principal, appointment_id)
        except NotAllowed:
            return "You are not allowed to change appointments."
        except LookupError as exc:
            return str(exc)
        self._reset_form(principal, options, tz)
        if self.practitioner_fixed and detail.practitioner_id != principal.user_id:
            self.practitioner_options = [{"value": str(detail.practitioner_id), "label": detail.practitioner_name}]
        self._fill(detail, options)
        self.editing = True
        return ""

    @rx.event
    async def drop(self, payload: str):
        """An appointment dragged on the grid (desktop) to another time or practitioner column, or its
        bottom edge dragged to a new length: saved as the dialog saves it. What needs a person's
        choice opens the dialog with the new values (an overlap to confirm, which occurrences of a
        series, a refusal beside its field); a move done offers Undo."""
        try:
            data = json.loads(payload)
            appointment_id, column, minute, length = (int(data[k]) for k in ("id", "column", "minute", "length"))
        except (ValueError, KeyError, TypeError):
            return
        columns = (await self.get_state(CalendarState)).columns
        if not (0 <= column < len(columns) and 0 <= minute < 24 * 60 and 0 < length <= 24 * 60):
            return
        problem = await self._load_edit(appointment_id)
        if problem:
            yield rx.toast.error(problem)
            return
        before = {"date": self.date, "start": self.start, "length": self.length, "practitioner": self.practitioner}
        target = columns[column]
        self.date, self.start, self.length = target["day"], f"{minute // 60:02d}:{minute % 60:02d}", str(length)
        if target["practitioner_id"] != self.practitioner:
            self.practitioner, self.reassigning = target["practitioner_id"], True
        if before == {"date": self.date, "start": self.start, "length": self.length,
                      "practitioner": self.practitioner}:
            return
        if self.in_series:  # "this one" or "this and following" is the person's choice
            self.open = True
            yield rx.toast.info("Choose which appointments of the series move, then save.")
            return
        principal = await self._require(Action.MANAGE_APPOINTMENTS)
        self.saving = True
        yield
        try:
            message = await asyncio.to_thread(self._write, principal, False, False)
        except _Refused as exc:
            self.saving, self.errors, self.overlap, self.open = False, exc.errors, exc.overlap, True
            return
        self.saving = False
        self._undo = {"id": str(appointment_id), "timezone": self.timezone, **before}
        yield rx.toast.success(message, action={"label": "Undo", "on_click": AppointmentDialogState.undo_move},
                               duration=10_000)
        yield CalendarState.refresh
        yield AppointmentDialogState.push_to_zoom

    @rx.event
    async def undo_move(self):
        """Put the last dragged appointment back (the server re-checks; the client is told again)."""
        undo, self._undo = self._undo, {}
        if not undo:
            return
        principal = await self._require(Action.MANAGE_APPOINTMENTS)
        change = book.AppointmentChange(date=undo["date"], hour=undo["start"], timezone=undo["timezone"],
                                        duration_minutes=int(undo["length"]),
                                        practitioner_id=int(undo["practitioner"]), allow_overlap=True)
        try:
            saved = await asyncio.to_thread(book.change_appointment, principal, int(undo["id"]), change)
        except book.AppointmentInvalid as exc:
            yield rx.toast.error("Not moved back: " + "; ".join(exc.errors.values()))
            return
        except (book.AppointmentRefused, LookupError, NotAllowed) as exc:
            yield rx.toast.error("Not moved back: " + _refusal(exc))
            return
        self._saved_ids = [*self._saved_ids, *saved.ids]
        yield rx.toast.success(f"Moved back. {saved.zoom_notice}".strip())
        yield CalendarState.refresh
        yield AppointmentDialogState.push_to_zoom

    def _fill(self, detail: calendar.AppointmentDetail, options: list[calendar.CalendarPractitioner]) -> None:
        local = detail.start_at.astimezone(ZoneInfo(self.timezone))
        self._appointment_id = detail.id
        self.client, self.client_name = str(detail.client_id), detail.client_name
        self.practitioner = str(detail.practitioner_id)
        self.date, self.start = local.date().isoformat(), f"{local:%H:%M}"
        self.length, self.notes = str(detail.duration_minutes), detail.notes
        self.mode = "telehealth" if detail.telehealth else "in_person"
        self.in_series, self.status = detail.series_id is not None, detail.status
        self.is_past = detail.start_at < now()
        self.title = f"{detail.client_name} · {local:%a} {local.day} {local:%b}, {local:%H:%M}" + \
            (" · Confirmed" if detail.confirmed and detail.status == AppointmentStatus.BOOKED else "")
        self.meeting_note = _meeting_note(detail, options)
        self.attended = attendance.describe(detail.attendance, self.timezone)
        self.can_run_late = detail.telehealth and detail.status == AppointmentStatus.BOOKED and \
            now() < detail.start_at + timedelta(minutes=detail.duration_minutes)
        self.offer = attendance.offer(detail.status == AppointmentStatus.COMPLETED and detail.telehealth,
                                      detail.outcome_recorded, detail.attendance)

    @rx.event
    def set_open(self, value: bool):
        self.open = value
        if not value:
            self.cancel_open = False

    @rx.event
    def close(self):
        self.open, self.cancel_open = False, False

    @rx.event
    def edit(self, field: str, value: str):
        """Any field, kept as typed; its error (and a stale overlap warning) goes away."""
        if field in FIELDS:
            setattr(self, field, value)
            self.errors = {k: v for k, v in self.errors.items() if k not in (field, "form")}
            self.overlap, self.past = "", False

    @rx.event
    def start_reassign(self):
        self.reassigning = True

    @rx.event
    async def search_clients(self, text: str):
        """Type-ahead over the practice's clients the principal may book (never archived ones)."""
        self.client_query = text
        self.errors = {k: v for k, v in self.errors.items() if k != "client"}
        if not text.strip():
            self.client_results = []
            return
        principal = await self._require(Action.MANAGE_APPOINTMENTS)
        found = await asyncio.to_thread(directory.search_clients, principal, text, CLIENT_RESULTS)
        self.client_results = [{"value": str(c.id), "label": c.name, "detail": c.email} for c in found]

    @rx.event
    def choose_client(self, client_id: str, name: str):
        self.client, self.client_name, self.client_query, self.client_results = client_id, name, "", []
        self.errors = {k: v for k, v in self.errors.items() if k != "client"}
        self.overlap, self.past = "", False

    @rx.event
    def clear_client(self):
        self.client = self.client_name = ""

    def _local_start(self) -> datetime | None:
        try:
            day, clock = date.fromisoformat(self.date), time.fromisoformat(self.start)
        except ValueError:
            return None
        return datetime.combine(day, clock, ZoneInfo(self.timezone))

    def _form_errors(self) -> dict[str, str]:
        """What can be said without the server (it re-checks all of it)."""
        errors: dict[str, str] = {}
        if not self.client:
            errors["client"] = "Choose the client: type part of their name and pick them from the list."
        if not self.practitioner:
            errors["practitioner"] = "Choose the practitioner."
        if self._local_start() is None:
            if not self.date:
                errors["date"] = "Enter the date."
            else:
                errors["start"] = "Enter the start time as HH:MM."
        if not self.length.isdigit() or not 5 <= int(self.length) <= 480:
            errors["length"] = "The length is between 5 and 480 minutes."
        if not self.editing and self.repeat != "none":
            if self.repeat_end == "count" and (not self.occurrences.isdigit() or not 2 <= int(self.occurrences) <= 52):
                errors["occurrences"] = "Repeat for 2 to 52 occurrences."
            if self.repeat_end == "until":
                try:
                    if date.fromisoformat(self.until) <= date.fromisoformat(self.date):
                        errors["until"] = "The last date must be after the first appointment."
                except ValueError:
                    errors["until"] = "Enter the date of the last appointment."
        return errors

    @rx.event
    async def save(self):
        """Book (or change) the appointment; the server's refusals land next to their fields, an overlap
        warning turns Save into "Book anyway"."""
        principal = await self._require(Action.MANAGE_APPOINTMENTS)
        errors = self._form_errors()
        if errors:
            self.errors = errors
            return
        self.saving = True
        yield
        try:
            message = await asyncio.to_thread(self._write, principal, bool(self.overlap), self.past)
        except _Refused as exc:
            self.saving = False
            self.errors, self.overlap, self.past = exc.errors, exc.overlap, exc.past or self.past
            if exc.errors:
                yield rx.toast.error("The appointment was not saved: check the highlighted fields.")
            return
        self.saving, self.open, self.overlap, self.past = False, False, "", False
        yield rx.toast.success(message)
        yield CalendarState.refresh
        yield AppointmentDialogState.push_to_zoom

    def _draft(self, allow_overlap: bool, record_past: bool) -> book.AppointmentDraft:
        repeat = None
        if self.repeat != "none":
            repeat = book.Repeat(every_weeks=2 if self.repeat == "biweekly" else 1,
                                 count=int(self.occurrences) if self.repeat_end == "count" else None,
                                 until=self.until if self.repeat_end == "until" else "")
        return book.AppointmentDraft(client_id=_int(self.client), practitioner_id=_int(self.practitioner),
                                     date=self.date, hour=self.start, duration_minutes=int(self.length),
                                     telehealth=self.mode == "telehealth", timezone=self.timezone, notes=self.notes,
                                     repeat=repeat, allow_overlap=allow_overlap, record_past=record_past)

    def _change(self, allow_overlap: bool) -> book.AppointmentChange:
        return book.AppointmentChange(date=self.date, hour=self.start, timezone=self.timezone,
                                      duration_minutes=int(self.length),
                                      practitioner_id=_int(self.practitioner) if self.reassigning else None,
                                      telehealth=self.mode == "telehealth", notes=self.notes,
                                      allow_overlap=allow_overlap)

    def _write(self, principal: Principal, allow_overlap: bool, record_past: bool) -> str:
        """Book or change through the appointment service; its refusals become `_Refused`."""
        try:
            if self.editing:
                saved = book.change_appointment(principal, self._appointment_id, self._change(allow_overlap),
                                                scope=self.scope if self.in_series else "this")
            else:
                saved = book.book_appointments(principal, self._draft(allow_overlap, record_past))
        except book.AppointmentInvalid as exc:
            raise _Refused(_on_fields(exc.errors)) from exc
        except book.PastTimeWarning as exc:
            raise _Refused({}, past=True) from exc
        except book.OverlapWarning as exc:
            raise _Refused({}, _overlap_message(exc.message, self.mode == "telehealth")) from exc
        except (book.AppointmentRefused, LookupError, NotAllowed) as exc:
            raise _Refused({"form": _refusal(exc)}) from exc
        self._saved_ids = [*self._saved_ids, *saved.ids]
        return f"{saved.message} {saved.zoom_notice}".strip()

    @rx.event
    def open_cancel(self):
        self.cancel_open, self.cancel_reason, self.cancel_error, self.cancel_scope = True, "", "", "this"

    @rx.event
    def close_cancel(self):
        self.cancel_open = False

    @rx.event
    def set_cancel_reason(self, value: str):
        self.cancel_reason, self.cancel_error = value, ""

    @rx.event
    def set_cancel_scope(self, value: str):
        self.cancel_scope = "following" if value == "following" else "this"

    @rx.event
    async def confirm_cancel(self):
        """Cancel the appointment opened in this dialog (the server re-checks it), with the reason."""
        principal = await self._require(Action.MANAGE_APPOINTMENTS)
        if not self.cancel_reason.strip():
            self.cancel_error = "Enter the reason; it is sent to the client."
            return
        self.saving = True
        yield
        try:
            message = await asyncio.to_thread(self._cancel, principal)
        except _Refused as exc:
            self.saving = False
            self.cancel_error = next(iter(exc.errors.values()), "The appointment could not be cancelled.")
            return
        self.saving, self.open, self.cancel_open = False, False, False
        yield rx.toast.success(message)
        yield CalendarState.refresh
        yield AppointmentDialogState.push_to_zoom

    def _cancel(self, principal: Principal) -> str:
        try:
            saved = book.cancel_appointment(principal, self._appointment_id, self.cancel_reason,
                                            scope=self.cancel_scope if self.in_series else "this")
        except book.AppointmentInvalid as exc:
            raise _Refused(exc.errors) from exc
        except (book.AppointmentRefused, LookupError, NotAllowed) as exc:
            raise _Refused({"form": _refusal(exc)}) from exc
        self._saved_ids = [*self._saved_ids, *saved.ids]
        return saved.message

    @rx.event
    async def set_outcome(self, outcome: str):
        """Mark completed / No-show, for the appointment opened in this dialog."""
        principal = await self._require(Action.MANAGE_APPOINTMENTS)
        if outcome not in ("completed", "no_show"):
            return
        try:
            message = await asyncio.to_thread(self._outcome, principal, outcome)
        except _Refused as exc:
            self.errors = {"form": next(iter(exc.errors.values()), "The appointment was not changed.")}
            return
        self.open = False
        yield rx.toast.success(message)
        yield CalendarState.refresh

    @rx.event
    async def running_late(self, minutes: int):
        """Running 5 / 10 / 15 min late, for the telehealth appointment opened in this dialog: a client in
        the waiting room sees it at once, anyone else gets an SMS or an email (the server re-checks)."""
        principal = await self._require(Action.HOST_MEETINGS)
        appointment_id = self._appointment_id
        try:
            message = await asyncio.to_thread(lateness.running_late, principal, appointment_id, int(minutes),
                                              client_in_room=await live.connected(f"meeting:{appointment_id}"))
        except (NotAllowed, lateness.LateRefused, ValueError) as exc:
            self.errors = {"form": str(exc) if isinstance(exc, lateness.LateRefused) else
                           "You are not allowed to do that."}
            return
        self.open = False
        yield rx.toast.success(message)
        yield CalendarState.refresh

    def _outcome(self, principal: Principal, outcome: str) -> str:
        try:
            return book.set_outcome(principal, self._appointment_id, AppointmentStatus(outcome)).message
        except (book.AppointmentRefused, LookupError, NotAllowed) as exc:
            raise _Refused({"form": _refusal(exc)}) from exc

    @rx.event(background=True)
    async def push_to_zoom(self):
        """The first Zoom attempt for what was just saved (the retry job does the rest); the
        calendar then shows each telehealth appointment's Zoom state."""
        async with self:
            ids, self._saved_ids = self._saved_ids, []
        if not ids:
            return
        await book.push_to_zoom(ids)
        yield CalendarState.refresh


# The service's field names -> this form's.
_FIELD_OF = {"hour": "start", "duration": "length", "repeat_count": "occurrences", "repeat_until": "until",
             "timezone": "form", "reason": "form"}


def _on_fields(errors: dict[str, str]) -> dict[str, str]:
    """The service's errors placed next to this form's fields (an unknown field: at the form's foot)."""
    placed: dict[str, str] = {}
    for field, message in errors.items():
        mine = _FIELD_OF.get(field, field)
        mine = mine if mine in FIELDS else "form"
        placed[mine] = f"{placed[mine]} {message}" if mine in placed else message
    return placed


def _overlap_message(message: str, telehealth: bool) -> str:
    if telehealth and "Zoom licence" not in message:
        message += " One Zoom licence hosts one meeting at a time."
    return message


def _refusal(exc: Exception) -> str:
    if isinstance(exc, NotAllowed):
        return "You are not allowed to do that with this appointment."
    return str(exc) or "The appointment was not changed."


class _Refused(Exception):
    """The server said no: errors by field, or a warning to confirm (an overlap, a time that has passed)."""

    def __init__(self, errors: dict[str, str], overlap: str = "", past: bool = False) -> None:
        super().__init__(overlap or "; ".join(errors.values()))
        self.errors, self.overlap, self.past = errors, overlap, past


def _meeting_note(detail: calendar.AppointmentDetail, options: list[calendar.CalendarPractitioner]) -> str:
    """The telehealth appointment's Zoom meeting, as the calendar says it ('' for in-person ones)."""
    if not detail.telehealth or detail.status == AppointmentStatus.CANCELLED:
        return ""
    practitioner = next((p for p in options if p.id == detail.practitioner_id), None)
    as_calendar = calendar.CalendarAppointment(
        id=detail.id, practitioner_id=detail.practitioner_id, client_id=detail.client_id,
        client_name=detail.client_name, start_at=detail.start_at, duration_minutes=detail.duration_minutes,
        telehealth=True, status=detail.status, meeting=detail.meeting)
    return zoom_note(as_calendar, practitioner or calendar.CalendarPractitioner(
        id=detail.practitioner_id, name=detail.practitioner_name, zoom=calendar.ZoomState.NOT_CONNECTED,
        telehealth_enabled=False))
