"""Calendar page state: the days and practitioners shown (in the URL), laid out as a time grid
(1 px per minute in each day-and-practitioner column) and as a day-by-day agenda for phones."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import reflex as rx

from rxapp import live
from rxapp.clock import now
from rxapp.services.permissions import Action, NotAllowed, Principal
from rxapp.services.practice import profiles
from rxapp.services.scheduling import calendar
from rxapp.services.scheduling.calendar import CalendarAppointment, CalendarPractitioner, MeetingState, ZoomState
from rxapp.services.timezones import is_valid
from rxapp.state.auth import AuthState

SLOT_MINUTES = 30
DAY_MINUTES = 24 * 60
WORK_START, WORK_END = 7 * 60, 21 * 60  # the grid opens scrolled to 07:00; outside is shaded, still bookable
SLOT_TIMES = tuple(f"{m // 60:02d}:{m % 60:02d}" for m in range(0, DAY_MINUTES, SLOT_MINUTES))
VIEWS = {"week": 7, "day": 1}
ZOOM_LABELS = {ZoomState.CONNECTED: "Zoom connected", ZoomState.NEEDS_RECONNECT: "Zoom needs reconnect",
               ZoomState.NOT_CONNECTED: "Zoom not connected"}
# What fits a column's header (the full label is its tooltip and accessible name).
ZOOM_SHORT = {ZoomState.CONNECTED: "Zoom", ZoomState.NEEDS_RECONNECT: "Reconnect", ZoomState.NOT_CONNECTED: "No Zoom"}
POLL_MS = 60_000  # pushes are immediate (live.py); this only covers a lost push


def _int(text: str) -> int | None:
    return int(text) if text.strip().isdigit() else None


def _day_label(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


def first_day(anchor: date, view: str) -> date:
    """The first day shown: the anchor itself in the day view, its Monday in the week view."""
    return anchor - timedelta(days=anchor.weekday()) if view == "week" else anchor


def _lanes(items: list[tuple[int, int, int]]) -> dict[int, tuple[int, int]]:
    """(id, start minute, end minute) of one column -> id: (lane, lanes of its cluster), so that
    overlapping appointments stand side by side instead of on top of each other."""
    placed: dict[int, tuple[int, int]] = {}
    cluster: list[tuple[int, int]] = []  # (id, lane)
    lane_ends: list[int] = []
    cluster_end = -1

    def close() -> None:
        for item_id, lane in cluster:
            placed[item_id] = (lane, len(lane_ends))

    for item_id, start, end in sorted(items, key=lambda i: (i[1], i[2])):
        if start >= cluster_end and cluster:
            close()
            cluster, lane_ends = [], []
        lane = next((n for n, lane_end in enumerate(lane_ends) if lane_end <= start), len(lane_ends))
        if lane == len(lane_ends):
            lane_ends.append(end)
        else:
            lane_ends[lane] = end
        cluster.append((item_id, lane))
        cluster_end = max(cluster_end, end)
    if cluster:
        close()
    return placed


class CalendarState(AuthState):
    view: str = "week"
    day: str = ""  # the anchor day (ISO), the date picker's value
    chosen: list[str] = []  # practitioner ids shown, in order
    show_cancelled: bool = False
    timezone: str = "UTC"
    title: str = ""
    practitioner_options: list[dict[str, str]] = []
    columns: list[dict[str, str]] = []
    blocks: list[dict[str, str]] = []
    bands: list[dict[str, str]] = []  # published hours behind the appointments
    agenda: list[dict[str, str]] = []
    loaded: bool = False
    error: str = ""

    @rx.var
    def column_count(self) -> int:
        return max(1, len(self.columns))

    @rx.var
    def grid_min_width(self) -> str:
        return f"{max(1, len(self.columns)) * 7 + 4}em"

    @rx.event
    async def load(self):
        """on_load: the view from the URL (bookmarkable), then the appointments; watch for changes."""
        try:
            principal = await self._require(Action.VIEW_CALENDAR)
        except NotAllowed:
            return None
        params = self.router.url.query_parameters
        self.timezone = await asyncio.to_thread(profiles.viewer_timezone, principal)
        if not is_valid(self.timezone):
            self.timezone = "UTC"
        self.view = params.get("view", "week") if params.get("view") in VIEWS else "week"
        try:
            self.day = date.fromisoformat(params.get("date", "")).isoformat()
        except ValueError:
            self.day = self._today().isoformat()
        self.show_cancelled = params.get("cancelled") == "1"
        options = await asyncio.to_thread(_columns_of, principal)
        known = {str(p.id) for p in options}
        wanted = [i for i in params.get("p", "").split(",") if i in known]
        focus = _int(params.get("appointment", ""))
        if focus:  # a link to one appointment (e.g. from the Team page): its day and practitioner
            try:
                detail = await asyncio.to_thread(calendar.appointment_detail, principal, focus)
            except LookupError:
                detail = None
            if detail is not None:
                self.day = detail.start_at.astimezone(ZoneInfo(self.timezone)).date().isoformat()
                if str(detail.practitioner_id) in known and str(detail.practitioner_id) not in wanted:
                    wanted.insert(0, str(detail.practitioner_id))
        if not wanted:
            wanted = [str(principal.user_id)] if str(principal.user_id) in known else \
                [str(p.id) for p in options[:calendar.MAX_PRACTITIONERS]]
        self.chosen = wanted[:calendar.MAX_PRACTITIONERS]
        await self._reload(principal, options)
        await live.watch(f"practice:{principal.practice_id}", self.router.session.client_token)
        # Open the grid at 07:00 (working hours), not at midnight.
        return rx.call_script(f"(() => {{ const g = document.getElementById('calendar-scroll'); "
                              f"if (g) g.scrollTop = {WORK_START}; }})()")

    def _today(self) -> date:
        return now().astimezone(ZoneInfo(self.timezone)).date()

    def _anchor(self) -> date:
        try:
            return date.fromisoformat(self.day)
        except ValueError:
            return self._today()

    async def _reload(self, principal: Principal | None = None,
                      options: list[CalendarPractitioner] | None = None) -> None:
        if principal is None:
            try:
                principal = await self._require(Action.VIEW_CALENDAR)
            except NotAllowed:
                return
        if options is None:
            options = await asyncio.to_thread(_columns_of, principal)
        start = first_day(self._anchor(), self.view)
        ids = [int(i) for i in self.chosen]
        try:
            view = await asyncio.to_thread(calendar.week_view, principal, start, VIEWS[self.view], ids,
                                           self.timezone, self.show_cancelled)
        except ValueError as exc:
            self.error = str(exc)
            return
        self.error = ""
        chosen = set(self.chosen)
        self.practitioner_options = [{"id": str(p.id), "name": p.name, "zoom": ZOOM_LABELS[p.zoom],
                                      "chosen": "1" if str(p.id) in chosen else ""} for p in options]
        self._lay_out(view)
        self.loaded = True

    def _lay_out(self, view: calendar.WeekView) -> None:
        zone, today = ZoneInfo(view.timezone), self._today()
        index: dict[tuple[date, int], int] = {}
        columns: list[dict[str, str]] = []
        for day in view.days:
            for p in view.practitioners:
                index[(day, p.id)] = len(columns)
                columns.append({"key": f"{day.isoformat()}-{p.id}", "day": day.isoformat(),
                                "day_label": _day_label(day), "short": f"{day:%a} {day.day}",
                                "practitioner_id": str(p.id), "practitioner": p.name, "zoom": p.zoom,
                                "zoom_label": ZOOM_LABELS[p.zoom], "zoom_short": ZOOM_SHORT[p.zoom],
                                "today": "1" if day == today else "",
                                "busy": ""})
        names = {p.id: p for p in view.practitioners}
        per_column: dict[int, list[tuple[CalendarAppointment, int, int]]] = {}
        for a in view.appointments:
            local = a.start_at.astimezone(zone)
            column = index.get((local.date(), a.practitioner_id))
            if column is None:
                continue
            start = local.hour * 60 + local.minute
            end = min(DAY_MINUTES, start + max(a.duration_minutes, 15))
            per_column.setdefault(column, []).append((a, start, end))
        blocks: list[dict[str, str]] = []
        n = len(columns)
        for column, items in per_column.items():
            lanes = _lanes([(a.id, s, e) for a, s, e in items if a.status != "cancelled"] +
                           [(a.id, s, e) for a, s, e in items if a.status == "cancelled"])
            busy = {m // SLOT_MINUTES for a, s, e in items if a.status != "cancelled"
                    for m in range(s - s % SLOT_MINUTES, e, SLOT_MINUTES)}
            columns[column]["busy"] = "|" + "|".join(str(b) for b in sorted(busy)) + "|"
            for a, start, end in items:
                lane, count = lanes[a.id]
                blocks.append(self._block(a, names[a.practitioner_id], columns[column], column, n, lane, count,
                                          start, end))
        self.columns, self.blocks = columns, blocks
        self.bands = _bands(view, zone, index, columns)
        self.agenda = self._agenda(view, zone)
        first, last = view.days[0], view.days[-1]
        self.title = _day_label(first) + f" {first.year}" if len(view.days) == 1 else \
            f"{first.day} {first:%b} - {last.day} {last:%b} {last.year}"

    @staticmethod
    def _block(a: CalendarAppointment, p: CalendarPractitioner, column: dict[str, str], index: int, n: int,
               lane: int, lanes: int, start: int, end: int) -> dict[str, str]:
        when = f"{start // 60:02d}:{start % 60:02d}-{(start + a.duration_minutes) // 60 % 24:02d}:" \
               f"{(start + a.duration_minutes) % 60:02d}"
        mode = "Telehealth" if a.telehealth else "In person"
        zoom = zoom_note(a, p)
        cancelled = a.status == "cancelled"
        status = {"cancelled": "cancelled", "completed": "completed", "no_show": "no-show"}.get(
            a.status, "Confirmed" if a.confirmed else "")
        label = ", ".join(x for x in (f"{column['day_label']} {when}", column["practitioner"], a.client_name, mode,
                                      zoom, status) if x)
        return {"id": str(a.id), "client": a.client_name, "time": when, "mode": mode,
                "telehealth": "1" if a.telehealth else "", "cancelled": "1" if cancelled else "",
                "status": status, "zoom": zoom, "aria": label,
                "top": f"{start}px", "height": f"{max(end - start, 15)}px", "minutes": str(a.duration_minutes),
                "movable": "1" if a.movable else "",
                "left": f"calc(({index} + {lane} / {lanes}) * 100% / {n} + 2px)",
                "width": f"calc(100% / {n} / {lanes} - 4px)"}

    def _agenda(self, view: calendar.WeekView, zone: ZoneInfo) -> list[dict[str, str]]:
        """Day by day, each day's appointments in time order (phones; also read by screen readers)."""
        names = {p.id: p for p in view.practitioners}
        by_day: dict[date, list[CalendarAppointment]] = {d: [] for d in view.days}
        for a in view.appointments:
            by_day.setdefault(a.start_at.astimezone(zone).date(), []).append(a)
        items: list[dict[str, str]] = []
        for day in view.days:
            items.append({"kind": "day", "key": f"day-{day}", "label": _day_label(day), "id": ""})
            if not by_day[day]:
                items.append({"kind": "empty", "key": f"empty-{day}", "label": "No appointments", "id": ""})
            for a in by_day[day]:
                local = a.start_at.astimezone(zone)
                end = local + timedelta(minutes=a.duration_minutes)
                mode = "Telehealth" if a.telehealth else "In person"
                items.append({"kind": "appointment", "key": f"a-{a.id}", "id": str(a.id),
                              "label": f"{local:%H:%M}-{end:%H:%M}", "client": a.client_name,
                              "practitioner": names[a.practitioner_id].name, "mode": mode,
                              "telehealth": "1" if a.telehealth else "",
                              "cancelled": "1" if a.status == "cancelled" else "",
                              "confirmed": "1" if a.confirmed and a.status == "booked" else "",
                              "zoom": zoom_note(a, names[a.practitioner_id])})
        return items

    def _url(self) -> str:
        query = {"date": self.day, "view": self.view, "p": ",".join(self.chosen)}
        if self.show_cancelled:
            query["cancelled"] = "1"
        return f"/calendar?{urlencode(query, safe=',')}"

    async def _apply(self):
        await self._reload()
        return rx.call_script(f"window.history.replaceState(null, '', {json.dumps(self._url())})")

    @rx.event
    async def refresh(self):
        await self._reload()

    @rx.event
    async def set_view(self, value: str | list[str]):
        self.view = value if isinstance(value, str) and value in VIEWS else "week"
        return await self._apply()

    @rx.event
    async def set_day(self, value: str):
        try:
            self.day = date.fromisoformat(value).isoformat()
        except ValueError:
            return None  # a half-typed date in the picker: keep what is shown
        return await self._apply()

    @rx.event
    async def today(self):
        self.day = self._today().isoformat()
        return await self._apply()

    @rx.event
    async def step(self, direction: int):
        """Previous (-1) or Next (+1): a week or a day."""
        days = VIEWS[self.view] * (1 if direction >= 0 else -1)
        self.day = (self._anchor() + timedelta(days=days)).isoformat()
        return await self._apply()

    @rx.event
    async def toggle_practitioner(self, practitioner_id: str):
        """Show or hide one practitioner's column(s); at least one stays shown."""
        if practitioner_id in self.chosen:
            if len(self.chosen) > 1:
                self.chosen = [i for i in self.chosen if i != practitioner_id]
        elif _int(practitioner_id) is not None and len(self.chosen) < calendar.MAX_PRACTITIONERS:
            self.chosen = [*self.chosen, practitioner_id]
        return await self._apply()

    @rx.event
    async def set_show_cancelled(self, value: bool):
        self.show_cancelled = bool(value)
        return await self._apply()


