"""Meetings page: the list (filters in the URL), row actions, the launch prompt."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

import reflex as rx

from rxapp import live
from rxapp.models import AppointmentStatus
from rxapp.services.identity import auth
from rxapp.services.permissions import Action, NotAllowed, Principal, can
from rxapp.services.practice import profiles
from rxapp.services.practice.settings import get_settings_view
from rxapp.services.scheduling import appointments
from rxapp.services.telehealth import lateness, meeting_list
from rxapp.services.telehealth.meeting_list import DISPLAY_STATUSES as DISPLAY_STATUSES  # re-exported for the page
from rxapp.services.telehealth.meeting_list import PERIODS as PERIODS
from rxapp.services.telehealth.meetings import actions, attendance, decisions
from rxapp.services.telehealth.meetings.decisions import MeetingDecisions
from rxapp.services.telehealth.meetings.schedule import zoom_blocker
from rxapp.services.telehealth.zoom.errors import ZoomError, ZoomNeedsReconnect, ZoomNotConnected
from rxapp.services.timezones import format_local
from rxapp.state.auth import AuthState
from rxapp.state.keyset_pages import KeysetPages
from rxapp.state.zoom_connect import start_zoom_connect

SEARCH_MAX = 100  # the search box takes as many characters (its maxlength), so nothing is cut unseen


# Where the client is, as the Today panel and the Meetings rows say it (pushed as it changes).
CLIENT_STATES = {"meeting": "In the meeting", "waiting": "In Zoom's waiting room", "left": "Left the meeting",
                 "portal": "In the waiting room", "away": "Not arrived"}


def _client_state(row: meeting_list.MeetingRow, status: decisions.DisplayStatus) -> str:
    """The client's live state for a session that is on (a key of CLIENT_STATES), else ""."""
    zoom = row.attendance.client_state if row.attendance else ""
    if zoom:
        return zoom
    if status not in (decisions.DisplayStatus.SCHEDULED, decisions.DisplayStatus.IN_PROGRESS,
                      decisions.DisplayStatus.PENDING_SYNC):
        return ""
    return "portal" if row.client_waiting or row.client_in_portal else "away"


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


# A confirmation means nothing once the session is over or cancelled.
_OVER = frozenset({decisions.DisplayStatus.CANCELLED, decisions.DisplayStatus.ENDED, decisions.DisplayStatus.NO_SHOW})

