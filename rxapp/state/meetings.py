"""Meetings page: the list (filters in the URL), row actions, the launch prompt."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from urllib.parse import urlencode

import reflex as rx

from rxapp import live
from rxapp.services import auth, meeting_list, profiles
from rxapp.services.clock import now
from rxapp.services.meetings import actions
from rxapp.services.meetings.schedule import zoom_problem
from rxapp.services.permissions import Action, NotAllowed, Principal, can
from rxapp.services.practice_settings import get_settings_view
from rxapp.services.timezones import format_local
from rxapp.services.zoom.errors import ZoomError, ZoomNotConnected
from rxapp.state.auth import AuthState
from rxapp.state.zoom_connect import start_zoom_connect

LAUNCH_WINDOW = timedelta(minutes=15)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


class MeetingsState(AuthState):
    rows: list[dict[str, str]] = []
    _row_ids: list[int] = []
    # Keyset pages: the cursor of the page shown (page 1 has none), no total is counted.
    page: int = 1
    has_previous: bool = False
    has_next: bool = False
    _after: str = ""
    _before: str = ""
    _next_cursor: str = ""
    _previous_cursor: str = ""
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
    cancel_index: int = -1
    cancel_reason: str = ""
    cancel_error: str = ""
    timezone: str = "UTC"

    @rx.var
    def has_live_rows(self) -> bool:
        """Rows that Zoom or the clock may change soon: the page refreshes itself meanwhile."""
        return any(r["status_key"] in ("pending_sync", "in_progress", "scheduled") for r in self.rows)

    @rx.event
    async def load(self):
        """on_load: read the filters from the URL (bookmarkable), then the page of meetings."""
        params = self.router.url.query_parameters
        self.patient, self.status = params.get("patient", ""), params.get("status", "")
        self.search, self.practitioner = params.get("q", "")[:100], params.get("practitioner", "")
        self.page, self.newest_first = max(1, _int(params.get("page")) or 1), params.get("sort") == "newest"
        self._after, self._before = params.get("after", "")[:40], params.get("before", "")[:40]
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
            search=self.search, page_size=20, newest_first=self.newest_first, period=self.period,
            # Filters changed set page 1: the first page, whatever cursor came before.
            after=self._after if self.page > 1 else "", before=self._before if self.page > 1 else "")
        result, patients, extras = await asyncio.gather(
            asyncio.to_thread(meeting_list.list_meetings, principal, filters),
            asyncio.to_thread(meeting_list.patients_for_filter, principal, _int(self.practitioner)),
            asyncio.to_thread(self._page_context, principal))
        self.timezone, self.zoom_problem, practitioners = extras
        self.needs_reconnect = self.zoom_problem.startswith("Error refreshing access token")
        self.sees_practice = can(principal, Action.VIEW_PRACTICE_MEETINGS)
        self.has_previous, self.has_next = result.has_previous, result.has_next
        self._previous_cursor, self._next_cursor = result.previous_cursor, result.next_cursor
        if not result.has_previous:
            self.page, self._after, self._before = 1, "", ""
        self.patient_options = [{"value": str(i), "label": n} for i, n in patients]
        self.practitioner_options = [{"value": str(i), "label": n} for i, n in practitioners]
        session_token = self._session_token()
        self._row_ids = [r.id for r in result.rows]
        self.rows = [self._display(principal, r, session_token) for r in result.rows]
        self._launch(principal, result.rows, session_token)

    @staticmethod
    def _page_context(principal: Principal) -> tuple[str, str, list[tuple[int, str]]]:
        tz = profiles.viewer_timezone(principal)
        problem = zoom_problem(principal) if can(principal, Action.HOST_MEETINGS) else ""
        practitioners: list[tuple[int, str]] = []
        if can(principal, Action.PRACTICE_SETTINGS):
            practitioners = [(p.user_id, p.name) for p in get_settings_view(principal)[2]]
        return tz, problem, practitioners

    def _display(self, principal: Principal, row: meeting_list.MeetingRow, session_token: str) -> dict[str, str]:
        is_host = row.practitioner_id == principal.user_id
        live = row.status in ("scheduled", "in_progress")
        startable = is_host and row.has_zoom and live
        return {
            "when": format_local(row.start_at, self.timezone), "patient": row.patient_name, "topic": row.topic,
            "description": row.description, "practitioner": row.practitioner_name,
            "status": meeting_list.DISPLAY_STATUSES[row.status], "status_key": row.status,
            "detail": row.cancel_reason if row.status == "cancelled" else row.sync_error,
            "start_href": self._start_href(row.id, session_token) if startable else "",
            "waiting": "1" if row.client_waiting else "",
            "can_end": "1" if live and row.status != "pending_sync" else "",
            "can_cancel": "1" if row.status in ("scheduled", "pending_sync", "needs_attention") else "",
            "can_delete": "1" if row.status in ("cancelled", "ended") else "",
        }

    @staticmethod
    def _start_href(meeting_id: int, session_token: str) -> str:
        return f"/meetings/{meeting_id}/start?t={auth.request_token(session_token, f'start:{meeting_id}')}"

    def _launch(self, principal: Principal, rows: list[meeting_list.MeetingRow], session_token: str) -> None:
        """From 15 minutes before the start: prompt the host to launch the session."""
        self.launch_prompt = self.launch_href = ""
        for row in rows:
            soon = row.start_at - LAUNCH_WINDOW <= now() <= row.start_at + timedelta(minutes=row.duration_minutes)
            if row.practitioner_id == principal.user_id and row.status == "scheduled" and row.has_zoom and soon:
                self.launch_prompt = (f"Your session with {row.patient_name} starts "
                                      f"{format_local(row.start_at, self.timezone, '%H:%M')}.")
                self.launch_href = self._start_href(row.id, session_token)
                return

    def _url(self) -> str:
        query = {k: v for k, v in {"q": self.search, "patient": self.patient, "status": self.status,
                                   "practitioner": self.practitioner,
                                   "when": "" if self.period == "upcoming" else self.period,
                                   "sort": "newest" if self.newest_first else "",
                                   "page": str(self.page) if self.page > 1 else "",
                                   "after": self._after if self.page > 1 else "",
                                   "before": self._before if self.page > 1 else ""}.items() if v}
        return "/meetings" + (f"?{urlencode(query)}" if query else "")

    async def _apply_filters(self):
        await self._reload()
        return rx.call_script(f"window.history.replaceState(null, '', {json.dumps(self._url())})")

    @rx.event
    async def set_search(self, value: str):
        self.search, self.page = value[:100], 1
        return await self._apply_filters()

    @rx.event
    async def set_patient(self, value: str):
        self.patient, self.page = ("" if value == "all" else value), 1
        return await self._apply_filters()

    @rx.event
    async def set_status(self, value: str):
        self.status, self.page = ("" if value == "all" else value), 1
        return await self._apply_filters()

    @rx.event
    async def set_practitioner(self, value: str):
        self.practitioner, self.patient, self.page = ("" if value == "all" else value), "", 1
        return await self._apply_filters()

    @rx.event
    async def set_period(self, value: str):
        self.period, self.page = (value if value in meeting_list.PERIODS else "upcoming"), 1
        self.newest_first = self.period == "past"
        return await self._apply_filters()

    @rx.event
    async def toggle_sort(self):
        self.newest_first, self.page = not self.newest_first, 1
        return await self._apply_filters()

    @rx.event
    async def next_page(self):
        if self.has_next and self._next_cursor:
            self.page, self._after, self._before = self.page + 1, self._next_cursor, ""
        return await self._apply_filters()

    @rx.event
    async def previous_page(self):
        if self.has_previous and self._previous_cursor:
            self.page, self._after, self._before = max(1, self.page - 1), "", self._previous_cursor
        return await self._apply_filters()

    @rx.event
    async def refresh(self):
        await self._reload()

    @rx.event(background=True)
    async def refresh_soon(self):
        """After Start meeting opened Zoom in a new tab: show In progress here."""
        await asyncio.sleep(1.5)
        async with self:
            await self._reload()

    def _meeting_id(self, index: int) -> int:
        if not 0 <= index < len(self._row_ids):
            raise NotAllowed("unknown row")
        return self._row_ids[index]

    async def _act(self, work: Callable[[Principal], Awaitable[actions.ActionResult]]):
        """Run a row action and turn its outcome into a toast."""
        try:
            result = await work(await self._require(Action.HOST_MEETINGS))
        except NotAllowed:
            return rx.toast.error("You are not allowed to do that.")
        except actions.MeetingActionRefused as exc:
            return rx.toast.error(str(exc))
        except ZoomNotConnected as exc:
            return rx.toast.error(f"{exc}. Reconnect Zoom on the Meeting tab of your profile.")
        except ZoomError as exc:
            return rx.toast.error(f"Zoom could not be reached ({exc.message}). Nothing was changed; try again.")
        await self._reload()
        return rx.toast.warning(result.message) if result.warning else rx.toast.success(result.message)

    @rx.event
    async def end_meeting(self, index: int):
        meeting_id = self._meeting_id(index)
        return await self._act(lambda p: actions.end(p, meeting_id))

    @rx.event
    async def delete_meeting(self, index: int):
        meeting_id = self._meeting_id(index)
        return await self._act(lambda p: asyncio.to_thread(actions.delete, p, meeting_id))

    @rx.event
    def open_cancel(self, index: int):
        self.cancel_index, self.cancel_reason, self.cancel_error = index, "", ""

    @rx.event
    def close_cancel(self):
        self.cancel_index = -1

    @rx.event
    def set_cancel_reason(self, value: str):
        self.cancel_reason, self.cancel_error = value[: actions.REASON_MAX + 1], ""

    @rx.event
    async def confirm_cancel(self):
        if not self.cancel_reason.strip():
            self.cancel_error = "Enter the reason; it is sent to the patient."
            return None
        meeting_id, reason = self._meeting_id(self.cancel_index), self.cancel_reason
        self.cancel_index = -1
        return await self._act(lambda p: actions.cancel(p, meeting_id, reason))

    @rx.event
    async def reconnect(self):
        principal = await self._require(Action.CONNECT_OWN_ZOOM)
        return await start_zoom_connect(self, principal, principal.user_id)


live.on_change("practitioner", MeetingsState, lambda state, change: state._reload())