BAND_LABELS = {"telehealth": "Telehealth hours", "in_person": "In-person hours",
               "both": "In-person or telehealth hours"}


def _bands(view: calendar.WeekView, zone: ZoneInfo, index: dict[tuple[date, int], int],
           columns: list[dict[str, str]]) -> list[dict[str, str]]:
    """The published hours as faint bands, one per column and window, in the viewer's zone; a window
    that crosses the viewer's midnight is cut into its two days."""
    bands: list[dict[str, str]] = []
    n = len(columns)
    for w in view.availability:
        begin, finish = w.start_at.astimezone(zone), w.end_at.astimezone(zone)
        while begin < finish:
            midnight = datetime.combine(begin.date() + timedelta(days=1), datetime.min.time(), zone)
            piece_end = min(finish, midnight)
            column = index.get((begin.date(), w.practitioner_id))
            if column is not None:
                top = begin.hour * 60 + begin.minute
                bottom = DAY_MINUTES if piece_end == midnight else piece_end.hour * 60 + piece_end.minute
                label = (f"{BAND_LABELS.get(w.mode, 'Hours')} {begin:%H:%M}-{piece_end:%H:%M}, "
                         f"{columns[column]['practitioner']}")
                bands.append({"key": f"{column}-{top}", "mode": w.mode, "label": label,
                              "short": BAND_LABELS.get(w.mode, "Hours"), "top": f"{top}px",
                              "height": f"{max(bottom - top, 1)}px",
                              "left": f"calc({column} * 100% / {n})", "width": f"calc(100% / {n})"})
            begin = piece_end
    return bands