class MeetingsState(KeysetPages, AuthState):
    rows: list[dict[str, str]] = []
    _row_ids: list[int] = []
    patient: str = ""
    status: str = ""
    search: str = ""
    newest_first: bool = False
    period: str = "upcoming"
    practitioner: str = ""
    patient_options: list[dict[str, str]] = []
    practitioner_options: list[dict[str, str]] = []
    sees_practice: bool = False
    zoom_problem: str = ""
    needs_reconnect: bool = False
    launch_prompt: str = ""
    launch_href: str = ""
    can_schedule: bool = False  # only practitioners schedule (New meeting is hidden for everyone else)
    # The confirm dialogs: the meeting the user clicked, by id (a live push may reorder the rows
    # between the click and the confirm), its description, and which action is being confirmed.
    confirm_action: str = ""  # "end" | "delete" | ""
    confirm_id: int = 0
    confirm_subject: str = ""
    cancel_id: int = 0
    cancel_subject: str = ""
    cancel_reason: str = ""
    cancel_error: str = ""
    timezone: str = "UTC"
    today_only: bool = False  # the Today panel (/today): today's sessions, no filters
    # "Running late" for the meeting chosen when the dialog opened.
    late_id: int = 0
    late_subject: str = ""
    late_minutes: str = "10"
    late_note: str = ""
    late_error: str = ""

    @rx.var
    def cancel_reason_count(self) -> str:
        return f"{len(self.cancel_reason):,} / {actions.REASON_MAX:,} characters"

    @rx.var
    def has_live_rows(self) -> bool:
        """Rows that Zoom or the clock may change soon: the page refreshes itself meanwhile."""
        return any(r["status_key"] in ("pending_sync", "in_progress", "scheduled") for r in self.rows)

    @rx.event
    async def load_today(self):
        """on_load of the Today panel: the viewer's telehealth sessions of today, live."""
        self.today_only, self.patient, self.status, self.search, self.practitioner = True, "", "", "", ""
        self.newest_first, self.period = False, "today"
        self._read_page({})
        await self._reload()
        principal = await self._principal()
        if principal is not None:
            await live.watch(f"practitioner:{principal.user_id}", self.router.session.client_token)

    @rx.event
    async def load(self):
        """on_load: read the filters from the URL (bookmarkable), then the page of meetings."""
        self.today_only = False
        params = self.router.url.query_parameters
        self.patient, self.status = params.get("patient", ""), params.get("status", "")
        self.search, self.practitioner = params.get("q", "")[:SEARCH_MAX], params.get("practitioner", "")
        self.newest_first = params.get("sort") == "newest"
        self._read_page(params)
        self.period = params.get("when", "upcoming")
        if self.period not in meeting_list.PERIODS:
            self.period = "upcoming"
        if self.status not in meeting_list.DISPLAY_STATUSES:
            self.status = ""
        await self._reload()
        principal = await self._principal()
        if principal is not None:
            await live.watch(f"practitioner:{principal.user_id}", self.router.session.client_token)

    async def _reload(self) -> None:
        try:
            principal = await self._require(Action.VIEW_MEETINGS)
        except NotAllowed:
            self.rows, self._row_ids = [], []
            return
        filters = meeting_list.MeetingFilters(
            practitioner_id=_int(self.practitioner), client_id=_int(self.patient), status=self.status or None,
            search=self.search, page_size=50 if self.today_only else 20, newest_first=self.newest_first,
            period=self.period,
            # Filters changed set page 1: the first page, whatever cursor came before.
            after=self._cursor().get("after", ""), before=self._cursor().get("before", ""))
        result, patients, extras = await asyncio.gather(
            asyncio.to_thread(meeting_list.list_meetings, principal, filters),
            asyncio.to_thread(meeting_list.patients_for_filter, principal, _int(self.practitioner)),
            asyncio.to_thread(self._page_context, principal))
        verdicts = await asyncio.to_thread(decisions.decisions_for, principal, [r.id for r in result.rows])
        self.timezone, problem, practitioners, self.can_schedule = extras
        self.zoom_problem, self.needs_reconnect = str(problem or ""), isinstance(problem, ZoomNeedsReconnect)
        self.sees_practice = can(principal, Action.VIEW_PRACTICE_MEETINGS)
        self._show_page(result.has_previous, result.has_next, result.previous_cursor, result.next_cursor)
        self.patient_options = [{"value": str(i), "label": n} for i, n in patients]
        self.practitioner_options = [{"value": str(i), "label": n} for i, n in practitioners]
        session_token = self._session_token()
        shown = [(r, verdicts[r.id]) for r in result.rows if r.id in verdicts]
        self._row_ids = [r.id for r, _ in shown]
        self.rows = [self._display(r, verdict, session_token) for r, verdict in shown]
        self._launch(shown, session_token)

    @staticmethod
    def _page_context(principal: Principal) -> tuple[str, ZoomNotConnected | None, list[tuple[int, str]], bool]:
        tz = profiles.viewer_timezone(principal)
        problem = zoom_blocker(principal) if can(principal, Action.HOST_MEETINGS) else None
        practitioners: list[tuple[int, str]] = []
        if can(principal, Action.PRACTICE_SETTINGS):
            practitioners = [(p.user_id, p.name) for p in get_settings_view(principal)[2]]
        # The same test NewMeetingState.open_form and schedule_meeting apply: a practitioner profile.
        schedules = can(principal, Action.HOST_MEETINGS) and \
            profiles.practitioner_timezone(principal.user_id) is not None
        return tz, problem, practitioners, schedules

    def _display(self, row: meeting_list.MeetingRow, verdict: MeetingDecisions, session_token: str) -> dict[str, str]:
        """A row as the page shows it; its buttons are exactly what the services' decisions allow."""
        return {
            "id": str(row.id),
            "when": format_local(row.start_at, self.timezone), "patient": row.patient_name, "topic": row.topic,
            "description": row.description, "practitioner": row.practitioner_name,
            "status": verdict.status.label, "status_key": verdict.status.value,
            "detail": row.cancel_reason if verdict.status == decisions.DisplayStatus.CANCELLED else row.sync_error,
            "start_href": self._start_href(row.id, session_token) if verdict.can_start else "",
            "waiting": "1" if row.client_waiting else "",
            "confirmed": "1" if row.confirmed and verdict.status not in _OVER else "",
            "can_end": "1" if verdict.can_end else "",
            "can_cancel": "1" if verdict.can_cancel else "",
            "can_delete": "1" if verdict.can_delete else "",
            "can_retry": "1" if verdict.can_retry else "",
            "can_run_late": "1" if verdict.can_run_late else "",
            "client_state": _client_state(row, verdict.status),
            "attended": attendance.describe(row.attendance, self.timezone),
            "offer": attendance.offer(verdict.status == decisions.DisplayStatus.ENDED, row.outcome_recorded,
                                      row.attendance),
            "outcome": "Completed" if row.outcome_recorded and verdict.status == decisions.DisplayStatus.ENDED
            else "",
        }

    @staticmethod
    def _start_href(meeting_id: int, session_token: str) -> str:
        return f"/meetings/{meeting_id}/start?t={auth.request_token(session_token, f'start:{meeting_id}')}"

    def _launch(self, shown: list[tuple[meeting_list.MeetingRow, MeetingDecisions]], session_token: str) -> None:
        """Inside the launch window (decisions.LAUNCH_WINDOW): prompt the host to launch the session."""
        self.launch_prompt = self.launch_href = ""
        for row, verdict in shown:
            if verdict.prompt_launch:
                self.launch_prompt = (f"Your session with {row.patient_name} starts "
                                      f"{format_local(row.start_at, self.timezone, '%H:%M')}.")
                self.launch_href = self._start_href(row.id, session_token)
                return

    def _url(self) -> str:
        if self.today_only:
            return "/today" + (f"?{urlencode(self._cursor())}" if self._cursor() else "")
        query = {k: v for k, v in {"q": self.search, "patient": self.patient, "status": self.status,
                                   "practitioner": self.practitioner,
                                   "when": "" if self.period == "upcoming" else self.period,
                                   "sort": "newest" if self.newest_first else "",
                                   **self._cursor()}.items() if v}
        return "/meetings" + (f"?{urlencode(query)}" if query else "")

    async def _apply_page(self):
        await self._reload()
        return rx.call_script(f"window.history.replaceState(null, '', {json.dumps(self._url())})")

    @rx.event
    async def set_search(self, value: str):
        self.search, self.page = value[:SEARCH_MAX], 1
        return await self._apply_page()

    @rx.event
    async def set_patient(self, value: str):
        self.patient, self.page = ("" if value == "all" else value), 1
        return await self._apply_page()

    @rx.event
    async def set_status(self, value: str):
        self.status, self.page = ("" if value == "all" else value), 1
        return await self._apply_page()

    @rx.event
    async def set_practitioner(self, value: str):
        self.practitioner, self.patient, self.page = ("" if value == "all" else value), "", 1
        return await self._apply_page()

    @rx.event
    async def set_period(self, value: str):
        self.period, self.page = (value if value in meeting_list.PERIODS else "upcoming"), 1
        self.newest_first = self.period == "past"
        return await self._apply_page()

    @rx.event
    async def toggle_sort(self):
        self.newest_first, self.page = not self.newest_first, 1
        return await self._apply_page()


    @rx.event
    async def refresh(self):
        await self._reload()

    @rx.event(background=True)
    async def refresh_soon(self):
        """After Start meeting opened Zoom in a new tab: show In progress here."""
        await asyncio.sleep(1.5)
        async with self:
            await self._reload()

    def _subject(self, meeting_id: int) -> str:
        """How a confirm dialog names the meeting: from the row the user clicked ('' if it is gone)."""
        for row_id, row in zip(self._row_ids, self.rows, strict=True):
            if row_id == meeting_id:
                return f"{row['topic']} with {row['patient']}, {row['when']}"
        return ""

    async def _act(self, work: Callable[[Principal], Awaitable[actions.ActionResult]]):
        """Run a row action and turn its outcome into a toast."""
        try:
            result = await work(await self._require(Action.HOST_MEETINGS))
        except NotAllowed:
            return rx.toast.error("You are not allowed to do that.")
        except actions.MeetingActionRefused as exc:
            await self._reload()
            return rx.toast.error(str(exc))
        except ZoomNotConnected as exc:
            return rx.toast.error(f"{exc}. Reconnect Zoom on the Meeting tab of your profile.")
        except ZoomError as exc:
            return rx.toast.error(f"Zoom could not be reached ({exc.message}). Nothing was changed; try again.")
        await self._reload()
        return rx.toast.warning(result.message) if result.warning else rx.toast.success(result.message)

    def _open_confirm(self, action: str, meeting_id: str):
        subject = self._subject(_int(meeting_id) or 0)
        if not subject:
            return rx.toast.error("That meeting is no longer in the list.")
        self.confirm_action, self.confirm_id, self.confirm_subject = action, _int(meeting_id) or 0, subject
        return None

    @rx.event
    def ask_end(self, meeting_id: str):
        """End meeting was pressed on the row of `meeting_id`: ask first."""
        return self._open_confirm("end", meeting_id)

    @rx.event
    def ask_delete(self, meeting_id: str):
        """Delete meeting was pressed on the row of `meeting_id`: ask first."""
        return self._open_confirm("delete", meeting_id)

    @rx.event
    def close_confirm(self):
        self.confirm_action, self.confirm_id = "", 0

    @rx.event
    async def confirm(self):
        """Do the confirmed action to the meeting chosen when the dialog opened (the server
        re-checks permission and state for that id)."""
        action, meeting_id = self.confirm_action, self.confirm_id
        self.confirm_action, self.confirm_id = "", 0
        if action == "end":
            return await self._act(lambda p: actions.end(p, meeting_id))
        if action == "delete":
            return await self._act(lambda p: asyncio.to_thread(actions.delete, p, meeting_id))
        return None

    @rx.event
    async def retry_meeting(self, meeting_id: str):
        """Retry on a needs-attention row: try Zoom again for that meeting now."""
        target = _int(meeting_id) or 0
        yield rx.toast.info("Trying Zoom again…")
        yield await self._act(lambda p: actions.retry(p, target))

    @rx.event
    async def record_outcome(self, meeting_id: str, outcome: str):
        """The one-click outcome of an ended session: the server re-checks the person and the row."""
        target = _int(meeting_id) or 0
        if outcome not in (attendance.COMPLETED, attendance.NO_SHOW) or target not in self._row_ids:
            return rx.toast.error("That meeting is no longer in the list.")
        try:
            saved = await asyncio.to_thread(appointments.set_outcome, await self._require(Action.VIEW_MEETINGS),
                                            target, AppointmentStatus(outcome))
        except NotAllowed:
            return rx.toast.error("You are not allowed to do that.")
        except appointments.AppointmentRefused as exc:
            await self._reload()
            return rx.toast.error(str(exc))
        await self._reload()
        return rx.toast.success(saved.message)

    @rx.event
    def open_late(self, meeting_id: str):
        subject = self._subject(_int(meeting_id) or 0)
        if not subject:
            return rx.toast.error("That meeting is no longer in the list.")
        self.late_id, self.late_subject = _int(meeting_id) or 0, subject
        self.late_minutes, self.late_note, self.late_error = "10", "", ""
        return None

    @rx.event
    def close_late(self):
        self.late_id = 0

    @rx.event
    def set_late_minutes(self, value: str):
        self.late_minutes, self.late_error = value, ""

    @rx.event
    def set_late_note(self, value: str):
        self.late_note = value
        self.late_error = "" if len(value.strip()) <= lateness.NOTE_MAX else \
            f"Keep the message to {lateness.NOTE_MAX} characters ({len(value.strip())} now)."

    @rx.event
    async def confirm_late(self):
        """Tell the client of the meeting chosen when the dialog opened (the server re-checks it)."""
        minutes = _int(self.late_minutes.strip())
        if minutes is None or not 1 <= minutes <= lateness.MAX_MINUTES:
            self.late_error = f"Enter the minutes, from 1 to {lateness.MAX_MINUTES}."
            return None
        if self.late_error:
            return None
        meeting_id, note = self.late_id, self.late_note
        try:
            principal = await self._require(Action.HOST_MEETINGS)
            in_room = await live.connected(f"meeting:{meeting_id}")
            message = await asyncio.to_thread(lateness.running_late, principal, meeting_id, minutes, note,
                                              client_in_room=in_room)
        except NotAllowed:
            self.late_id = 0
            return rx.toast.error("You are not allowed to do that.")
        except lateness.LateRefused as exc:
            self.late_error = str(exc)
            return None
        self.late_id = 0
        await self._reload()
        return rx.toast.success(message)

    @rx.event
    def open_cancel(self, meeting_id: str):
        subject = self._subject(_int(meeting_id) or 0)
        if not subject:
            return rx.toast.error("That meeting is no longer in the list.")
        self.cancel_id, self.cancel_subject = _int(meeting_id) or 0, subject
        self.cancel_reason, self.cancel_error = "", ""
        return None

    @rx.event
    def close_cancel(self):
        self.cancel_id = 0

    @rx.event
    def set_cancel_reason(self, value: str):
        """Kept whole (nothing is cut); a reason over the limit is flagged at once and refused."""
        self.cancel_reason = value
        self.cancel_error = "" if len(value.strip()) <= actions.REASON_MAX else \
            f"Use at most {actions.REASON_MAX:,} characters ({len(value.strip()):,} now)."

    @rx.event
    async def confirm_cancel(self):
        if not self.cancel_reason.strip():
            self.cancel_error = "Enter the reason; it is sent to the patient."
            return None
        if self.cancel_error:
            return None
        meeting_id, reason = self.cancel_id, self.cancel_reason
        self.cancel_id = 0
        return await self._act(lambda p: actions.cancel(p, meeting_id, reason))

    @rx.event
    async def reconnect(self):
        principal = await self._require(Action.CONNECT_OWN_ZOOM)
        return await start_zoom_connect(self, principal, principal.user_id)


live.on_change("practitioner", MeetingsState, lambda state, change: state._reload())