def zoom_note(a: CalendarAppointment, p: CalendarPractitioner) -> str:
    """What a telehealth appointment says about its Zoom meeting ('' for in-person ones)."""
    if not a.telehealth or a.status == "cancelled":
        return ""
    if a.meeting == MeetingState.SCHEDULED:
        return "Zoom meeting scheduled" + ("" if p.zoom == ZoomState.CONNECTED else f" ({ZOOM_LABELS[p.zoom]})")
    # What the practitioner must do comes first: it is why the meeting waits (booked meanwhile, it
    # is marked needs attention until they connect, then created by the sync job).
    if p.zoom == ZoomState.NOT_CONNECTED:
        return f"Zoom meeting pending: {p.name} must connect Zoom"
    if p.zoom == ZoomState.NEEDS_RECONNECT:
        return f"Zoom meeting pending: {p.name} must reconnect Zoom"
    if a.meeting == MeetingState.NEEDS_ATTENTION:
        return "Zoom meeting needs attention"
    return "Zoom meeting pending"


def _columns_of(principal: Principal) -> list[CalendarPractitioner]:
    """The practitioners the calendar may show as columns: not those invited who have not joined yet."""
    return [p for p in calendar.practitioners(principal) if p.joined]


async def _on_change(state: CalendarState, change: object) -> None:
    await state._reload()


live.on_change("practice", CalendarState, _on_change)
